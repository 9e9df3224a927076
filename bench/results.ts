import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { wholeNumber } from '../ops/cli-args';

/** One measured figure, as bench/results.json holds it. */
export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The figure of the baseline measured in the same run, where the figure is a ratio against one. */
  readonly baseline?: number;
  /** `value` over `baseline`, where the figure compares the kit with a baseline. */
  readonly ratio?: number;
  /** The target. */
  readonly budget?: number;
  /** The target is a floor (value >= budget) rather than a ceiling. */
  readonly atLeast?: boolean;
  readonly note?: string;
}

export const RESULTS_FILE = path.join(__dirname, 'results.json');

/** A bench step's command line, named `name`: a bad flag is one line on stderr and exit code 2. */
function stepCommand(name: string): Command {
  return new Command()
    .name(name)
    .configureOutput({ writeErr: (text) => process.stderr.write(`${text.split('\n')[0]}\n`) })
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));
}

/** The flags of a bench step that runs a workload: `--orders` per run and `--runs` of each setup. */
export function workloadFlags(name: string, defaults = { orders: 1000, runs: 2 }): { orders: number; runs: number } {
  return stepCommand(name)
    .option('--orders <n>', 'orders per run', wholeNumber, defaults.orders)
    .option('--runs <n>', 'runs of each setup, alternated (the median is kept)', wholeNumber, defaults.runs)
    .parse(process.argv)
    .opts<{ orders: number; runs: number }>();
}

/** The `--runs` flag of a bench step that takes no other, described by `description`. */
export function runsFlag(name: string, description: string, defaultRuns: number): number {
  return stepCommand(name)
    .option('--runs <n>', description, wholeNumber, defaultRuns)
    .parse(process.argv)
    .opts<{ runs: number }>().runs;
}

/** The middle value (upper middle for an even count). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/**
 * The median of the ratios of `values` to `baselines` measured side by side, pair by pair: steadier than the ratio
 * of two medians when the machine's pace drifts from pair to pair.
 */
export function medianOfRatios(values: readonly number[], baselines: readonly number[]): number {
  if (values.length !== baselines.length) throw new Error(`${values.length} values do not pair with ${baselines.length}`);
  return median(values.map((value, index) => value / baselines[index]));
}

/** `value` to two decimals. */
export function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * A figure that is the ratio of two measured in the same run: `value` over `baseline`, both kept to two decimals,
 * the baseline named beside the ratio, with its target when it has one.
 */
export function ratioResult(
  name: string,
  value: number,
  baseline: number,
  note: string,
  target: Pick<BenchResult, 'budget' | 'atLeast'> = {},
): BenchResult {
  const ratio = round(value / baseline);
  return { name, value: ratio, unit: 'x', baseline: round(baseline), ratio, ...target, note };
}

/** Whether a figure keeps its budget (true when it has none). */
export function withinBudget(result: BenchResult): boolean {
  if (result.budget === undefined) return true;
  return result.atLeast ? result.value >= result.budget : result.value <= result.budget;
}

/**
 * The order in which to run `items` side by side in round `round`: each of their orders in turn, round after round,
 * so over a few rounds none runs first, or right after another, more often than the rest. Meant for a handful of
 * items (their orders number n!).
 */
export function turningOrder<T>(items: readonly T[], round: number): T[] {
  const orders: T[][] = [];
  const permute = (chosen: T[], left: readonly T[]) => {
    if (left.length === 0) orders.push(chosen);
    for (const [index, item] of left.entries()) {
      permute([...chosen, item], [...left.slice(0, index), ...left.slice(index + 1)]);
    }
  };
  permute([], items);
  return orders[round % orders.length];
}

/**
 * `previous` with `results` merged in. A step run again brings all its figures: they replace its earlier ones as a
 * block, in the step's own order (a step may sort them, slowest first), where the first of them stood, so the report
 * keeps its order; a step with no figure in `previous` goes at the end.
 */
export function mergeResults(previous: readonly BenchResult[], results: readonly BenchResult[]): BenchResult[] {
  const names = new Set(results.map((result) => result.name));
  const first = previous.findIndex((old) => names.has(old.name));
  const kept = previous.filter((old) => !names.has(old.name));
  const at = first < 0 ? kept.length : previous.slice(0, first).filter((old) => !names.has(old.name)).length;
  return [...kept.slice(0, at), ...results, ...kept.slice(at)];
}

/**
 * Merges `results` into bench/results.json (see {@link mergeResults}) and returns the names of the figures that
 * missed their budget.
 */
export function writeResults(results: readonly BenchResult[]): string[] {
  let previous: BenchResult[] = [];
  try {
    previous = JSON.parse(readFileSync(RESULTS_FILE, 'utf8'));
  } catch {
    previous = [];
  }
  writeFileSync(RESULTS_FILE, `${JSON.stringify(mergeResults(previous, results), null, 2)}\n`);
  return results.filter((result) => !withinBudget(result)).map((result) => result.name);
}

/**
 * Writes `results` (see {@link writeResults}) and names the figures that missed their target. Run alone, a bench
 * script then exits 1; under `npm run bench` a miss is a figure of the report, and only a broken step fails.
 */
export function finish(results: readonly BenchResult[], why = ''): void {
  const missed = writeResults(results);
  if (missed.length === 0) return;
  console.error(`Missed: ${missed.join(', ')}${why}`);
  if (!process.env.EDA_KIT_BENCH_ORCHESTRATED) process.exitCode = 1;
}
