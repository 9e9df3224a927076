import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import Table from 'cli-table3';
import { Command, InvalidArgumentError } from 'commander';
import { wholeNumber } from '../ops/cli-args';
import type { WorkloadReport } from '../workload/order-workload';
import { type BenchResult, finish, median, ratioResult, round } from './results';

/**
 * The local cloud, measured through its CLI exactly as `npm start` runs it: seconds from start to the first event
 * processed; end-to-end orders per second with all five consumers, at each workload size (median of `--runs`
 * runs), with latency from publish to effect; how throughput holds as the workload grows; and the CPU time of each
 * part of the local cloud (emulators, functions, pollers) per order, which says where the time goes.
 */
/** The JSON report of one `npm start` run. */
export interface LocalRun extends WorkloadReport {
  readonly firstEventSeconds: number;
}

const root = path.resolve(__dirname, '..');

function orderCounts(value: string): number[] {
  const counts = value.split(',').map(Number);
  if (counts.some((count) => !Number.isInteger(count) || count < 1))
    throw new InvalidArgumentError(`expected whole numbers of 1 or more, separated by commas, got '${value}'`);
  return counts;
}

/** One `npm start` run of `orders` orders, with `flags` of workload/start.ts besides; its JSON report. */
export function runOnce(orders: number, flags: readonly string[] = []): LocalRun {
  const jsonFile = path.join(tmpdir(), `eda-kit-local-${process.pid}-${orders}.json`);
  try {
    execFileSync(
      process.execPath,
      ['--import', 'tsx', 'workload/start.ts', '--orders', String(orders), '--json', jsonFile, ...flags],
      { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    return JSON.parse(readFileSync(jsonFile, 'utf8'));
  } finally {
    rmSync(jsonFile, { force: true });
  }
}

/** Measures each workload size `runs` times; large sizes (10,000 orders and up) once, as they take minutes. */
export function measureLocal(counts: readonly number[], runs: number): BenchResult[] {
  const results: BenchResult[] = [];
  const throughput = new Map<number, number>();
  for (const orders of counts) {
    const runsHere = orders >= 10_000 ? 1 : runs;
    const reports: LocalRun[] = [];
    for (let run = 0; run < runsHere; run++) {
      console.log(`local: ${orders} orders, run ${run + 1} of ${runsHere}...`);
      reports.push(runOnce(orders));
    }
    const lost = reports.reduce((sum, report) => sum + report.lost, 0);
    const duplicated = reports.reduce((sum, report) => sum + report.duplicatedEffects, 0);
    if (lost > 0 || duplicated > 0)
      throw new Error(`${orders} orders: ${lost} lost, ${duplicated} duplicated effects: a bug, not a figure`);
    const ordersPerSecond = median(reports.map((report) => report.ordersPerSecond));
    throughput.set(orders, ordersPerSecond);
    const of = `median of ${runsHere} run(s)`;
    results.push(
      {
        name: `local.ordersPerSecond.${orders}`,
        value: round(ordersPerSecond),
        unit: 'orders/s',
        ...(orders === 1000 ? { budget: 300, atLeast: true } : {}),
        note: `${of}, all five consumers, nothing lost or duplicated; ${reports.map((r) => `${r.seconds.toFixed(1)} s`).join(', ')} end to end`,
      },
      {
        name: `local.latencyMs.p50.${orders}`,
        value: round(median(reports.map((report) => report.latencyMs.p50 ?? 0))),
        unit: 'ms',
        note: `${of}: publish to effect, over every record of every consumer`,
      },
      {
        name: `local.latencyMs.p99.${orders}`,
        value: round(median(reports.map((report) => report.latencyMs.p99 ?? 0))),
        unit: 'ms',
        note: `${of}: publish to effect, over every record of every consumer`,
      },
    );
    if (orders === counts[0]) {
      const cpu = reports[0].cpuSecondsByPart ?? {};
      const cpuMsPerOrder = (seconds: number) => round((seconds * 1000) / orders);
      results.push(
        {
          name: 'local.firstEventSeconds',
          value: round(median(reports.map((report) => report.firstEventSeconds))),
          unit: 's',
          budget: 10,
        },
        {
          name: 'local.cpuMsPerOrder',
          value: cpuMsPerOrder(Object.values(cpu).reduce((a, b) => a + b, 0)),
          unit: 'ms',
          note: Object.entries(cpu)
            .sort(([, a], [, b]) => b - a)
            .map(([part, seconds]) => `${part} ${cpuMsPerOrder(seconds)}`)
            .join(', '),
        },
      );
    }
  }
  const small = throughput.get(1000);
  const large = throughput.get(50_000);
  if (small !== undefined && large !== undefined) {
    results.push(
      ratioResult('local.scaling.50kVs1k', large, small, 'orders/s at 50,000 orders over orders/s at 1,000', {
        budget: 0.8,
        atLeast: true,
      }),
    );
  }
  return results;
}

function main(): void {
  const flags = new Command()
    .name('npm run bench:local --')
    .option('--orders <counts>', 'workload sizes, separated by commas', orderCounts, [1000])
    .option('--runs <n>', 'runs per size under 10,000 orders (the median is kept)', wholeNumber, 3)
    .configureOutput({ writeErr: (text) => process.stderr.write(`${text.split('\n')[0]}\n`) })
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .parse(process.argv)
    .opts<{ orders: number[]; runs: number }>();
  reportResults(measureLocal(flags.orders, flags.runs));
}

/** Prints `results` as a table, after the machine they were measured on, and writes them (see `finish`). */
export function reportResults(results: readonly BenchResult[]): void {
  const table = new Table({
    head: ['figure', 'value', 'target', 'note'],
    style: { head: [], border: [] },
    colWidths: [44, 18, 10, 80],
    wordWrap: true,
  });
  for (const r of results)
    table.push([
      r.name,
      `${r.value} ${r.unit}`,
      r.budget === undefined ? '' : `${r.atLeast ? '>=' : '<='} ${r.budget}`,
      r.note ?? '',
    ]);
  console.log(`machine: ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString()}`);
  console.log(table.toString());
  finish(results);
}

if (require.main === module) main();
