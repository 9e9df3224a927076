import type { FunctionOutput } from './function-runtime';

/** Sums and samples of the EMF metrics each function printed. */
export class MetricsCollector {
  private readonly totals = new Map<string, Map<string, number>>();
  private readonly samples = new Map<string, Map<string, number[]>>();

  /** Reads one line a function printed; lines that are not EMF are ignored. */
  public readonly collect = (output: FunctionOutput, label = output.functionName): void => {
    const emf = output.json?._aws as { CloudWatchMetrics?: { Metrics?: { Name: string }[] }[] } | undefined;
    if (!emf?.CloudWatchMetrics) return;
    for (const directive of emf.CloudWatchMetrics) {
      for (const { Name } of directive.Metrics ?? []) {
        const values = [output.json?.[Name]].flat().map(Number).filter(Number.isFinite);
        const sums = this.totals.get(label) ?? new Map<string, number>();
        sums.set(Name, (sums.get(Name) ?? 0) + values.reduce((a, b) => a + b, 0));
        this.totals.set(label, sums);
        const samples = this.samples.get(label) ?? new Map<string, number[]>();
        const metricSamples = samples.get(Name) ?? [];
        for (const value of values) metricSamples.push(value);
        samples.set(Name, metricSamples);
        this.samples.set(label, samples);
      }
    }
  };

  /** The sum of `metric` for `label`. */
  public sum(label: string, metric: string): number {
    return this.totals.get(label)?.get(metric) ?? 0;
  }

  /** The sums of every metric of `label`, by metric name. */
  public sums(label: string): Record<string, number> {
    return Object.fromEntries(this.totals.get(label) ?? []);
  }

  /** The sum of every metric of every function: it moves while anything is being processed. */
  public total(): number {
    let sum = 0;
    for (const sums of this.totals.values()) for (const value of sums.values()) sum += value;
    return sum;
  }

  /** The `p`th percentile (0-100) of the values of `metric` for `label`, or undefined without values. */
  public percentile(label: string, metric: string, p: number): number | undefined {
    return percentileOf([...(this.samples.get(label)?.get(metric) ?? [])], p);
  }

  /** The `p`th percentile (0-100) of the values of `metric` over every function, or undefined without values. */
  public percentileOfAll(metric: string, p: number): number | undefined {
    return percentileOf(
      [...this.samples.values()].flatMap((samples) => samples.get(metric) ?? []),
      p,
    );
  }
}

function percentileOf(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)];
}
