import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { emulatorClients } from '../../local/emulators';
import { LocalCloud } from '../../local/local-cloud';
import { MetricsCollector } from '../../local/metrics-collector';
import { synthesize } from '../../local/synth';
import { runWorkload, type WorkloadReport } from '../../workload/order-workload';

const projectDir = path.resolve(__dirname, '..', '..');

describe('the order workload (npm start) on the local cloud', () => {
  let cloud: LocalCloud;
  let report: WorkloadReport;
  const metrics = new MetricsCollector();

  beforeAll(async () => {
    // GIVEN the reference app, synthesized and running locally, every call going through the single endpoint
    // (`npm start -- --single-endpoint`): the functions', the mappings' and the workload's
    mkdirSync(path.join(projectDir, '.test-out'), { recursive: true });
    const assemblyDir = mkdtempSync(path.join(projectDir, '.test-out', 'reference-'));
    await synthesize(projectDir, assemblyDir);
    const labels = new Map<string, string>();
    cloud = await LocalCloud.start({
      assemblyDir,
      edgePort: 0,
      routeThroughEdge: true,
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

  test('THEN the functions, the mappings and the workload called SQS, Kinesis and DynamoDB through the one endpoint', () => {
    const requests = cloud.edge?.requests;
    expect(requests?.sqs).toBeGreaterThan(0);
    expect(requests?.kinesis).toBeGreaterThan(0);
    expect(requests?.dynamodb).toBeGreaterThan(0);
    // Every queue URL the functions were given names the endpoint.
    expect(cloud.function('order-api').environment.ORDERS_QUEUE_URL.startsWith(`${cloud.edge?.url}/`)).toBe(true);
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
  const apiLog = path.join(projectDir, '.local', 'logs', 'order-api.log');
  const apiLogBefore = existsSync(apiLog) ? statSync(apiLog).size : 0;
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
  // AND each function's log lines are in its file under .local/logs, whole: the order API's, one per order
  const apiLines = readFileSync(apiLog).subarray(apiLogBefore).toString('utf8').split('\n');
  const published = apiLines.filter((line) => line.includes('"OrderPlaced published"'));
  expect(published.length).toBeGreaterThanOrEqual(3);
  for (const line of published) expect(JSON.parse(line), line).toMatchObject({ service: 'order-api' });
}, 90_000);
