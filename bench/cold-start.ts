import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { FunctionRuntime, type LocalFunctionConfig } from '../local/function-runtime';
import { LocalCloud } from '../local/local-cloud';
import { synthesize } from '../local/synth';
import { wholeNumber } from '../ops/cli-args';
import { kinesisEvent, kinesisRecord, orderPlaced, sqsEvent, sqsRecord } from '../test/helpers/records';
import { type BenchResult, finish, median } from './results';

/**
 * Cold starts of every function of the reference app, against a minimal handler, in fresh execution environments
 * of the local cloud: the time from starting the environment (a new Node process that loads the bundle) to the
 * end of its first invocation, which does the function's real work against the emulators. The minimal handler is
 * an empty `async () => ({})` bundle in the same kind of environment, so what both share (starting Node, the
 * worker) is in the baseline too.
 */
const projectDir = path.resolve(__dirname, '..');
const MINIMAL_HANDLER = 'exports.handler = async () => ({});\n';
/**
 * The audit-log writer's job without the kit: the bare SDK, JSON.parse and one conditional PutItem per record; no
 * schema, idempotency record, logger or metrics. Against it, the audit-log writer's cold start shows what the kit
 * itself adds.
 */
const BARE_SDK_HANDLER = `const { DynamoDBClient, PutItemCommand } = require('@aws-sdk/client-dynamodb');
const client = new DynamoDBClient({});
exports.handler = async (event) => {
  for (const record of event.Records) {
    const order = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
    await client
      .send(new PutItemCommand({
        TableName: process.env.AUDIT_LOG_TABLE_NAME,
        Item: { eventId: { S: order.eventId }, orderId: { S: order.orderId } },
        ConditionExpression: 'attribute_not_exists(eventId)',
      }))
      .catch((error) => { if (error.name !== 'ConditionalCheckFailedException') throw error; });
  }
  return { batchItemFailures: [] };
};
`;

/** A first event for the function labelled `label`, as its event source would send it. */
function firstEvent(label: string): unknown {
  const order = orderPlaced({ sku: 'SKU-COLD', customerEmail: 'cold@example.com' });
  if (label === 'order-api') {
    const { type: _type, eventId: _eventId, placedAt: _placedAt, ...request } = order;
    return { body: JSON.stringify(request), isBase64Encoded: false };
  }
  if (label === 'order-processor' || label === 'notification-sender')
    return sqsEvent([sqsRecord(JSON.stringify(order))]);
  return kinesisEvent([kinesisRecord(JSON.stringify(order), { partitionKey: String(order.sku) })]);
}

/** Milliseconds from starting a new execution environment to the end of its first invocation. */
async function coldStart(config: LocalFunctionConfig, event: unknown): Promise<{ loadMs: number; initMs: number }> {
  const runtime = new FunctionRuntime(config, () => {}, 1);
  const started = process.hrtime.bigint();
  try {
    await runtime.warm();
    const loaded = process.hrtime.bigint();
    await runtime.invoke(event);
    const done = process.hrtime.bigint();
    return { loadMs: Number(loaded - started) / 1e6, initMs: Number(done - started) / 1e6 };
  } finally {
    await runtime.stop();
  }
}

export async function measureColdStarts(runs: number): Promise<BenchResult[]> {
  const assemblyDir = path.join(projectDir, '.local', 'bench-cold-start.out');
  await synthesize(projectDir, assemblyDir);
  // Under the project, so the bare handler finds the SDK in its node_modules as the functions do.
  const minimalDir = path.join(projectDir, '.local', 'bench-minimal-handler');
  mkdirSync(minimalDir, { recursive: true });
  writeFileSync(path.join(minimalDir, 'index.js'), MINIMAL_HANDLER);
  writeFileSync(path.join(minimalDir, 'bare-sdk.js'), BARE_SDK_HANDLER);
  const cloud = await LocalCloud.start({ assemblyDir });
  try {
    // Only the measured invocations run: what the order API publishes stays in its queues and stream.
    for (const { poller } of cloud.pollers) await poller.stop();
    const samples = new Map<string, { loadMs: number[]; initMs: number[] }>();
    const record = (label: string, sample: { loadMs: number; initMs: number }) => {
      const entry = samples.get(label) ?? { loadMs: [], initMs: [] };
      entry.loadMs.push(sample.loadMs);
      entry.initMs.push(sample.initMs);
      samples.set(label, entry);
    };
    // Interleaved, so a slow moment of the machine does not fall on one function only.
    for (let run = 0; run < runs; run++) {
      for (const { runtime } of cloud.functions) {
        const { config } = runtime;
        record(config.label, await coldStart(config, firstEvent(config.label)));
        record(
          'minimal',
          await coldStart({ ...config, codeDir: minimalDir, handler: 'index.handler' }, firstEvent(config.label)),
        );
        if (config.label === 'audit-log-writer')
          record(
            'bare-sdk',
            await coldStart({ ...config, codeDir: minimalDir, handler: 'bare-sdk.handler' }, firstEvent(config.label)),
          );
      }
    }
    const minimal = median((samples.get('minimal') as { initMs: number[] }).initMs);
    const bareSdk = median((samples.get('bare-sdk') as { initMs: number[] }).initMs);
    const auditLogWriter = median((samples.get('audit-log-writer') as { initMs: number[] }).initMs);
    const functions = [...samples.entries()].filter(([label]) => label !== 'minimal' && label !== 'bare-sdk');
    const slowest = functions
      .map(([label, { initMs, loadMs }]) => ({ label, initMs: median(initMs), loadMs: median(loadMs) }))
      .sort((a, b) => b.initMs - a.initMs);
    return [
      {
        name: 'coldStart.initMs',
        value: round(slowest[0].initMs),
        unit: 'ms',
        baseline: round(minimal),
        ratio: round(slowest[0].initMs / minimal),
        budget: round(2 * minimal),
        note: `slowest function (${slowest[0].label}): ${round(slowest[0].loadMs)} ms to load, the rest in its first invocation; minimal handler ${round(minimal)} ms; median of ${runs} fresh environments each`,
      },
      {
        name: 'coldStart.vsBareSdk',
        value: round(auditLogWriter / bareSdk),
        unit: 'x',
        baseline: round(bareSdk),
        ratio: round(auditLogWriter / bareSdk),
        note: `the audit-log writer (${round(auditLogWriter)} ms) over the same job with the bare SDK (${round(bareSdk)} ms: JSON.parse and one conditional PutItem per record): what the kit itself adds`,
      },
      ...slowest.map(({ label, initMs, loadMs }) => ({
        name: `coldStart.initMs.${label}`,
        value: round(initMs),
        unit: 'ms',
        baseline: round(minimal),
        ratio: round(initMs / minimal),
        note: `${round(loadMs)} ms to start and load`,
      })),
    ];
  } finally {
    await cloud.stop();
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

async function main(): Promise<void> {
  const flags = new Command()
    .name('npm run bench:cold-start --')
    .option('--runs <n>', 'fresh environments per function', wholeNumber, 5)
    .configureOutput({ writeErr: (text) => process.stderr.write(`${text.split('\n')[0]}\n`) })
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .parse(process.argv)
    .opts<{ runs: number }>();
  const results = await measureColdStarts(flags.runs);
  console.log(`machine: ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString()}`);
  for (const result of results)
    console.log(`${result.name.padEnd(44)} ${String(result.value).padStart(9)} ${result.unit}  x${result.ratio}`);
  finish(results);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
