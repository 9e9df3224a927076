import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { type BenchResult, writeResults } from './results';

/**
 * The local cloud's budgets, measured through its CLI exactly as `npm start` runs it: seconds from start to the
 * first event processed, and end-to-end orders per second with all five consumers. The CPU time of each part of
 * the local cloud (emulators, functions, pollers), per order, says where the time goes.
 */
const { values: flags } = parseArgs({ options: { orders: { type: 'string', default: '1000' } } });
const orders = Number(flags.orders);
if (!Number.isInteger(orders) || orders < 1) {
  console.error(`--orders must be a whole number of 1 or more, got ${flags.orders}`);
  process.exit(2);
}
const root = path.resolve(__dirname, '..');
const jsonFile = path.join(tmpdir(), `eda-kit-local-${process.pid}.json`);
const started = Date.now();
execFileSync(process.execPath, ['--import', 'tsx', 'local/start.ts', '--orders', String(orders), '--json', jsonFile], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
const wallSeconds = (Date.now() - started) / 1000;
const report = JSON.parse(readFileSync(jsonFile, 'utf8'));
const cpu = (report.cpuSecondsByPart ?? {}) as Record<string, number>;
const cpuMsPerOrder = (seconds: number) => round((seconds * 1000) / orders);

const results: BenchResult[] = [
  { name: 'local.firstEventSeconds', value: round(report.firstEventSeconds), unit: 's', budget: 10 },
  {
    name: `local.ordersPerSecond.${orders}`,
    value: round(report.ordersPerSecond),
    unit: 'orders/s',
    budget: 300,
    atLeast: true,
    note: `${report.seconds.toFixed(1)} s end to end (${report.publishSeconds.toFixed(1)} s publishing); lost ${report.lost}, duplicated effects ${report.duplicatedEffects}; whole run ${wallSeconds.toFixed(1)} s wall`,
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
];
const table = new Table({
  head: ['figure', 'value', 'budget', 'note'],
  style: { head: [], border: [] },
  colWidths: [34, 18, 10, 80],
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
const missed = writeResults(results);
if (missed.length > 0) {
  console.error(`Missed: ${missed.join(', ')}`);
  process.exitCode = 1;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
