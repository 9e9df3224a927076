/** A metric as CloudWatch identifies it: namespace, name and the exact set of dimensions. */
export interface MetricIdentity {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** The key of a metric in the store: the same metric, whatever the order its dimensions were given in. */
export function metricKey(metric: MetricIdentity): string {
  const dimensions = Object.entries(metric.dimensions)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
  return `${metric.namespace}|${metric.metricName}|${dimensions}`;
}

/** A statistic the local store computes: CloudWatch's `Sum`, `Average`, `Minimum`, `Maximum`, `SampleCount`, `pNN`. */
export type Statistic =
  | { readonly kind: 'Sum' | 'Average' | 'Minimum' | 'Maximum' | 'SampleCount' }
  | { readonly kind: 'percentile'; readonly percentile: number };

/** Parses a CloudWatch statistic (`Sum`, `p99`, `p99.9`); undefined for those not computed locally (`tm99`, `IQR`). */
export function parseStatistic(stat: string): Statistic | undefined {
  switch (stat) {
    case 'Sum':
    case 'Average':
    case 'Minimum':
    case 'Maximum':
    case 'SampleCount':
      return { kind: stat };
  }
  const percentile = /^p(\d{1,2}(\.\d+)?|100)$/.exec(stat);
  return percentile ? { kind: 'percentile', percentile: Number(percentile[1]) } : undefined;
}

/** What one sample interval observed of one metric. */
interface Datapoint {
  /** When the interval closed, in epoch milliseconds. */
  readonly at: number;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** The values, for percentiles: all of them, or an even sample when there were more than the store keeps. */
  readonly values: readonly number[];
}

interface Series {
  readonly points: Datapoint[];
  pending?: { count: number; sum: number; min: number; max: number; values: number[] };
}

/** Limits of a {@link MetricStore}. */
export interface MetricStoreOptions {
  /** How long datapoints are kept, in milliseconds. */
  readonly retentionMs: number;
  /** The most metrics kept; observations of further metrics are dropped (and counted). @default 5000 */
  readonly maxSeries?: number;
  /** The most values kept per datapoint for percentiles (a reservoir sample beyond). @default 128 */
  readonly valuesPerDatapoint?: number;
}

/**
 * The local cloud's CloudWatch: observations of metrics, closed into one datapoint per metric every sample
 * interval ({@link tick}), kept for `retentionMs`, and read back as CloudWatch's statistics over any window. Memory
 * is bounded: datapoints age out, percentiles keep a sample of at most `valuesPerDatapoint` values per datapoint,
 * and past `maxSeries` metrics new ones are dropped.
 */
export class MetricStore {
  private readonly series = new Map<string, Series>();
  private readonly maxSeries: number;
  private readonly valuesPerDatapoint: number;
  /** Observations dropped because the store already held `maxSeries` metrics. */
  public droppedObservations = 0;

  constructor(private readonly options: MetricStoreOptions) {
    this.maxSeries = options.maxSeries ?? 5_000;
    this.valuesPerDatapoint = options.valuesPerDatapoint ?? 128;
  }

  /** Records one value of the metric with key `key` in the current interval. */
  public observe(key: string, value: number): void {
    if (!Number.isFinite(value)) return;
    let series = this.series.get(key);
    if (!series) {
      if (this.series.size >= this.maxSeries) {
        this.droppedObservations++;
        return;
      }
      series = { points: [] };
      this.series.set(key, series);
    }
    const pending = series.pending;
    if (!pending) {
      series.pending = { count: 1, sum: value, min: value, max: value, values: [value] };
      return;
    }
    pending.count++;
    pending.sum += value;
    if (value < pending.min) pending.min = value;
    if (value > pending.max) pending.max = value;
    if (pending.values.length < this.valuesPerDatapoint) pending.values.push(value);
    else {
      // Reservoir sampling: every value has the same chance to be kept for the percentiles.
      const slot = Math.floor(Math.random() * pending.count);
      if (slot < this.valuesPerDatapoint) pending.values[slot] = value;
    }
  }

  /** Closes the current interval at `now`: what each metric observed becomes one datapoint; old ones age out. */
  public tick(now: number): void {
    const oldest = now - this.options.retentionMs;
    for (const series of this.series.values()) {
      if (series.pending) {
        series.points.push({ at: now, ...series.pending });
        series.pending = undefined;
      }
      let expired = 0;
      while (expired < series.points.length && series.points[expired].at < oldest) expired++;
      if (expired > 0) series.points.splice(0, expired);
    }
  }

  /** Whether the metric has any datapoint. */
  public hasData(key: string): boolean {
    return (this.series.get(key)?.points.length ?? 0) > 0;
  }

  /** `statistic` over the datapoints of the metric closed in (`from`, `to`], or undefined without any. */
  public statistic(key: string, statistic: Statistic, from: number, to: number): number | undefined {
    const points = this.series.get(key)?.points;
    if (!points) return undefined;
    let index = firstAfter(points, from);
    const window: Datapoint[] = [];
    for (; index < points.length && points[index].at <= to; index++) window.push(points[index]);
    return aggregate(window, statistic);
  }

  /**
   * `statistic` of the metric per period of `periodMs` (aligned to the epoch, as CloudWatch aligns them) from the
   * period that holds `from` to the one that holds `to`: one value per period, null where it had no datapoint.
   */
  public periods(
    key: string,
    statistic: Statistic,
    periodMs: number,
    from: number,
    to: number,
  ): { start: number; values: (number | null)[] } {
    const start = Math.floor(from / periodMs) * periodMs;
    const count = Math.max(0, Math.floor(to / periodMs) * periodMs - start) / periodMs + 1;
    const values: (number | null)[] = new Array(count).fill(null);
    const points = this.series.get(key)?.points ?? [];
    // A datapoint closed at `at` holds what was observed just before: it counts in the period `at - 1` falls in.
    let index = firstAfter(points, start);
    for (let period = 0; period < count; period++) {
      const end = start + (period + 1) * periodMs;
      const inPeriod: Datapoint[] = [];
      for (; index < points.length && points[index].at <= end; index++) inPeriod.push(points[index]);
      values[period] = aggregate(inPeriod, statistic) ?? null;
    }
    return { start, values };
  }

  /** How long datapoints are kept, in milliseconds. */
  public get retentionMs(): number {
    return this.options.retentionMs;
  }

  /** How many metrics the store holds. */
  public get size(): number {
    return this.series.size;
  }
}

/** The index of the first datapoint closed after `time` (binary search: datapoints are in time order). */
function firstAfter(points: readonly Datapoint[], time: number): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (points[middle].at <= time) low = middle + 1;
    else high = middle;
  }
  return low;
}

function aggregate(points: readonly Datapoint[], statistic: Statistic): number | undefined {
  if (points.length === 0) return undefined;
  switch (statistic.kind) {
    case 'Sum':
      return points.reduce((sum, point) => sum + point.sum, 0);
    case 'SampleCount':
      return points.reduce((sum, point) => sum + point.count, 0);
    case 'Average':
      return points.reduce((sum, point) => sum + point.sum, 0) / points.reduce((sum, point) => sum + point.count, 0);
    case 'Minimum':
      return Math.min(...points.map((point) => point.min));
    case 'Maximum':
      return Math.max(...points.map((point) => point.max));
    case 'percentile': {
      const values = points.flatMap((point) => point.values).sort((a, b) => a - b);
      const rank = Math.ceil((statistic.percentile / 100) * values.length) - 1;
      return values[Math.min(values.length - 1, Math.max(0, rank))];
    }
  }
}
