import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack, Stage } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { QueueConsumer } from '../../../lib/queue-consumer';
import { StreamConsumer } from '../../../lib/stream-consumer';
import { type AppSettings, type ConsumerSettings, readAssemblySettings } from '../../../ops/cost/app-settings';
import { HANDLER_ENTRY } from '../../helpers/template';

let outdir: string;
let settings: AppSettings;

/** The consumer whose function is at `functionPath`. */
function consumerAt(functionPath: string): ConsumerSettings {
  const found = settings.consumers.find((c) => c.path === functionPath);
  if (!found) throw new Error(`no consumer at ${functionPath}: ${settings.consumers.map((c) => c.path).join(', ')}`);
  return found;
}

const pathOf = (id: string) =>
  [...settings.queues, ...settings.streams, ...settings.tables].find((resource) => resource.id === id)?.path;

beforeAll(() => {
  // GIVEN a small app synthesized in this process, as `cdk synth` writes it (construct paths on, bundling off):
  // a QueueConsumer in provisioned mode, a StreamConsumer on a provisioned stream, an API function that publishes
  // to both, tables, alarms, a dashboard, and in a stage a plain function on a queue with a filter
  outdir = mkdtempSync(path.join(tmpdir(), 'eda-kit-cost-settings-'));
  const app = new App({
    outdir,
    builtinCloudFormationValidation: false,
    context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true },
  });
  const stack = new Stack(app, 'Shop');
  const orders = new dynamodb.Table(stack, 'OrdersTable', {
    partitionKey: { name: 'orderId', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
  });
  const audit = new dynamodb.Table(stack, 'AuditTable', {
    partitionKey: { name: 'eventId', type: dynamodb.AttributeType.STRING },
    writeCapacity: 7,
  });
  const ordersConsumer = new QueueConsumer(stack, 'Orders', {
    functionProps: { entry: HANDLER_ENTRY, memorySize: 512, environment: { ORDERS_TABLE_NAME: orders.tableName } },
    batchSize: 20,
    maxBatchingWindow: Duration.seconds(2),
    provisionedPollers: { minimumPollers: 3, maximumPollers: 50 },
  });
  const events = new StreamConsumer(stack, 'Events', {
    shardCount: 2,
    consumers: {
      audit: {
        functionProps: { entry: HANDLER_ENTRY, environment: { AUDIT_TABLE_NAME: audit.tableName } },
        batchSize: 50,
        parallelizationFactor: 2,
      },
    },
  });
  new lambda.Function(stack, 'Api', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    architecture: lambda.Architecture.ARM_64,
    memorySize: 1024,
    environment: { QUEUE_URL: ordersConsumer.queue.queueUrl, STREAM_NAME: events.stream.streamName },
  });
  new lambda.Function(stack, 'Nightly', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  new cloudwatch.Alarm(stack, 'Backlog', {
    metric: ordersConsumer.queue.metricApproximateNumberOfMessagesVisible(),
    threshold: 100,
    evaluationPeriods: 1,
  });
  new cloudwatch.Alarm(stack, 'FastBacklog', {
    metric: ordersConsumer.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.seconds(10) }),
    threshold: 100,
    evaluationPeriods: 1,
  });
  new cloudwatch.Dashboard(stack, 'Dashboard');

  const jobs = new Stack(new Stage(app, 'Eu'), 'Jobs');
  const queue = new sqs.Queue(jobs, 'Queue');
  const worker = new lambda.Function(jobs, 'Worker', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    logGroup: new logs.LogGroup(jobs, 'WorkerLogs', { retention: logs.RetentionDays.INFINITE }),
  });
  worker.addEventSource(
    new sources.SqsEventSource(queue, {
      batchSize: 5,
      filters: [lambda.FilterCriteria.filter({ body: { type: lambda.FilterRule.isEqual('Job') } })],
    }),
  );
  app.synth();

  // WHEN the cost model reads the cloud assembly
  settings = readAssemblySettings(outdir);
});

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

describe('readAssemblySettings', () => {
  test('reads every stack, nested stages too', () => {
    expect(settings.stacks).toEqual(['Shop', 'Eu-Jobs']);
  });

  test("reads a QueueConsumer's mapping, function, provisioned pollers and tables", () => {
    const orders = consumerAt('Shop/Orders/Consumer/Function');

    expect(orders).toMatchObject({
      source: { kind: 'sqs', fifo: false },
      batchSize: 20,
      maxBatchingWindowSeconds: 2,
      parallelizationFactor: 1,
      provisionedPollers: { minimumPollers: 3, maximumPollers: 50 },
      memoryMB: 512,
      architecture: 'arm64',
      filterPatterns: 0,
      idempotencyStore: true,
      kitConstruct: { kind: 'QueueConsumer', path: 'Shop/Orders' },
    });
    expect(orders.source.kind === 'sqs' && pathOf(orders.source.queueId)).toBe('Shop/Orders/Queue');
    expect(orders.effectTableIds.map(pathOf)).toEqual(['Shop/OrdersTable']);
  });

  test("reads a StreamConsumer consumer's parallelization factor, failure destination and stream", () => {
    const audit = consumerAt('Shop/Events/audit/Consumer/Function');

    expect(audit).toMatchObject({
      source: { kind: 'kinesis', enhancedFanOut: false },
      batchSize: 50,
      parallelizationFactor: 2,
      onFailureDestination: 'Shop/Events/audit/FailureQueue',
      kitConstruct: { kind: 'StreamConsumer', path: 'Shop/Events', consumerName: 'audit' },
    });
    expect(audit.provisionedPollers).toBeUndefined();
    expect(settings.streams).toEqual([
      expect.objectContaining({ path: 'Shop/Events/Stream', mode: 'PROVISIONED', shardCount: 2 }),
    ]);
  });

  test('reads a plain function on a queue with a filter, in a stage', () => {
    const worker = consumerAt('Eu/Jobs/Worker');

    expect(worker).toMatchObject({
      batchSize: 5,
      filterPatterns: 1,
      idempotencyStore: false,
      memoryMB: 128,
      timeoutSeconds: 3,
      architecture: 'x86_64',
      effectTableIds: [],
    });
    expect(worker.kitConstruct).toBeUndefined();
  });

  test('finds the producer by the consumed queues and streams its environment names', () => {
    expect(settings.producers).toHaveLength(1);
    const [api] = settings.producers;
    expect(api).toMatchObject({ path: 'Shop/Api', memoryMB: 1024 });
    expect(api.queueIds.map(pathOf)).toEqual(['Shop/Orders/Queue']);
    expect(api.streamIds.map(pathOf)).toEqual(['Shop/Events/Stream']);
  });

  test('reads billing modes, alarms by resolution, dashboards and log retention', () => {
    expect(settings.tables.find((t) => t.path === 'Shop/OrdersTable')?.billingMode).toBe('PAY_PER_REQUEST');
    expect(settings.tables.find((t) => t.path === 'Shop/AuditTable')).toMatchObject({
      billingMode: 'PROVISIONED',
      writeCapacityUnits: 7,
    });
    expect(settings.alarms).toEqual({ standardMetrics: 1, highResolutionMetrics: 1, composite: 0 });
    expect(settings.dashboards).toBe(1);
    expect(settings.logGroups.find((g) => g.path === 'Eu/Jobs/WorkerLogs')?.retentionDays).toBeUndefined();
    expect(settings.logGroups.find((g) => g.path === 'Shop/Orders/Consumer/LogGroup')?.retentionDays).toBeGreaterThan(
      0,
    );
  });

  test('says what it does not charge', () => {
    expect(settings.otherFunctions.map((f) => f.path)).toEqual(['Shop/Nightly']);
    expect(settings.notes).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          'neither consumes nor publishes to a consumed queue or stream: not charged (Shop/Nightly)',
        ),
        'Shop/AuditTable has provisioned capacity (7 WCU): its capacity is billed by the hour, not per request; the model prices its writes at on-demand prices',
      ]),
    );
  });

  test('fails when the folder has no cloud assembly', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'eda-kit-cost-empty-'));

    expect(() => readAssemblySettings(empty)).toThrow(
      `no cloud assembly at ${empty} (no manifest.json): run \`npx cdk synth\` first, or give the folder it wrote`,
    );
  });
});
