import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { CONSUMER_ENVIRONMENT } from '../contract';
import { ConsumerFunction } from '../lib/consumer-function';
import { FunctionRuntime, type LocalFunctionConfig } from '../local/function-runtime';
import { LocalCloud } from '../local/local-cloud';
import { synthesize } from '../local/synth';
import { kinesisEvent, kinesisRecord, orderPlaced, sqsEvent, sqsRecord } from '../test/helpers/records';
import {
  type BenchResult,
  finish,
  median,
  medianOfRatios,
  ratioResult,
  round,
  runsFlag,
  turningOrder,
} from './results';

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
 * itself adds. It is bundled by `ConsumerFunction`, as the functions are, so both load the SDK the same way (from
 * the bundle or from the runtime); the same file unbundled, its SDK from the runtime, is measured too.
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

/**
 * The same bare job with Powertools' idempotency on each record and nothing else of the kit: the idempotency record
 * in the function's own table under its own key prefix, keyed by the event ID as the kit keys it (the key passed as
 * the first argument, no JMESPath), in an ES module so its bundle takes Powertools' ES builds as the kit's does.
 * Against it, the audit-log writer shows what the kit adds beyond the idempotency protocol it is built on; against
 * the bare job, it shows what that protocol (two more round trips, Powertools' load and first run) costs alone.
 */
const BARE_POWERTOOLS_HANDLER = `import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
const client = new DynamoDBClient({});
const config = new IdempotencyConfig({ throwOnNoIdempotencyKey: true });
const writeEntry = (order) =>
  client
    .send(new PutItemCommand({
      TableName: process.env.AUDIT_LOG_TABLE_NAME,
      Item: { eventId: { S: order.eventId }, orderId: { S: order.orderId } },
      ConditionExpression: 'attribute_not_exists(eventId)',
    }))
    .catch((error) => { if (error.name !== 'ConditionalCheckFailedException') throw error; });
// As the kit does: the key first, then the effect as a function (never hashed, never taken for a Lambda context).
const applyOnce = makeIdempotent(
  async (_eventId, effect) => {
    await effect();
    return true;
  },
  {
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: process.env.${CONSUMER_ENVIRONMENT.idempotencyTableName}, awsSdkV3Client: client }),
    config,
    keyPrefix: \`\${process.env.${CONSUMER_ENVIRONMENT.idempotencyKeyPrefix}}bare-powertools\`,
    dataIndexArgument: 0,
  },
);
export const handler = async (event, context) => {
  config.registerLambdaContext(context);
  for (const record of event.Records) {
    const order = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
    await applyOnce(order.eventId, () => writeEntry(order));
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

/**
 * Bundles `entry` as `ConsumerFunction` bundles every function of the app (its esbuild options, what it leaves to
 * the runtime), by synthesizing a one-function app; returns the folder of the bundle.
 */
function bundleAsConsumerFunction(entry: string, outdir: string): string {
  rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  new ConsumerFunction(new Stack(app, 'Twin'), 'Twin', { entry, serviceName: path.parse(entry).name });
  const assembly = app.synth();
  const template = JSON.parse(readFileSync(path.join(assembly.directory, 'Twin.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
  };
  const fn = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::Lambda::Function');
  const assetPath = fn?.Metadata?.['aws:asset:path'];
  if (!assetPath) throw new Error(`The bundle of ${entry} has no asset path in its template`);
  return path.join(assembly.directory, assetPath);
}

/** Milliseconds from starting a new execution environment to the end of its first invocation. */
async function coldStart(config: LocalFunctionConfig, event: unknown): Promise<{ loadMs: number; initMs: number }> {
  const runtime = new FunctionRuntime(config, () => {}, 1);
  const started = process.hrtime.bigint();
  try {
    await runtime.warm();
    const loaded = process.hrtime.bigint();
    const result = (await runtime.invoke(event)) as { batchItemFailures?: unknown[] } | undefined;
    const done = process.hrtime.bigint();
    // A record that failed would make a cold start of less work: a bug of the bench, not a figure.
    if (result?.batchItemFailures?.length) throw new Error(`${config.label}: ${JSON.stringify(result)}`);
    return { loadMs: Number(loaded - started) / 1e6, initMs: Number(done - started) / 1e6 };
  } finally {
    await runtime.stop();
  }
}

/**
 * The cold-start figures: `runs` fresh environments of every function of the reference app, of the minimal handler
 * and of the audit-log writer's two bare twins (the SDK alone; the SDK and Powertools' idempotency), interleaved;
 * each figure the median of its environments.
 */
export async function measureColdStarts(runs: number): Promise<BenchResult[]> {
  const assemblyDir = path.join(projectDir, '.local', 'bench-cold-start.out');
  await synthesize(projectDir, assemblyDir);
  // Under the project, so the bare handler finds the SDK in its node_modules as the functions do.
  const minimalDir = path.join(projectDir, '.local', 'bench-minimal-handler');
  mkdirSync(minimalDir, { recursive: true });
  writeFileSync(path.join(minimalDir, 'index.js'), MINIMAL_HANDLER);
  writeFileSync(path.join(minimalDir, 'bare-sdk.js'), BARE_SDK_HANDLER);
  writeFileSync(path.join(minimalDir, 'bare-powertools.mjs'), BARE_POWERTOOLS_HANDLER);
  const bareSdkDir = bundleAsConsumerFunction(
    path.join(minimalDir, 'bare-sdk.js'),
    path.join(projectDir, '.local', 'bench-bare-sdk.out'),
  );
  const barePowertoolsDir = bundleAsConsumerFunction(
    path.join(minimalDir, 'bare-powertools.mjs'),
    path.join(projectDir, '.local', 'bench-bare-powertools.out'),
  );
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
        const event = () => firstEvent(config.label);
        const measure = async (label: string, codeDir = config.codeDir, handler = config.handler) =>
          record(label, await coldStart({ ...config, codeDir, handler }, event()));
        // The audit-log writer and its two bare twins side by side, in a turning order: each ratio between them
        // compares environments started moments apart.
        const audit = config.label === 'audit-log-writer';
        const sideBySide = audit
          ? [
              () => measure(config.label),
              () => measure('bare-sdk', bareSdkDir, 'index.handler'),
              () => measure('bare-powertools', barePowertoolsDir, 'index.handler'),
            ]
          : [() => measure(config.label)];
        for (const measureOne of turningOrder(sideBySide, run)) await measureOne();
        await measure('minimal', minimalDir, 'index.handler');
        if (audit) await measure('bare-sdk-unbundled', minimalDir, 'bare-sdk.handler');
      }
    }
    const initMsOf = (label: string) => (samples.get(label) as { initMs: number[] }).initMs;
    const minimal = median(initMsOf('minimal'));
    const bareSdk = median(initMsOf('bare-sdk'));
    const bareSdkUnbundled = median(initMsOf('bare-sdk-unbundled'));
    const auditLogWriter = median(initMsOf('audit-log-writer'));
    const barePowertools = median(initMsOf('bare-powertools'));
    const pairedVsBareSdk = medianOfRatios(initMsOf('audit-log-writer'), initMsOf('bare-sdk'));
    const pairedVsBarePowertools = medianOfRatios(initMsOf('audit-log-writer'), initMsOf('bare-powertools'));
    const pairedPowertoolsVsBareSdk = medianOfRatios(initMsOf('bare-powertools'), initMsOf('bare-sdk'));
    const functions = [...samples.entries()].filter(
      ([label]) => !['minimal', 'bare-sdk', 'bare-sdk-unbundled', 'bare-powertools'].includes(label),
    );
    /** A twin's median start-and-load time and first invocation, for the notes. */
    const split = (label: string) => {
      const { loadMs, initMs } = samples.get(label) as { loadMs: number[]; initMs: number[] };
      return `${round(median(loadMs))} ms to start and load, ${round(median(initMs.map((ms, run) => ms - loadMs[run])))} ms in its first invocation`;
    };
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
      ratioResult(
        'coldStart.vsBareSdk',
        auditLogWriter,
        bareSdk,
        `the audit-log writer (${round(auditLogWriter)} ms) over the same job with the bare SDK (${round(bareSdk)} ms: ` +
          'JSON.parse and one conditional PutItem per record, bundled by ConsumerFunction as the functions are): what ' +
          `the kit itself adds. Against the bare handler unbundled, its SDK from the runtime (${round(bareSdkUnbundled)} ms): ` +
          `${round(auditLogWriter / bareSdkUnbundled)}x. Median of the ratios of each run: ${round(pairedVsBareSdk)}`,
      ),
      ratioResult(
        'coldStart.vsBarePowertools',
        auditLogWriter,
        barePowertools,
        `the audit-log writer (${split('audit-log-writer')}) over the bare job with Powertools' idempotency on each ` +
          `record and nothing else of the kit (${round(barePowertools)} ms: ${split('bare-powertools')}): what the kit ` +
          `adds beyond the idempotency protocol it is built on. Median of the ratios of each run: ${round(pairedVsBarePowertools)}`,
      ),
      ratioResult(
        'coldStart.barePowertools.vsBareSdk',
        barePowertools,
        bareSdk,
        `the bare job with Powertools' idempotency over the bare job: what the protocol alone costs a cold start ` +
          `(its PutItem and UpdateItem round trips, Powertools' load and first run); the bare job: ${split('bare-sdk')}. ` +
          `Median of the ratios of each run: ${round(pairedPowertoolsVsBareSdk)}`,
      ),
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

async function main(): Promise<void> {
  const results = await measureColdStarts(
    runsFlag('npm run bench:cold-start --', 'fresh environments per function', 5),
  );
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
