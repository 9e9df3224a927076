import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { buildSync } from 'esbuild';
import { expect, test } from 'vitest';
import { DEAD_LETTER_ATTRIBUTES } from '../../contract';
import { createQueue } from '../../local/emulators';
import { emulatorClients } from '../../ops/endpoint-clients';

const projectDir = path.resolve(__dirname, '..', '..');
const cli = path.join(projectDir, 'bin', 'eda-kit.ts');
const tsx = path.join(projectDir, 'node_modules', '.bin', 'tsx');
const endpoints = {
  dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
  sqs: process.env.AWS_ENDPOINT_URL_SQS as string,
  kinesis: process.env.AWS_ENDPOINT_URL_KINESIS as string,
};

const manifest = JSON.parse(readFileSync(path.join(projectDir, 'package.json'), 'utf8'));
/** What `eda-kit` may load from node_modules: the package's dependencies and its optional peers (the emulators). */
const SHIPPED_WITH = new Set([
  ...Object.keys(manifest.dependencies),
  ...Object.entries(manifest.peerDependenciesMeta as Record<string, { optional?: boolean }>)
    .filter(([, meta]) => meta.optional)
    .map(([name]) => name),
]);

/** The source files and the packages that bundling `entryPoints` pulls in, as a bundler follows every import. */
function loadedBy(entryPoints: string[]): { files: string[]; packages: string[] } {
  const { metafile } = buildSync({
    entryPoints,
    absWorkingDir: projectDir,
    bundle: true,
    platform: 'node',
    packages: 'external',
    write: false,
    metafile: true,
    outdir: 'out',
    logLevel: 'silent',
  });
  const builtins = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);
  const packages = new Set(
    Object.values(metafile.outputs)
      .flatMap((output) => output.imports)
      .filter((imported) => imported.external)
      .map((imported) =>
        imported.path
          .split('/')
          .slice(0, imported.path.startsWith('@') ? 2 : 1)
          .join('/'),
      )
      .filter((name) => !builtins.has(name)),
  );
  return { files: Object.keys(metafile.inputs), packages: [...packages] };
}

/** Runs `eda-kit` in `cwd`, as an operator would from a project folder. */
function edaKit(cwd: string, ...args: string[]) {
  return spawnSync(tsx, [cli, ...args], { cwd, encoding: 'utf8' });
}

test('GIVEN eda-kit as the package ships it THEN everything it can load is shipped: its dependencies, and the emulators as optional peers', () => {
  const { files, packages } = loadedBy([path.join(projectDir, 'bin', 'eda-kit.ts')]);

  expect(
    files.filter(
      (file) =>
        !/^(bin\/eda-kit\.ts|(ops|ops\/cost|local|local\/dashboard)\/[^/]+\.ts|ops\/cost\/prices\.json|contract\/index\.ts)$/.test(
          file,
        ),
    ),
  ).toEqual([]);
  expect(packages.filter((name) => !SHIPPED_WITH.has(name))).toEqual([]);
});

test('GIVEN the operations (redrive, replay) THEN they load only ops/, the contract and the SDK clients', () => {
  const ops = readdirSync(path.join(projectDir, 'ops'))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => path.join(projectDir, 'ops', file));

  const { files, packages } = loadedBy(ops);

  expect(files.filter((file) => !/^(ops\/[^/]+\.ts|contract\/index\.ts)$/.test(file))).toEqual([]);
  const emulators = ['dynalite', 'kinesalite', 'local-aws-sqs'];
  expect(packages.filter((name) => !SHIPPED_WITH.has(name) || emulators.includes(name))).toEqual([]);
});

test('GIVEN --local in a folder without a running local cloud THEN eda-kit names the file it looked for there and exits 2', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'eda-kit-'));

  const result = edaKit(cwd, 'redrive', '--dlq', 'Dlq', '--to', 'Source', '--dry-run', '--local');

  expect(result.status).toBe(2);
  expect(result.stderr.trim()).toBe(
    `--local needs a running local cloud: no ${path.join(cwd, '.local', 'endpoints.json')} (start one with eda-kit local --serve)`,
  );
});

test('GIVEN --local in the folder of a served local cloud THEN eda-kit finds its queues by logical ID and counts a dry run', async () => {
  // Prepare: what `npm start -- --serve` writes, in a project folder of its own, and two dead letters.
  const { sqs } = emulatorClients(endpoints);
  const id = randomUUID().slice(0, 8);
  const deadLetterQueueUrl = await createQueue(sqs, `eda-kit-dlq-${id}`);
  const sourceQueueUrl = await createQueue(sqs, `eda-kit-source-${id}`);
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: deadLetterQueueUrl,
      MessageBody: '{"a":1}',
      MessageAttributes: {
        [DEAD_LETTER_ATTRIBUTES.error]: { DataType: 'String', StringValue: 'SchemaViolationError' },
      },
    }),
  );
  await sqs.send(new SendMessageCommand({ QueueUrl: deadLetterQueueUrl, MessageBody: '{"b":2}' }));
  const cwd = mkdtempSync(path.join(tmpdir(), 'eda-kit-'));
  mkdirSync(path.join(cwd, '.local'));
  const queue = (url: string) => ({ ref: url, attributes: { QueueUrl: url } });
  writeFileSync(
    path.join(cwd, '.local', 'endpoints.json'),
    JSON.stringify({
      region: 'us-east-1',
      endpoints,
      resources: { Pipeline: { Dlq: queue(deadLetterQueueUrl), Source: queue(sourceQueueUrl) } },
    }),
  );

  // Act
  const result = edaKit(cwd, 'redrive', '--dlq', 'Dlq', '--to', 'Source', '--dry-run', '--local');

  // Assess
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(JSON.parse(result.stdout)).toEqual({
    method: 'dry-run',
    moved: 0,
    byReason: { SchemaViolationError: 1, 'redriven by SQS': 1 },
    duplicates: 0,
  });
});

test('GIVEN a bad --dry-run-visibility-timeout THEN eda-kit says why on one line and exits 2', () => {
  const result = edaKit(
    projectDir,
    'redrive',
    '--dlq',
    'Dlq',
    '--to',
    'Source',
    '--dry-run',
    '--dry-run-visibility-timeout',
    '0',
  );

  expect(result.status).toBe(2);
  expect(result.stderr.trim()).toBe(
    "error: option '--dry-run-visibility-timeout <seconds>' argument '0' is invalid. expected a whole number of 1 or more, got '0'",
  );
});
