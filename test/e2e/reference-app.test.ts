import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import { ListQueuesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { emulatorClients } from '../../local/emulators';
import { LocalCloud } from '../../local/local-cloud';
import { MetricsCollector } from '../../local/metrics-collector';
import { synthesize } from '../../local/synth';
import { replay } from '../../ops/replay';
import { readEffects, runWorkload, type WorkloadReport } from '../../workload/order-workload';
import { receiveAll } from '../helpers/reference';

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

  test('GIVEN the catalogue of bad events THEN each lands in the right DLQ with a clear reason, and nothing is blocked', async () => {
    const clients = emulatorClients(cloud.endpoints);
    const env = (label: string) => cloud.function(label).runtime.config.environment;
    const api = env('order-api');
    const valid = {
      type: 'OrderPlaced',
      eventId: randomUUID(),
      orderId: `bad-input-${randomUUID()}`,
      customerId: 'c-1',
      customerEmail: 'x@example.com',
      sku: 'SKU-BAD',
      quantity: 1,
      unitPriceCents: 100,
      currency: 'EUR',
      placedAt: new Date().toISOString(),
    };
    // Each bad event, the reason it must be given, and whether SQS can carry it (SQS bodies are text).
    const catalogue: [string, Buffer, string, boolean][] = [
      ['malformed JSON', Buffer.from('{"type":"OrderPlaced",'), 'InvalidJsonError', true],
      ['wrong types', Buffer.from(JSON.stringify({ ...valid, quantity: 'one' })), 'SchemaViolationError', true],
      [
        'missing idempotency key',
        Buffer.from(JSON.stringify({ ...valid, orderId: undefined })),
        'SchemaViolationError',
        true,
      ],
      [
        'unknown event type',
        Buffer.from(JSON.stringify({ ...valid, type: 'OrderTeleported' })),
        'UnknownEventTypeError',
        true,
      ],
      [
        'oversize body',
        Buffer.from(JSON.stringify({ ...valid, customerId: 'x'.repeat(300_000) })),
        'OversizeRecordError',
        true,
      ],
      // A raw control character inside a JSON string is not valid JSON.
      ['control characters', Buffer.from('{"type":"OrderPlaced","orderId":"a\u0001b"}'), 'InvalidJsonError', true],
      ['valid JSON, not an object', Buffer.from('"OrderPlaced"'), 'InvalidJsonError', true],
      ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'InvalidJsonError', false],
      ['binary data', Buffer.from([0x00, 0x01, 0x02, 0x80, 0x90]), 'InvalidJsonError', false],
    ];
    for (const [, bytes, , sqsCarries] of catalogue) {
      if (sqsCarries) {
        for (const queueUrl of [api.ORDERS_QUEUE_URL, api.NOTIFICATIONS_QUEUE_URL]) {
          await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: bytes.toString('utf8') }));
        }
      }
      await clients.kinesis.send(
        new PutRecordCommand({ StreamName: api.ORDER_EVENTS_STREAM_NAME, PartitionKey: 'SKU-BAD', Data: bytes }),
      );
    }
    // Producers cannot even write an empty or oversize partition key: Kinesis refuses it with a clear error.
    for (const partitionKey of ['', 'k'.repeat(257)]) {
      await expect(
        clients.kinesis.send(
          new PutRecordCommand({
            StreamName: api.ORDER_EVENTS_STREAM_NAME,
            PartitionKey: partitionKey,
            Data: Buffer.from('{}'),
          }),
        ),
      ).rejects.toThrow(/partition ?key|PartitionKey|length/i);
    }
    // A valid order after the bad ones, on the same queues and the same partition key.
    const processedBefore = Object.fromEntries(
      Object.keys(report.consumers).map((label) => [label, metrics.sum(label, 'ProcessedRecords')]),
    );
    const invoke = await cloud.function('order-api').runtime.invoke({
      body: JSON.stringify({ ...valid, type: undefined, eventId: undefined, placedAt: undefined }),
      isBase64Encoded: false,
    });
    expect(invoke).toMatchObject({ statusCode: 202 });

    // THEN the valid order gets through every consumer (nothing blocked, no environment left dead)
    const deadline = Date.now() + 30_000;
    const done = () =>
      Object.keys(processedBefore).every((label) => metrics.sum(label, 'ProcessedRecords') > processedBefore[label]);
    while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(done()).toBe(true);
    // AND every bad event sits in each consumer's DLQ once, with its reason
    const expectedByConsumer = {
      'order-processor': catalogue.filter(([, , , sqsCarries]) => sqsCarries),
      'notification-sender': catalogue.filter(([, , , sqsCarries]) => sqsCarries),
      'inventory-updater': catalogue,
      'audit-log-writer': catalogue,
      'analytics-aggregator': catalogue,
    };
    for (const [label, expected] of Object.entries(expectedByConsumer)) {
      const letters = await receiveAll(clients.sqs, env(label).DEAD_LETTER_QUEUE_URL);
      for (const [name, bytes, reason] of expected) {
        const encoded = letters.filter((letter) => {
          const body =
            letter.MessageAttributes?.['eda-kit.body-encoding']?.StringValue === 'base64'
              ? Buffer.from(letter.Body ?? '', 'base64')
              : Buffer.from(letter.Body ?? '', 'utf8');
          return (
            body.equals(bytes) ||
            (reason === 'OversizeRecordError' && letter.MessageAttributes?.['eda-kit.error']?.StringValue === reason)
          );
        });
        expect(encoded.length, `${label}: ${name}`).toBe(1);
        expect(encoded[0].MessageAttributes?.['eda-kit.error']?.StringValue, `${label}: ${name}`).toBe(reason);
      }
    }
  }, 90_000);

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
  // GIVEN the local cloud started by its CLI, after a few orders (reported as JSON), serving
  const jsonFile = path.join(mkdtempSync(path.join(tmpdir(), 'eda-kit-start-')), 'report.json');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'workload/start.ts', '--orders', '3', '--json', jsonFile, '--serve'],
    { cwd: projectDir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
    // AND the report of the orders says when the first event was processed, and that nothing was lost
    const report = JSON.parse(readFileSync(jsonFile, 'utf8'));
    expect(report).toMatchObject({ orders: 3, lost: 0, duplicatedEffects: 0 });
    expect(report.firstEventSeconds).toBeGreaterThan(0);
    expect(report.latencyMs.p99).toBeGreaterThanOrEqual(report.latencyMs.p50);
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited).toBe(0);
}, 90_000);
