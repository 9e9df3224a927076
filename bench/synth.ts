import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { CONSUMER_ENVIRONMENT } from '../contract';
import { readAssembly } from '../local/assembly';
import { type BenchResult, finish, median, ratioResult, round, withinBudget } from './results';

/**
 * Measures the foundation's budgets: `npx cdk synth` wall time of the whole app (median of several fresh runs),
 * each function's minified bundle (SDK external), the package as npm publishes it, the user-activity example's
 * synth from the packed package against the reference app's, and with `--with-tests` the whole `npm test`.
 * Writes bench/results.json. Needs dist/ built (`npm run bench:synth` builds it).
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

function timed(command: string, args: string[], cwd = root): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const synthSeconds: number[] = [];
for (let run = 0; run < runs; run++) {
  rmSync(assemblyDir, { recursive: true, force: true }); // fresh: every run bundles every function
  synthSeconds.push(timed('npx', ['cdk', 'synth', '-q']));
}

// The package as `npm publish` sends it (dist/ as built; no prepack rebuild).
const packDir = mkdtempSync(path.join(tmpdir(), 'eda-kit-pack-'));
const [packed] = JSON.parse(
  execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], {
    cwd: root,
    encoding: 'utf8',
  }),
) as { filename: string; size: number; unpackedSize: number; entryCount: number }[];

/**
 * The user-activity example as a user has it: the packed kit installed into a fresh copy (outside the repository,
 * so nothing resolves from its node_modules), compiled with tsc. Returns its folder.
 */
function installExample(tarball: string): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'eda-kit-example-')), 'user-activity');
  cpSync(path.join(root, 'examples', 'user-activity'), dir, {
    recursive: true,
    filter: (source) =>
      !/[\\/](node_modules|cdk\.out|package-lock\.json)$/.test(source) && !/\.(js|d\.ts)$/.test(source),
  });
  const manifestFile = path.join(dir, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  manifest.dependencies['cdk-eda-kit'] = `file:${tarball}`;
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
  timed('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], dir);
  timed('npm', ['run', 'build'], dir);
  return dir;
}

const exampleDir = installExample(path.join(packDir, packed.filename));
const exampleSynthSeconds: number[] = [];
for (let run = 0; run < runs; run++) {
  rmSync(path.join(exampleDir, 'cdk.out'), { recursive: true, force: true });
  exampleSynthSeconds.push(timed(path.join(exampleDir, 'node_modules', '.bin', 'cdk'), ['synth', '-q'], exampleDir));
}
rmSync(path.dirname(exampleDir), { recursive: true, force: true });
rmSync(packDir, { recursive: true, force: true });

const bundles = readAssembly(assemblyDir).flatMap((stack) =>
  Object.entries(stack.resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]) => {
      const assetPath = resource.Metadata?.['aws:asset:path'];
      const variables = (resource.Properties?.Environment as { Variables?: Record<string, string> })?.Variables;
      const file = path.join(assemblyDir, String(assetPath), 'index.js');
      return { name: variables?.[CONSUMER_ENVIRONMENT.serviceName] ?? logicalId, kb: statSync(file).size / 1024 };
    }),
);

const results: BenchResult[] = [
  { name: 'synth.seconds', value: round(median(synthSeconds)), unit: 's', budget: BUDGETS.synthSeconds },
  { name: 'bundle.maxKB', value: round(Math.max(...bundles.map((b) => b.kb))), unit: 'KB', budget: BUDGETS.bundleKB },
  ...bundles.map((bundle) => ({ name: `bundle.kb.${bundle.name}`, value: round(bundle.kb), unit: 'KB' })),
  {
    name: 'package.packedKB',
    value: round(packed.size / 1024),
    unit: 'KB',
    note: `${packed.entryCount} files, ${round(packed.unpackedSize / 1024)} KB unpacked`,
  },
  ratioResult(
    'synth.example.vsReferenceApp',
    median(exampleSynthSeconds),
    median(synthSeconds),
    `the user-activity example (2 functions, from the packed kit) synthesizes in ${round(median(exampleSynthSeconds))} s with aws-cdk-lib's built-in CloudFormation validation on (its default; the reference app turns it off); baseline: the reference app (6 functions), s`,
  ),
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
