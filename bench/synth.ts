import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { readAssembly } from '../local/assembly';
import { type BenchResult, finish, median, withinBudget } from './results';

/**
 * Measures the foundation's budgets: `npx cdk synth` wall time of the whole app (median of several fresh runs),
 * each function's minified bundle (SDK external), and with `--with-tests` the whole `npm test`.
 * Writes bench/results.json.
 */
const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'with-tests': { type: 'boolean', default: false },
  },
});
const runs = Number(flags.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs must be a whole number of 1 or more, got ${flags.runs}`);
  process.exit(2);
}

const BUDGETS = { synthSeconds: 8, bundleKB: 120, testSeconds: 180 };
const root = path.resolve(__dirname, '..');
const assemblyDir = path.join(root, 'cdk.out');

function timed(command: string, args: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const synthSeconds: number[] = [];
for (let run = 0; run < runs; run++) {
  rmSync(assemblyDir, { recursive: true, force: true }); // fresh: every run bundles every function
  synthSeconds.push(timed('npx', ['cdk', 'synth', '-q']));
}

const bundles = readAssembly(assemblyDir).flatMap((stack) =>
  Object.entries(stack.resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]) => {
      const assetPath = resource.Metadata?.['aws:asset:path'];
      const variables = (resource.Properties?.Environment as { Variables?: Record<string, string> })?.Variables;
      const file = path.join(assemblyDir, String(assetPath), 'index.js');
      return { name: variables?.POWERTOOLS_SERVICE_NAME ?? logicalId, kb: statSync(file).size / 1024 };
    }),
);

const results: BenchResult[] = [
  { name: 'synth.seconds', value: round(median(synthSeconds)), unit: 's', budget: BUDGETS.synthSeconds },
  { name: 'bundle.maxKB', value: round(Math.max(...bundles.map((b) => b.kb))), unit: 'KB', budget: BUDGETS.bundleKB },
  ...bundles.map((bundle) => ({ name: `bundle.kb.${bundle.name}`, value: round(bundle.kb), unit: 'KB' })),
];
if (flags['with-tests']) {
  results.push({ name: 'test.seconds', value: round(timed('npm', ['test'])), unit: 's', budget: BUDGETS.testSeconds });
}

const table = new Table({ head: ['figure', 'value', 'budget', 'within'], style: { head: [], border: [] } });
for (const result of results) {
  const within = result.budget === undefined ? '' : withinBudget(result) ? 'yes' : 'NO';
  table.push([
    result.name,
    `${result.value} ${result.unit}`,
    result.budget ? `${result.budget} ${result.unit}` : '',
    within,
  ]);
}
const cdkVersion = execFileSync('npx', ['cdk', '--version'], { cwd: root }).toString().trim();
console.log(`synth runs: ${synthSeconds.map(round).join(', ')} s (median of ${runs})`);
console.log(`machine: ${cpus().length} cores, Node ${process.version}, cdk ${cdkVersion}, ${new Date().toISOString()}`);
console.log(table.toString());

finish(results);

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
