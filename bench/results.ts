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

/** The flags of a bench step that runs a workload: `--orders` per run and `--runs` of each setup. */
export function workloadFlags(name: string, defaults = { orders: 1000, runs: 2 }): { orders: number; runs: number } {
  return new Command()
    .name(name)
    .option('--orders <n>', 'orders per run', wholeNumber, defaults.orders)
    .option('--runs <n>', 'runs of each setup, alternated (the median is kept)', wholeNumber, defaults.runs)
    .configureOutput({ writeErr: (text) => process.stderr.write(`${text.split('\n')[0]}\n`) })
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .parse(process.argv)
    .opts<{ orders: number; runs: number }>();
}

/** The middle value (upper middle for an even count). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
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
 * Merges `results` into bench/results.json (a figure of the same name is replaced, others are kept) and returns
 * the names of the figures that missed their budget.
 */
export function writeResults(results: readonly BenchResult[]): string[] {
  let previous: BenchResult[] = [];
  try {
    previous = JSON.parse(readFileSync(RESULTS_FILE, 'utf8'));
  } catch {
    previous = [];
  }
  const merged = [...previous.filter((old) => !results.some((r) => r.name === old.name)), ...results];
  writeFileSync(RESULTS_FILE, `${JSON.stringify(merged, null, 2)}\n`);
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
