import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { wholeNumber } from '../ops/cli-args';
import { RESULTS_FILE } from './results';

/**
 * `npm run bench`: every benchmark in turn, each in a process of its own, into a fresh bench/results.json; then
 * the report (bench/RESULTS.md, the README's table and plot). `--quick` keeps the whole run to a few minutes: fewer
 * runs and batches, and the local cloud at 1,000 orders only. The example app's setup (pack,
 * install, build: about 20 s) and the single endpoint's pair of 1,000-order runs (about 100 s) take most of it.
 */
interface BenchFlags {
  readonly quick: boolean;
  readonly latencyMs: number;
  readonly runs?: number;
}

function latency(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1000)
    throw new InvalidArgumentError(`expected milliseconds from 0 to 1000, got '${value}'`);
  return parsed;
}

/** The steps of a run, each a script and its flags. */
export function benchSteps(flags: BenchFlags): { readonly name: string; readonly args: string[] }[] {
  const runs = String(flags.runs ?? (flags.quick ? 3 : 5));
  const latencyMs = String(flags.latencyMs);
  return [
    { name: 'synth and bundles', args: ['bench/synth.ts', '--runs', flags.quick ? '1' : '3'] },
    {
      name: 'runtime kit against Powertools',
      args: ['bench/runtime.ts', '--latency-ms', latencyMs, '--runs', runs, '--batches', flags.quick ? '2' : '5'],
    },
    { name: 'cold starts', args: ['bench/cold-start.ts', '--runs', flags.quick ? '1' : runs] },
    {
      name: 'SDK warm-up of a fresh environment',
      args: ['bench/sdk-warmup.ts', '--runs', flags.quick ? '1' : String(flags.runs ?? 3)],
    },
    {
      name: 'local cloud',
      args: [
        'bench/local.ts',
        '--orders',
        flags.quick ? '1000' : '1000,10000,50000',
        '--runs',
        flags.quick ? '1' : String(flags.runs ?? 3),
      ],
    },
    {
      name: 'eda-kit local on the example app against npm start',
      args: ['bench/example-local.ts', '--runs', flags.quick ? '1' : String(flags.runs ?? 3)],
    },
    {
      name: 'single endpoint against per-service endpoints',
      args: ['bench/single-endpoint.ts', '--orders', '1000', '--runs', flags.quick ? '1' : String(flags.runs ?? 2)],
    },
    {
      name: 'the local dashboard: page load and refresh cost',
      args: ['bench/dashboard.ts', '--orders', '1000', '--runs', flags.quick ? '1' : String(flags.runs ?? 2)],
    },
    { name: 'cost model', args: ['bench/cost.ts', '--latency-ms', latencyMs] },
    { name: 'report', args: ['bench/report.ts'] },
  ];
}

function main(): void {
  const flags = new Command()
    .name('npm run bench --')
    .description('Measures the kit against its baselines and writes bench/results.json, bench/RESULTS.md and the plot.')
    .option('--quick', 'a run of a few minutes: fewer runs, 1,000 orders only', false)
    .option('--latency-ms <ms>', 'modelled network latency per DynamoDB request', latency, 5)
    .option('--runs <n>', 'runs per figure (the median is kept)', wholeNumber)
    .configureOutput({ writeErr: (text) => process.stderr.write(`${text.split('\n')[0]}\n`) })
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .parse(process.argv)
    .opts<BenchFlags>();
  const root = path.resolve(__dirname, '..');
  rmSync(RESULTS_FILE, { force: true });
  const started = Date.now();
  const failed: string[] = [];
  for (const step of benchSteps(flags)) {
    console.log(`\n== ${step.name} (${((Date.now() - started) / 1000).toFixed(0)} s) ==`);
    const result = spawnSync(process.execPath, ['--import', 'tsx', ...step.args], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, EDA_KIT_BENCH_ORCHESTRATED: '1' },
    });
    // Under this run a missed target is a figure of the report, not a failure (see `finish`): a step that does
    // not exit 0 is broken.
    if (result.status !== 0) failed.push(`${step.name} (exit ${result.status})`);
  }
  console.log(`\nbench done in ${((Date.now() - started) / 1000).toFixed(0)} s; figures in bench/results.json`);
  if (failed.length > 0) {
    console.error(`Steps that did not finish: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

if (require.main === module) main();
