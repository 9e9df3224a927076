import { type DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { CONSUMER_ENVIRONMENT, RECORD_METRIC_NAMES } from '../contract';
import type { LocalCloud } from '../local/local-cloud';
import type { MetricsCollector } from '../local/metrics-collector';
import { mulberry32 } from '../local/seeded-random';
import { deadLetterIdentity, deadLetterReason, isKitDeadLetter, listMessages } from '../ops/dead-letters';
import { emulatorClients } from '../ops/endpoint-clients';

/** The demo workload's shape. */
export interface WorkloadOptions {
  /** Distinct orders placed through the order API. */
  readonly orders: number;
  /** Share of orders the producer sends twice (a retry: same order ID, new event). */
  readonly duplicates: number;
  /** Invalid events, as a share of orders, written straight to the queues and the stream. */
  readonly invalid: number;
  readonly seed: number;
  /** Orders in flight at the order API at once. */
  readonly concurrency?: number;
  /** How long to wait for every effect after the last publish, in seconds. */
  readonly settleSeconds?: number;
  readonly onProgress?: (progress: { published: number; effects: number; expectedEffects: number }) => void;
  /**
   * Runs after the consumers settle and before the effects are checked: a chaos run redrives and replays what
   * the faults pushed into dead-letter and failure queues here.
   */
  readonly beforeCheck?: () => Promise<void>;
}

/** What one consumer did. */
export interface ConsumerReport {
  readonly processed: number;
  readonly duplicates: number;
  /** Messages in the consumer's dead-letter or failure queue, copies included. */
  readonly dlq: number;
  /**
   * Distinct records among them (by the kit's source ARN and record ID; a platform's move by its own identity). An
   * execution environment that dies between sending a dead letter and marking it sent leaves a second copy of that
   * dead letter: `dlq - dlqDistinct` such copies, by design (a record is never lost).
   */
  readonly dlqDistinct: number;
  /** Distinct records the queue should hold: the invalid events sent to this consumer. */
  readonly expectedDlq: number;
  readonly effects: number;
  readonly expectedEffects: number;
  readonly latencyMs: { readonly p50?: number; readonly p99?: number };
}

/** The demo's result: what went in, what each consumer did, and the two numbers that must be 0. */
export interface WorkloadReport {
  readonly orders: number;
  readonly eventsIn: number;
  readonly accepted: number;
  readonly producerRetries: number;
  readonly invalidInjected: number;
  readonly lost: number;
  readonly duplicatedEffects: number;
  readonly seconds: number;
  /** Time to publish everything, within `seconds`. */
  readonly publishSeconds: number;
  readonly ordersPerSecond: number;
  /** From publish to processing, over every record of every consumer (each record's age when its batch ran). */
  readonly latencyMs: { readonly p50?: number; readonly p99?: number };
  readonly deadLetterReasons: Record<string, number>;
  readonly consumers: Record<string, ConsumerReport>;
  /** CPU seconds by part of the local cloud (emulators, functions, the local cloud itself), when measured. */
  readonly cpuSecondsByPart?: Record<string, number>;
}

const SKUS = Array.from({ length: 20 }, (_, i) => `SKU-${String(i + 1).padStart(3, '0')}`);
export const QUEUE_CONSUMERS = ['order-processor', 'notification-sender'] as const;
export const STREAM_CONSUMERS = ['inventory-updater', 'audit-log-writer', 'analytics-aggregator'] as const;

/**
 * Drives the reference app: places `orders` orders through the order API (some twice, as a retrying producer
 * would), writes invalid events straight to the queues and the stream (as a faulty producer would), waits until
 * every effect exists or nothing moves any more, and checks each use case's effect against what was sent.
 */
export async function runWorkload(
  cloud: LocalCloud,
  metrics: MetricsCollector,
  options: WorkloadOptions,
): Promise<WorkloadReport> {
  // Through the single endpoint when the cloud has one, as a client outside (and, routed, its functions) would call.
  const edge = cloud.edge?.url;
  const clients = emulatorClients(edge ? { sqs: edge, kinesis: edge, dynamodb: edge } : cloud.endpoints);
  const random = mulberry32(options.seed);
  const api = cloud.function('order-api').runtime;
  const env = (label: string) => cloud.function(label).runtime.config.environment;

  // The seed decides what is ordered; the run ID keeps order IDs new on every run, so a kept data folder
  // (--data-dir) does not turn this run's orders into duplicates of the last one's.
  const runId = Date.now().toString(36);
  const orders = Array.from({ length: options.orders }, (_, i) => ({
    orderId: `o-${options.seed}-${runId}-${i}`,
    customerId: `c-${Math.floor(random() * 500)}`,
    customerEmail: `customer${i}@example.com`,
    sku: SKUS[Math.floor(random() * SKUS.length)],
    quantity: 1 + Math.floor(random() * 5),
    unitPriceCents: 100 + Math.floor(random() * 9_900),
    currency: 'EUR',
  }));
  // A producer retries after its first attempt timed out, not at the same instant: the retries go after the
  // originals. (Sent together, two pollers could take both at once, and the second would wait out the queue's
  // visibility timeout behind the first's in-progress idempotency record, as on AWS.)
  const retries = orders.filter(() => random() < options.duplicates);
  const requests = [...orders, ...retries];
  const invalidCount = Math.round(options.orders * options.invalid);

  const expected = {
    orders: orders.length,
    unitsBySku: new Map<string, number>(),
    invalid: { orders: 0, notifications: 0, stream: 0 },
  };
  for (const order of orders)
    expected.unitsBySku.set(order.sku, (expected.unitsBySku.get(order.sku) ?? 0) + order.quantity);

  // What the tables already hold (from an earlier run kept with --data-dir): this run is judged on the difference.
  const baseline = await readEffects(clients.dynamodb, clients.sqs, env);
  const started = Date.now();
  let published = 0;
  let accepted = 0;
  const effectCount = { value: 0 };
  const expectedEffects = () => orders.length * 4 + accepted;
  const progress = () =>
    options.onProgress?.({ published, effects: effectCount.value, expectedEffects: expectedEffects() });

  // Publish: orders through the API, with bounded concurrency; invalid events straight to the sources.
  let next = 0;
  await Promise.all(
    Array.from({ length: options.concurrency ?? 8 }, async () => {
      while (next < requests.length) {
        const request = requests[next++];
        const response = (await api.invoke({ body: JSON.stringify(request), isBase64Encoded: false })) as {
          statusCode: number;
        };
        published++;
        if (response.statusCode === 202) accepted++;
        if (published % 50 === 0) progress();
      }
    }),
  );
  for (let i = 0; i < invalidCount; i++) {
    const body = invalidBody(i);
    const target = i % 3;
    if (target === 0) {
      await clients.sqs.send(
        new SendMessageCommand({ QueueUrl: env('order-api').ORDERS_QUEUE_URL, MessageBody: body }),
      );
      expected.invalid.orders++;
    } else if (target === 1) {
      await clients.sqs.send(
        new SendMessageCommand({ QueueUrl: env('order-api').NOTIFICATIONS_QUEUE_URL, MessageBody: body }),
      );
      expected.invalid.notifications++;
    } else {
      await clients.kinesis.send(
        new PutRecordCommand({
          StreamName: env('order-api').ORDER_EVENTS_STREAM_NAME,
          PartitionKey: `bad-${i}`,
          Data: Buffer.from(body),
        }),
      );
      expected.invalid.stream++;
    }
  }
  progress();
  const publishSeconds = (Date.now() - started) / 1000;

  // Wait until every consumer has handled every record sent to it (the EMF counts its functions print: scanning
  // the tables while they fill would cost the emulators more than the consumers), or nothing has moved for a while.
  const handled = (label: string) =>
    metrics.sum(label, RECORD_METRIC_NAMES.processed) +
    metrics.sum(label, RECORD_METRIC_NAMES.duplicate) +
    metrics.sum(label, RECORD_METRIC_NAMES.invalid);
  const delivered: Record<string, number> = {
    'order-processor': accepted + expected.invalid.orders,
    'notification-sender': accepted + expected.invalid.notifications,
    'inventory-updater': accepted + expected.invalid.stream,
    'audit-log-writer': accepted + expected.invalid.stream,
    'analytics-aggregator': accepted + expected.invalid.stream,
  };
  const labels = Object.keys(delivered);
  const handledTotal = () => labels.reduce((sum, label) => sum + Math.min(handled(label), delivered[label]), 0);
  const deliveredTotal = labels.reduce((sum, label) => sum + delivered[label], 0);
  const settleMs = (options.settleSeconds ?? 30) * 1000;
  let last = handledTotal();
  let lastChange = Date.now();
  while (last < deliveredTotal && Date.now() - lastChange < settleMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const current = handledTotal();
    if (current !== last) lastChange = Date.now();
    last = current;
    effectCount.value = Math.round((current / deliveredTotal) * expectedEffects());
    progress();
  }
  await options.beforeCheck?.();
  // Let the last batches' deletes and dead letters land before reading the tables.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const effects = difference(await readEffects(clients.dynamodb, clients.sqs, env), baseline);
  effectCount.value = effects.total;
  progress();
  const seconds = (Date.now() - started) / 1000;

  // Check every use case against what was sent.
  let lost = 0;
  let duplicatedEffects = 0;
  const tally = (actual: number, wanted: number) => {
    lost += Math.max(0, wanted - actual);
    duplicatedEffects += Math.max(0, actual - wanted);
  };
  tally(effects.orders, orders.length);
  tally(effects.emails, orders.length);
  tally(effects.auditEntries, accepted);
  for (const [sku, units] of expected.unitsBySku) tally(effects.reservedBySku.get(sku) ?? 0, units);
  tally(effects.analyticsOrders, orders.length);
  const dlqs = await deadLetterCounts(clients.sqs, cloud);
  const expectedDlq: Record<string, number> = {
    'order-processor': expected.invalid.orders,
    'notification-sender': expected.invalid.notifications,
    'inventory-updater': expected.invalid.stream,
    'audit-log-writer': expected.invalid.stream,
    'analytics-aggregator': expected.invalid.stream,
  };
  // A second copy of a dead letter is not a second effect: each record's dead letter is judged once.
  for (const label of [...QUEUE_CONSUMERS, ...STREAM_CONSUMERS]) tally(dlqs.distinct[label] ?? 0, expectedDlq[label]);

  const effectsOf: Record<string, [number, number]> = {
    'order-processor': [effects.orders, orders.length],
    'notification-sender': [effects.emails, orders.length],
    'inventory-updater': [effects.inventoryOrders, orders.length],
    'audit-log-writer': [effects.auditEntries, accepted],
    'analytics-aggregator': [effects.analyticsOrders, orders.length],
  };
  const consumers = Object.fromEntries(
    [...QUEUE_CONSUMERS, ...STREAM_CONSUMERS].map((label) => [
      label,
      {
        processed: metrics.sum(label, RECORD_METRIC_NAMES.processed),
        duplicates: metrics.sum(label, RECORD_METRIC_NAMES.duplicate),
        dlq: dlqs.counts[label] ?? 0,
        dlqDistinct: dlqs.distinct[label] ?? 0,
        expectedDlq: expectedDlq[label],
        effects: effectsOf[label][0],
        expectedEffects: effectsOf[label][1],
        latencyMs: {
          p50: metrics.percentile(label, RECORD_METRIC_NAMES.recordAge, 50),
          p99: metrics.percentile(label, RECORD_METRIC_NAMES.recordAge, 99),
        },
      },
    ]),
  );
  return {
    orders: orders.length,
    eventsIn: published + invalidCount,
    accepted,
    producerRetries: requests.length - orders.length,
    invalidInjected: invalidCount,
    lost,
    duplicatedEffects,
    seconds,
    publishSeconds,
    ordersPerSecond: orders.length / seconds,
    latencyMs: {
      p50: metrics.percentileOfAll(RECORD_METRIC_NAMES.recordAge, 50),
      p99: metrics.percentileOfAll(RECORD_METRIC_NAMES.recordAge, 99),
    },
    deadLetterReasons: dlqs.reasons,
    consumers,
  };
}

/** Invalid events of the kinds a faulty producer writes. */
function invalidBody(i: number): string {
  const kinds = [
    '{"type":"OrderPlaced","orderId":',
    JSON.stringify({ type: 'OrderPlaced', orderId: `bad-${i}`, quantity: 'three' }),
    JSON.stringify({ type: 'OrderCancelled', orderId: `bad-${i}` }),
    '[1,2,3]',
  ];
  return kinds[Math.floor(i / 3) % kinds.length];
}

/** What the reference app's tables hold, counted per use case. */
export interface Effects {
  orders: number;
  emails: number;
  auditEntries: number;
  inventoryOrders: number;
  reservedBySku: Map<string, number>;
  analyticsOrders: number;
  deadLetters: number;
  total: number;
}

export async function readEffects(
  dynamodb: DynamoDBClient,
  sqs: SQSClient,
  env: (label: string) => Record<string, string>,
): Promise<Effects> {
  const [orders, emails, audit, inventory, analytics] = await Promise.all([
    scan(dynamodb, env('order-processor').ORDERS_TABLE_NAME),
    scan(dynamodb, env('notification-sender').SENT_EMAILS_TABLE_NAME),
    scan(dynamodb, env('audit-log-writer').AUDIT_LOG_TABLE_NAME),
    scan(dynamodb, env('inventory-updater').INVENTORY_TABLE_NAME),
    scan(dynamodb, env('analytics-aggregator').ANALYTICS_TABLE_NAME),
  ]);
  // A SKU's reservations are spread over several items (one per minute and slot); the table also holds a pin per
  // order (`order#<orderId>`), which reserves nothing.
  const reservedBySku = new Map<string, number>();
  for (const item of inventory) {
    const sku = String(item.sku);
    if (sku.startsWith('order#')) continue;
    reservedBySku.set(sku, (reservedBySku.get(sku) ?? 0) + Number(item.reserved ?? 0));
  }
  const inventoryOrders = inventory.reduce((sum, item) => sum + Number(item.orderCount ?? 0), 0);
  const analyticsOrders = analytics.reduce((sum, item) => sum + Number(item.orderCount ?? 0), 0);
  let deadLetters = 0;
  for (const label of [...QUEUE_CONSUMERS, ...STREAM_CONSUMERS]) {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: env(label)[CONSUMER_ENVIRONMENT.deadLetterQueueUrl],
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    deadLetters +=
      Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  }
  return {
    orders: orders.length,
    emails: emails.length,
    auditEntries: audit.length,
    inventoryOrders,
    reservedBySku,
    analyticsOrders,
    deadLetters,
    total: orders.length + emails.length + audit.length + inventoryOrders + analyticsOrders,
  };
}

function difference(after: Effects, before: Effects): Effects {
  const reservedBySku = new Map(
    [...after.reservedBySku].map(([sku, reserved]) => [sku, reserved - (before.reservedBySku.get(sku) ?? 0)]),
  );
  return {
    orders: after.orders - before.orders,
    emails: after.emails - before.emails,
    auditEntries: after.auditEntries - before.auditEntries,
    inventoryOrders: after.inventoryOrders - before.inventoryOrders,
    reservedBySku,
    analyticsOrders: after.analyticsOrders - before.analyticsOrders,
    deadLetters: after.deadLetters - before.deadLetters,
    total: after.total - before.total,
  };
}

/**
 * Counts each consumer's dead letters, copies included and as distinct records, and the kit's by reason (the
 * platform's as `platform:<condition>`). Each message is read once, however long the reading takes.
 */
async function deadLetterCounts(sqs: SQSClient, cloud: LocalCloud) {
  const counts: Record<string, number> = {};
  const distinct: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  for (const label of [...QUEUE_CONSUMERS, ...STREAM_CONSUMERS]) {
    const queueUrl = cloud.function(label).runtime.config.environment[CONSUMER_ENVIRONMENT.deadLetterQueueUrl];
    const messages = await listMessages(sqs, queueUrl);
    counts[label] = messages.length;
    distinct[label] = new Set(messages.map(deadLetterIdentity)).size;
    for (const message of messages) {
      const reason = isKitDeadLetter(message)
        ? `${label}: ${deadLetterReason(message)}`
        : `${label}: platform:${platformCondition(message.Body)}`;
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
  }
  return { counts, distinct, reasons };
}

/** The condition of a Kinesis on-failure record, or `redrive` for a message SQS moved after maxReceiveCount. */
function platformCondition(body: string | undefined): string {
  try {
    return (
      (JSON.parse(body ?? '') as { requestContext?: { condition?: string } }).requestContext?.condition ?? 'redrive'
    );
  } catch {
    return 'redrive';
  }
}

async function scan(client: DynamoDBClient, tableName: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client }, { TableName: tableName })) {
    for (const item of page.Items ?? []) items.push(unmarshall(item));
  }
  return items;
}
