import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { ListQueuesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { emulatorClients } from '../../local/emulators';
import { LocalCloud } from '../../local/local-cloud';
import { MetricsCollector } from '../../local/metrics-collector';
import { synthesize } from '../../local/synth';
import { readEffects, runWorkload, type WorkloadReport } from '../../local/workload';
import { replay } from '../../ops/replay';

const projectDir = path.resolve(__dirname, '..', '..');

describe('the reference app on the local cloud', () => {
  let cloud: LocalCloud;
  let report: WorkloadReport;
  const metrics = new MetricsCollector();

  beforeAll(async () => {
    // GIVEN the reference app, synthesized and running locally
    mkdirSync(path.join(projectDir, '.test-out'), { recursive: true });
    const assemblyDir = mkdtempSync(path.join(projectDir, '.test-out', 'reference-'));
    await synthesize(projectDir, assemblyDir);
    const labels = new Map<string, string>();
    cloud = await LocalCloud.start({
      assemblyDir,
      onOutput: (output) => metrics.collect(output, labels.get(output.functionName)),
    });
    for (const fn of cloud.functions) labels.set(fn.runtime.config.name, fn.runtime.config.label);
    // WHEN orders flow through it, with producer retries and invalid events
    report = await runWorkload(cloud, metrics, {
      orders: 40,
      duplicates: 0.25,
      invalid: 0.1,
      seed: 3,
      settleSeconds: 20,
    });
  }, 120_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  test('THEN every use case has its effect exactly once: nothing lost, nothing duplicated', () => {
    expect(report.lost).toBe(0);
    expect(report.duplicatedEffects).toBe(0);
    for (const [label, consumer] of Object.entries(report.consumers)) {
      expect(consumer.effects, label).toBe(consumer.expectedEffects);
    }
    expect(report.producerRetries).toBeGreaterThan(0);
  });

  test('THEN the producer retries were suppressed as duplicates by the consumers keyed by order', () => {
    for (const label of ['order-processor', 'notification-sender', 'inventory-updater', 'analytics-aggregator']) {
      expect(report.consumers[label].duplicates, label).toBe(report.producerRetries);
    }
    // The audit log keeps every event, retries included.
    expect(report.consumers['audit-log-writer'].processed).toBe(report.accepted);
  });

  test('WHEN records a consumer gave up on are replayed THEN the effects still exist exactly once', async () => {
    // GIVEN an on-failure record (as the event source mapping writes it) naming three records of the stream
    const clients = emulatorClients(cloud.endpoints);
    const inventory = cloud.function('inventory-updater').runtime.config.environment;
    const env = (label: string) => cloud.function(label).runtime.config.environment;
    const streamName = cloud.function('order-api').runtime.config.environment.ORDER_EVENTS_STREAM_NAME;
    const { StreamDescription } = await clients.kinesis.send(new DescribeStreamCommand({ StreamName: streamName }));
    const shardId = StreamDescription?.Shards?.[0]?.ShardId as string;
    const { ShardIterator } = await clients.kinesis.send(
      new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    const { Records = [] } = await clients.kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 3 }));
    expect(Records).toHaveLength(3);
    await clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: inventory.DEAD_LETTER_QUEUE_URL,
        MessageBody: JSON.stringify({
          requestContext: { condition: 'RetryAttemptsExhausted' },
          KinesisBatchInfo: {
            shardId,
            startSequenceNumber: Records[0].SequenceNumber,
            endSequenceNumber: Records[2].SequenceNumber,
            batchSize: 3,
            streamArn: StreamDescription?.StreamARN,
          },
        }),
      }),
    );
    const before = await readEffects(clients.dynamodb, clients.sqs, env);
    const duplicatesBefore = metrics.sum('inventory-updater', 'DuplicateRecords');

    // WHEN it is replayed
    const result = await replay(clients.sqs, clients.kinesis, { failureQueueUrl: inventory.DEAD_LETTER_QUEUE_URL });

    // THEN the three records are published again, every consumer sees them as duplicates, and no effect moves
    expect(result).toMatchObject({ batches: 1, records: 3, expired: 0 });
    const deadline = Date.now() + 30_000;
    while (metrics.sum('inventory-updater', 'DuplicateRecords') < duplicatesBefore + 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(metrics.sum('inventory-updater', 'DuplicateRecords')).toBe(duplicatesBefore + 3);
    const after = await readEffects(clients.dynamodb, clients.sqs, env);
    expect({ ...after, deadLetters: 0 }).toEqual({ ...before, deadLetters: 0 });
  }, 60_000);

  test('THEN each invalid event sits in the right dead-letter queue with its reason', () => {
    for (const [label, consumer] of Object.entries(report.consumers)) {
      expect(consumer.dlq, label).toBe(consumer.expectedDlq);
    }
    expect(report.invalidInjected).toBe(4);
    expect(Object.keys(report.deadLetterReasons).sort()).toEqual(
      expect.arrayContaining(['order-processor: InvalidJsonError', 'order-processor: SchemaViolationError']),
    );
    expect(Object.values(report.deadLetterReasons).reduce((a, b) => a + b, 0)).toBe(
      Object.values(report.consumers).reduce((sum, consumer) => sum + consumer.expectedDlq, 0),
    );
  });
});

test('npm start -- --serve answers an SDK client from outside its process, and stops cleanly on Ctrl-C', async () => {
  // GIVEN the local cloud started by its CLI, serving
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', '--orders', '0', '--serve'], {
    cwd: projectDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not serving after 60 s:\n${output}`)), 60_000);
      child.stdout.on('data', () => {
        if (output.includes('Serving.')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => reject(new Error(`exited with ${code}:\n${output}`)));
    });

    // WHEN a client reads .local/endpoints.json and calls the emulators
    const served = JSON.parse(readFileSync(path.join(projectDir, '.local', 'endpoints.json'), 'utf8'));
    const clients = emulatorClients(served.endpoints);
    const { QueueUrls = [] } = await clients.sqs.send(new ListQueuesCommand({}));
    const stack = served.resources['EdaKit-dev-OrderEvents'];
    const ordersTable = Object.values(stack as Record<string, { type: string; ref: string }>).find(
      (resource) => resource.type === 'AWS::DynamoDB::Table' && resource.ref.includes('OrdersTable'),
    );
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: ordersTable?.ref }));

    // THEN every queue of the template is there, and the tables answer under their local names
    expect(QueueUrls).toHaveLength(7);
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'orderId', KeyType: 'HASH' }]);
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited).toBe(0);
}, 90_000);
