import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import Table from 'cli-table3';
import { CONSUMER_ENVIRONMENT } from '../contract';
import { buildReferenceApp } from '../lib/stacks/reference-app';
import { type BenchResult, finish, RESULTS_FILE, withinBudget } from './results';

/**
 * The cost model of `npm run bench` (figure 7): the estimated AWS cost of one million `OrderPlaced` events through
 * the reference app, with the settings its synthesized CloudFormation gives every event source mapping and
 * function, against two other configurations of the same app:
 * - naive: batch size 1, no batching window, no in-batch dedupe (Powertools' documented pattern, one record per
 *   invocation);
 * - floor: the cheapest configuration that keeps the same guarantees (at-least-once delivery, every effect applied
 *   once): the largest batch each source allows, and only the writes those guarantees need.
 *
 * {@link estimateCost} and the configurations are pure functions of (settings, workload, prices);
 * {@link synthesizeReferenceTemplate} builds the app in this process, and {@link costResults} also reads
 * bench/prices.json and bench/results.json. `npx tsx bench/cost.ts` prints the bill and writes the figures.
 */

// ---------------------------------------------------------------------------------------------------------------
// Prices

/** bench/prices.json: AWS us-east-1 list prices, each with its source and date. */
export const PRICES_FILE = path.join(__dirname, 'prices.json');

/** Every price the model charges. */
export const PRICE_NAMES = [
  'lambda.requests',
  'lambda.arm64.gbSecond',
  'lambda.x86_64.gbSecond',
  'sqs.standard.requests',
  'sqs.fifo.requests',
  'kinesis.onDemand.streamHour',
  'kinesis.onDemand.ingestGB',
  'kinesis.onDemand.retrievalGB',
  'kinesis.onDemand.efoRetrievalGB',
  'kinesis.provisioned.shardHour',
  'kinesis.provisioned.putPayloadUnits',
  'kinesis.provisioned.efoConsumerShardHour',
  'kinesis.provisioned.efoRetrievalGB',
  'dynamodb.onDemand.writeRequestUnits',
  'dynamodb.onDemand.readRequestUnits',
  'cloudwatch.logs.ingestGB',
] as const;

/** The name of a price in bench/prices.json. */
export type PriceName = (typeof PRICE_NAMES)[number];

/** One list price: `usd` for `per` `unit`. */
export interface Price {
  readonly usd: number;
  readonly per: number;
  readonly unit: string;
  /** The AWS pricing page it comes from. */
  readonly source: string;
  /** The date the price is known to hold (YYYY-MM-DD). */
  readonly asOf: string;
  readonly checkedAgainst?: readonly string[];
  readonly note?: string;
}

/** Every price the model charges, by name. */
export type Prices = Readonly<Record<PriceName, Price>>;

/** Reads and checks bench/prices.json (or `file`): every price present, positive, with its source and date. */
export function loadPrices(file: string = PRICES_FILE): Prices {
  const document = JSON.parse(readFileSync(file, 'utf8')) as { prices?: Record<string, Price> };
  const prices = document.prices ?? {};
  const problems: string[] = [];
  for (const name of PRICE_NAMES) {
    const price = prices[name];
    if (!price) {
      problems.push(`${name} is missing`);
      continue;
    }
    if (!(price.usd > 0) || !(price.per > 0)) problems.push(`${name} needs a positive usd and per`);
    if (!/^https:\/\/aws\.amazon\.com\//.test(price.source ?? '')) {
      problems.push(`${name} needs its AWS pricing page as source, got ${price.source}`);
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(price.asOf ?? '')) problems.push(`${name} needs asOf as YYYY-MM-DD`);
  }
  if (problems.length > 0) throw new Error(`${file} is not usable:\n  - ${problems.join('\n  - ')}`);
  return prices as Prices;
}

function rate(prices: Prices, name: PriceName): number {
  return prices[name].usd / prices[name].per;
}

// ---------------------------------------------------------------------------------------------------------------
// The app's settings, read from the synthesized template

/** A CloudFormation template, as far as the model reads it. */
export interface CfnTemplate {
  readonly Resources: Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>;
}

/** Where a consumer reads from. */
export type ConsumerSource =
  | { readonly kind: 'sqs'; readonly queueId: string; readonly fifo: boolean }
  | { readonly kind: 'kinesis'; readonly streamId: string; readonly enhancedFanOut: boolean };

/** One event source mapping and its function, as the template configures them. */
export interface ConsumerSettings {
  /** The function's `POWERTOOLS_SERVICE_NAME` (else its logical ID). */
  readonly name: string;
  readonly source: ConsumerSource;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  /** Concurrent batches per shard (Kinesis); 1 for SQS. */
  readonly parallelizationFactor: number;
  readonly memoryMB: number;
  readonly timeoutSeconds: number;
  readonly architecture: 'arm64' | 'x86_64';
}

/** A Kinesis stream of the template. */
export interface StreamSettings {
  readonly id: string;
  readonly mode: 'ON_DEMAND' | 'PROVISIONED';
  /** Provisioned streams only. */
  readonly shardCount?: number;
}

/** A function that publishes every event it receives to the queues and streams its environment names. */
export interface ProducerSettings {
  readonly name: string;
  readonly memoryMB: number;
  readonly architecture: 'arm64' | 'x86_64';
  /** Logical IDs of the consumed queues it sends each event to (one SendMessage each). */
  readonly queueIds: readonly string[];
  /** Logical IDs of the consumed streams it puts each event on (one PutRecord each). */
  readonly streamIds: readonly string[];
}

/** What the model needs from the template. */
export interface AppSettings {
  readonly consumers: readonly ConsumerSettings[];
  readonly streams: readonly StreamSettings[];
  readonly producers: readonly ProducerSettings[];
}

/**
 * Synthesizes the reference app in this process (as `cdk synth` does, without bundling the functions: the model
 * reads settings, not code) and returns its template.
 */
export function synthesizeReferenceTemplate(context: Record<string, unknown> = {}): CfnTemplate {
  const outdir = mkdtempSync(path.join(tmpdir(), 'eda-kit-cost-'));
  try {
    const app = new App({
      outdir,
      builtinCloudFormationValidation: false,
      context: { 'aws:cdk:bundling-stacks': [], ...context },
    });
    const { orderEvents } = buildReferenceApp(app);
    return Template.fromStack(orderEvents).toJSON() as CfnTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * Reads every `AWS::Lambda::EventSourceMapping` (batch size, batching window, parallelization factor, source), its
 * function (memory, timeout, architecture), each stream's capacity mode and the producers. A setting left out of
 * the template takes the CloudFormation default.
 */
export function readAppSettings(template: CfnTemplate): AppSettings {
  const resources = template.Resources;
  const resource = (id: string, where: string) => {
    const found = resources[id];
    if (!found) throw new Error(`${where} refers to ${id}, which is not in the template`);
    return found;
  };
  const consumerFunctionIds = new Set<string>();
  const consumers = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping')
    .map(([id, mapping]): ConsumerSettings => {
      const props = mapping.Properties ?? {};
      const functionId = logicalId(props.FunctionName, `${id}.FunctionName`);
      consumerFunctionIds.add(functionId);
      const fn = resource(functionId, id);
      const sourceId = logicalId(props.EventSourceArn, `${id}.EventSourceArn`);
      const sourceResource = resource(sourceId, id);
      let source: ConsumerSource;
      if (sourceResource.Type === 'AWS::SQS::Queue') {
        source = { kind: 'sqs', queueId: sourceId, fifo: at(sourceResource.Properties, 'FifoQueue') === true };
      } else if (sourceResource.Type === 'AWS::Kinesis::Stream') {
        source = { kind: 'kinesis', streamId: sourceId, enhancedFanOut: false };
      } else if (sourceResource.Type === 'AWS::Kinesis::StreamConsumer') {
        const streamId = logicalId(at(sourceResource.Properties, 'StreamARN'), `${sourceId}.StreamARN`);
        source = { kind: 'kinesis', streamId, enhancedFanOut: true };
      } else {
        throw new Error(`${id} reads from ${sourceId}, a ${sourceResource.Type}: the model knows SQS and Kinesis`);
      }
      return {
        name: serviceName(functionId, fn.Properties),
        source,
        batchSize: numberOr(props.BatchSize, source.kind === 'sqs' ? 10 : 100, `${id}.BatchSize`),
        maxBatchingWindowSeconds: numberOr(props.MaximumBatchingWindowInSeconds, 0, `${id}.MaximumBatchingWindow`),
        parallelizationFactor: numberOr(props.ParallelizationFactor, 1, `${id}.ParallelizationFactor`),
        ...functionSettings(functionId, fn.Properties),
      };
    });

  const consumedQueues = new Set(consumers.flatMap((c) => (c.source.kind === 'sqs' ? [c.source.queueId] : [])));
  const consumedStreams = new Set(consumers.flatMap((c) => (c.source.kind === 'kinesis' ? [c.source.streamId] : [])));
  const producers = Object.entries(resources)
    .filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && !consumerFunctionIds.has(id))
    .map(([id, fn]): ProducerSettings => {
      const variables = at(fn.Properties, 'Environment', 'Variables') ?? {};
      const refs = Object.values(variables as Record<string, unknown>).flatMap((value) => {
        const ref = referencedId(value);
        return ref ? [ref] : [];
      });
      const { memoryMB, architecture } = functionSettings(id, fn.Properties);
      return {
        name: serviceName(id, fn.Properties),
        memoryMB,
        architecture,
        queueIds: refs.filter((ref) => consumedQueues.has(ref)),
        streamIds: refs.filter((ref) => consumedStreams.has(ref)),
      };
    })
    .filter((producer) => producer.queueIds.length + producer.streamIds.length > 0);

  const streams = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Kinesis::Stream')
    .map(([id, stream]): StreamSettings => {
      // CloudFormation's default mode is PROVISIONED (1 shard) when StreamModeDetails is absent.
      const mode =
        at(stream.Properties, 'StreamModeDetails', 'StreamMode') === 'ON_DEMAND' ? 'ON_DEMAND' : 'PROVISIONED';
      return mode === 'ON_DEMAND'
        ? { id, mode }
        : { id, mode, shardCount: numberOr(at(stream.Properties, 'ShardCount'), 1, `${id}.ShardCount`) };
    });
  return { consumers, streams, producers };
}

function functionSettings(id: string, props: Record<string, unknown> | undefined) {
  const architecture = at(props, 'Architectures', 0) === 'arm64' ? 'arm64' : 'x86_64';
  return {
    memoryMB: numberOr(at(props, 'MemorySize'), 128, `${id}.MemorySize`),
    timeoutSeconds: numberOr(at(props, 'Timeout'), 3, `${id}.Timeout`),
    architecture,
  } as const;
}

function serviceName(id: string, props: Record<string, unknown> | undefined): string {
  const name = at(props, 'Environment', 'Variables', CONSUMER_ENVIRONMENT.serviceName);
  return typeof name === 'string' ? name : id;
}

/** The value at `path` inside a template value, if every step is an object. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function referencedId(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const ref = (value as { Ref?: unknown }).Ref;
  if (typeof ref === 'string') return ref;
  const getAtt = (value as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

function logicalId(value: unknown, where: string): string {
  const id = referencedId(value);
  if (!id)
    throw new Error(`${where} is not a Ref or Fn::GetAtt of a resource in the template: ${JSON.stringify(value)}`);
  return id;
}

function numberOr(value: unknown, fallback: number, where: string): number {
  if (value === undefined) return fallback;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) {
    throw new Error(`${where} is not a number the model can read: ${JSON.stringify(value)}`);
  }
  return number;
}

// ---------------------------------------------------------------------------------------------------------------
// The workload and the reference app's effects

/** DynamoDB requests the idempotency store makes per record (each writes an item under 1 KB: 1 WRU). */
export interface IdempotencyRequests {
  /** A new key: conditional PutItem (INPROGRESS) + UpdateItem (COMPLETED). */
  readonly newWrites: number;
  /** A duplicate of a key earlier in the same batch (the kit settles it in memory). */
  readonly duplicateInBatchWrites: number;
  /** A duplicate of a key completed in an earlier invocation, not in the local cache: the failed PutItem. */
  readonly duplicateAcrossInvocationsWrites: number;
  /** Reads for such a duplicate: 0 on AWS, which returns the stored record with the failed PutItem. */
  readonly duplicateAcrossInvocationsReads: number;
}

/** What flows through the app, and how long things take. Every field is an assumption the notes state. */
export interface Workload {
  /** Orders placed per second, steady. */
  readonly ordersPerSecond: number;
  /** Share of orders the producer sends twice (a retry: a new event with a new eventId and the same orderId). */
  readonly duplicates: number;
  /** Seconds between an order's first event and its retry. */
  readonly retryDelaySeconds: number;
  /** Distinct SKUs (the stream's partition key and the inventory's item key). */
  readonly skus: number;
  /** Bytes of an order ID (the marker `addOnce` keeps in a set). */
  readonly orderIdBytes: number;
  /** Wall time of one DynamoDB request from Lambda. */
  readonly dynamoDBLatencyMs: number;
  /** Wall time of the order API's three sends, made at once. */
  readonly publishLatencyMs: number;
  /** CPU time to parse, validate and issue the requests of one record, on one full vCPU. */
  readonly cpuMsPerRecord: number;
  /** CPU time each invocation spends besides its records (event decoding, batch response, metrics flush). */
  readonly cpuMsPerInvocation: number;
  /** Keys (SQS: idempotency keys; Kinesis: partition keys) processed at once: the runtime kit's `maxConcurrency`. */
  readonly maxConcurrency: number;
  /** Share of later-invocation duplicates the kit finds in its in-memory cache of completed keys (0 requests). */
  readonly cachedDuplicates: number;
  readonly idempotencyRequests: IdempotencyRequests;
  /** CloudWatch Logs bytes per invocation: START/END/REPORT lines, one EMF document or log line, 26 B per event. */
  readonly logBytesPerInvocation: number;
  /** CloudWatch Logs bytes per record (its values in the EMF document). */
  readonly logBytesPerRecord: number;
  /** Items per minute over which the inventory updater's `addOnce` spreads a SKU's markers (its `SLOTS_PER_MINUTE`). */
  readonly markerSlotsPerMinute: number;
  /** Items per minute over which the analytics aggregator's `addOnce` spreads a minute's markers (its `SLOTS_PER_MINUTE`). */
  readonly analyticsSlotsPerMinute: number;
}

/** The model's default workload, each value with where it comes from. */
export const DEFAULT_WORKLOAD: Workload = {
  // The local cloud's throughput budget (bench/local.ts), and the rate the analytics marker slots are sized for.
  ordersPerSecond: 300,
  // `npm start --duplicates`.
  duplicates: 0.1,
  // A producer retries after its first attempt timed out, not at once (as workload/order-workload.ts sends them).
  retryDelaySeconds: 1,
  // The local workload's SKUs.
  skus: 20,
  // A UUID.
  orderIdBytes: 36,
  // bench/runtime.ts --latency-ms.
  dynamoDBLatencyMs: 5,
  // SendMessage and PutRecord within a region.
  publishLatencyMs: 10,
  // Estimates, not measurements: JSON, valibot, a hash and three signed SDK requests per record.
  cpuMsPerRecord: 0.5,
  cpuMsPerInvocation: 0.3,
  // createQueueConsumer / createStreamConsumer default.
  maxConcurrency: 10,
  // Conservative: every later duplicate meets a new execution environment (bench: 0 requests when warm).
  cachedDuplicates: 0,
  // bench/runtime.ts: ddb.requestsPerRecord.new and .duplicateInBatch; on AWS, the failed PutItem of a later
  // duplicate returns the stored record (dynalite needs a GetItem too).
  idempotencyRequests: {
    newWrites: 2,
    duplicateInBatchWrites: 0,
    duplicateAcrossInvocationsWrites: 1,
    duplicateAcrossInvocationsReads: 0,
  },
  // START (~75 B), END (~55 B), REPORT (~160 B), one EMF document or JSON log line (~600 B), 26 B per log event.
  logBytesPerInvocation: 1000,
  // A record's values in the EMF document (RecordAge, ProcessedRecords).
  logBytesPerRecord: 8,
  // SLOTS_PER_MINUTE of lambdas/inventory-updater and of lambdas/analytics-aggregator (the test checks both).
  markerSlotsPerMinute: 8,
  analyticsSlotsPerMinute: 256,
};

/** A representative `OrderPlaced` event of the workload. */
export function sampleOrderPlaced(workload: Workload): Record<string, string | number> {
  return {
    orderId: 'o'.padEnd(workload.orderIdBytes, '0'),
    customerId: 'c-000123',
    customerEmail: 'customer123@example.com',
    sku: 'SKU-001',
    quantity: 2,
    unitPriceCents: 1250,
    currency: 'EUR',
    type: 'OrderPlaced',
    eventId: '00000000-0000-4000-8000-000000000000',
    placedAt: '2026-01-01T00:00:00.000Z',
  };
}

/** The write a consumer's effect makes: its item is built from an event as the handler builds it. */
export type EffectWrite =
  | {
      /** `putIfAbsent`: one conditional PutItem of a new item. */
      readonly kind: 'putIfAbsent';
      readonly item: (event: Record<string, string | number>) => Record<string, unknown>;
    }
  | {
      /** `addOnce`: one conditional UpdateItem that adds to counters and adds the marker to a set in the item. */
      readonly kind: 'addOnce';
      /** The key and counters (without the marker set). */
      readonly item: (event: Record<string, string | number>) => Record<string, unknown>;
      readonly markerAttribute: string;
      /**
       * The handler first pins the item an order counts in (`pinFirst`: one conditional PutItem of a small item;
       * a repeat fails its condition and reads the pin).
       */
      readonly pinned: boolean;
      /** The handler's `SLOTS_PER_MINUTE`: items per key and minute. */
      readonly slotsPerMinute: (workload: Workload) => number;
      /** How many items share a minute's markers. */
      readonly itemsPerMinute: (workload: Workload) => number;
    };

/** How a consumer identifies and applies an event. */
export interface EffectProfile {
  /** The business field of its idempotency key: a producer's retry repeats `orderId`, never `eventId`. */
  readonly idempotencyKey: 'orderId' | 'eventId';
  readonly write: EffectWrite;
}

/**
 * The reference consumers' effects, as lambdas/<name>/handler.ts applies them (test/bench/cost.test.ts checks each
 * against its handler's source).
 */
export const REFERENCE_EFFECTS: Readonly<Record<string, EffectProfile>> = {
  'order-processor': {
    idempotencyKey: 'orderId',
    write: {
      kind: 'putIfAbsent',
      item: (event) => ({
        orderId: event.orderId,
        customerId: event.customerId,
        sku: event.sku,
        quantity: event.quantity,
        totalCents: Number(event.quantity) * Number(event.unitPriceCents),
        currency: event.currency,
        status: 'CREATED',
        placedAt: event.placedAt,
        createdByEventId: event.eventId,
      }),
    },
  },
  'notification-sender': {
    idempotencyKey: 'orderId',
    write: {
      kind: 'putIfAbsent',
      item: (event) => ({
        messageId: `order-confirmation#${event.orderId}`,
        to: event.customerEmail,
        subject: `Your order ${event.orderId} is confirmed`,
        text: `Thank you for your order of ${event.quantity} x ${event.sku}: 25.00 ${event.currency}.`,
        recordedAt: event.placedAt,
      }),
    },
  },
  'inventory-updater': {
    idempotencyKey: 'orderId',
    write: {
      kind: 'addOnce',
      item: (event) => ({ sku: event.sku, slot: 236_666_880, reserved: 150, orderCount: 75 }),
      markerAttribute: 'orderIds',
      pinned: true,
      slotsPerMinute: (workload) => workload.markerSlotsPerMinute,
      itemsPerMinute: (workload) => workload.skus * workload.markerSlotsPerMinute,
    },
  },
  'audit-log-writer': {
    idempotencyKey: 'eventId',
    write: {
      kind: 'putIfAbsent',
      item: (event) => ({
        eventId: event.eventId,
        type: event.type,
        orderId: event.orderId,
        occurredAt: event.placedAt,
        source: `shardId-000000000000:${'4'.repeat(56)}`,
        recordedAt: event.placedAt,
      }),
    },
  },
  'analytics-aggregator': {
    idempotencyKey: 'orderId',
    write: {
      kind: 'addOnce',
      item: (event) => ({
        minute: String(event.placedAt).slice(0, 16),
        slot: 7,
        orderCount: 2250,
        revenueCents: 5_625_000,
      }),
      markerAttribute: 'orderIds',
      pinned: true,
      slotsPerMinute: (workload) => workload.analyticsSlotsPerMinute,
      itemsPerMinute: (workload) => workload.analyticsSlotsPerMinute,
    },
  },
};

/**
 * An item's size as DynamoDB bills it: each attribute's name plus its value (strings and string sets in UTF-8
 * bytes; numbers 1 byte per 2 significant digits + 1; lists and maps 3 bytes + their elements).
 */
export function itemBytes(item: Record<string, unknown>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value), 0);
}

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace(/[.-]|^0+|0+$/g, '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null || value === undefined) return 1;
  if (value instanceof Set) return [...value].reduce((sum: number, element) => sum + valueBytes(element), 0);
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, element) => sum + 1 + valueBytes(element), 0);
  if (typeof value === 'object') return 3 + itemBytes(value as Record<string, unknown>) + Object.keys(value).length;
  return 0;
}

/** Write request units for an item of `bytes`: one per started KB. */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

/** DynamoDB's item size limit. */
export const DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024;

/** Write units of an effect: when it applies, when its condition fails (a repeat), and its largest item. */
export interface EffectUnits {
  readonly applied: number;
  readonly failed: number;
  readonly largestItemBytes: number;
  /** Markers an `addOnce` item collects over its minute. */
  readonly markersPerItem?: number;
}

/**
 * WRUs of one effect write. `addOnce` is an UpdateItem, billed on the larger of the item before and after: its
 * item grows by one marker per order until its minute ends, so the average is taken over that growth.
 */
export function effectUnits(effect: EffectProfile, workload: Workload): EffectUnits {
  const event = sampleOrderPlaced(workload);
  const base = itemBytes(effect.write.item(event));
  if (effect.write.kind === 'putIfAbsent') {
    const units = writeUnits(base);
    return { applied: units, failed: units, largestItemBytes: base };
  }
  const withName = base + Buffer.byteLength(effect.write.markerAttribute);
  const markers = Math.max(1, (workload.ordersPerSecond * 60) / effect.write.itemsPerMinute(workload));
  const count = Math.max(1, Math.round(markers));
  let total = 0;
  for (let k = 1; k <= count; k++) total += writeUnits(withName + k * workload.orderIdBytes);
  const average = total / count;
  // The pin: a small item, one write unit whether it is created or its condition fails.
  const pin = effect.write.pinned ? 1 : 0;
  // A repeat's failed condition is billed on the item as it stands: on average, the same.
  return {
    applied: average + pin,
    failed: average + pin,
    largestItemBytes: withName + count * workload.orderIdBytes,
    markersPerItem: markers,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Configurations

/** How a configuration's consumers process a batch. */
export interface Processing {
  /** Powertools idempotency records in DynamoDB for every record. */
  readonly idempotencyStore: boolean;
  /** A duplicate of a key earlier in the batch follows its outcome without a request. */
  readonly inBatchDedupe: boolean;
  /** Completed keys are cached in the execution environment (see {@link Workload.cachedDuplicates}). */
  readonly localCache: boolean;
  /** Different keys processed at once, up to `maxConcurrency` (Kinesis: in order per partition key). */
  readonly keyParallelism: boolean;
}

/** A configuration of the app to cost. */
export interface CostConfig {
  readonly label: string;
  readonly settings: AppSettings;
  readonly processing: Processing;
  /** The effect of each consumer, by name. */
  readonly effects: Readonly<Record<string, EffectProfile>>;
}

/** The runtime kit: idempotency store, in-batch dedupe, local cache, bounded per-key parallelism. */
export const KIT_PROCESSING: Processing = {
  idempotencyStore: true,
  inBatchDedupe: true,
  localCache: true,
  keyParallelism: true,
};

/** Powertools' BatchProcessor + makeIdempotent as documented: sequential, no local cache, no in-batch dedupe. */
export const NAIVE_PROCESSING: Processing = {
  idempotencyStore: true,
  inBatchDedupe: false,
  localCache: false,
  keyParallelism: false,
};

/** Only what the guarantees need: the effect's own conditional write, duplicates settled in memory where seen. */
export const FLOOR_PROCESSING: Processing = {
  idempotencyStore: false,
  inBatchDedupe: true,
  localCache: false,
  keyParallelism: true,
};

/** The reference app as synthesized, run by the kit. */
export function kitConfig(settings: AppSettings, effects = REFERENCE_EFFECTS): CostConfig {
  return { label: 'kit', settings, processing: KIT_PROCESSING, effects };
}

/** The same app with batch size 1, no batching window and Powertools' documented processing. */
export function naiveConfig(kit: CostConfig): CostConfig {
  return {
    ...kit,
    label: 'naive',
    processing: NAIVE_PROCESSING,
    settings: {
      ...kit.settings,
      consumers: kit.settings.consumers.map((c) => ({ ...c, batchSize: 1, maxBatchingWindowSeconds: 0 })),
    },
  };
}

/** The most records an event source mapping accepts in one batch. */
export const MAX_BATCH_SIZE = { sqs: 10_000, sqsFifo: 10, kinesis: 10_000 } as const;
/** The longest batching window. */
export const MAX_BATCHING_WINDOW_SECONDS = 300;

/**
 * The floor: every consumer with the largest batch its source allows (10,000 records within the 6 MB invocation
 * payload, gathered by a 300 s window, one batch per shard) that still finishes within the function's timeout, and
 * {@link FLOOR_PROCESSING}. Memory, timeout, the stream and the producer stay as they are.
 */
export function floorConfig(kit: CostConfig, workload: Workload): CostConfig {
  const draft: CostConfig = { ...kit, label: 'floor', processing: FLOOR_PROCESSING };
  const consumers = kit.settings.consumers.map((consumer): ConsumerSettings => {
    if (consumer.source.kind === 'sqs' && consumer.source.fifo) {
      return { ...consumer, batchSize: MAX_BATCH_SIZE.sqsFifo, maxBatchingWindowSeconds: 0 };
    }
    const widest = {
      ...consumer,
      batchSize: consumer.source.kind === 'sqs' ? MAX_BATCH_SIZE.sqs : MAX_BATCH_SIZE.kinesis,
      maxBatchingWindowSeconds: MAX_BATCHING_WINDOW_SECONDS,
      parallelizationFactor: 1,
    };
    // The largest batch size whose invocation fits in the timeout (duration grows with the batch).
    let low = 1;
    let high = widest.batchSize;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      const invocation = consumerFlow(draft, { ...widest, batchSize: middle }, workload);
      if (invocation.billedMs <= consumer.timeoutSeconds * 1000) low = middle;
      else high = middle - 1;
    }
    return { ...widest, batchSize: Math.min(low, consumerFlow(draft, widest, workload).payloadCap) };
  });
  return { ...draft, settings: { ...kit.settings, consumers } };
}

// ---------------------------------------------------------------------------------------------------------------
// The estimate

/** A Lambda invocation's payload limit: a batch stops there whatever its size. */
export const LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Memory at which a function has one full vCPU; below it, CPU shrinks in proportion. */
export const FULL_VCPU_MEMORY_MB = 1769;
/** Lambda polls each shard once a second (without a batching window). */
export const KINESIS_POLL_SECONDS = 1;
/** Messages one ReceiveMessage returns at most; also the entries of one DeleteMessageBatch. */
export const SQS_MESSAGES_PER_CALL = 10;
/** Bytes an SQS record adds to the event besides its body (IDs, a receipt handle of some 400 characters, attributes). */
export const SQS_RECORD_OVERHEAD_BYTES = 900;
/** Bytes a Kinesis record adds to the event besides its base64 data (sequence number, event ID, ARNs). */
export const KINESIS_RECORD_OVERHEAD_BYTES = 450;
/** On-demand streams start at 4 MB/s and 4,000 records/s of write capacity: 4 shards. */
export const ON_DEMAND_MIN_SHARDS = 4;
/** Events a million-event estimate is made for. */
const EVENTS = 1_000_000;

/** Where the money goes. */
export const COST_CATEGORIES = [
  'lambda.requests',
  'lambda.duration',
  'sqs.requests',
  'kinesis',
  'dynamodb.idempotency',
  'dynamodb.effects',
  'dynamodb.reads',
  'logs',
] as const;

/** A line of the bill. */
export type CostCategory = (typeof COST_CATEGORIES)[number];

/** One consumer's share of the estimate. */
export interface ConsumerEstimate {
  readonly name: string;
  readonly source: ConsumerSource['kind'];
  /** Records in an average invocation (a Kinesis batch holds what a shard received since the last poll). */
  readonly recordsPerBatch: number;
  /** Keys processed at once in a batch. */
  readonly parallelism: number;
  readonly billedMsPerInvocation: number;
  /** Share of the source's records that are producer retries of an order this consumer already has. */
  readonly duplicateShare: number;
  /** Share of those that arrive in the same batch as their original. */
  readonly duplicatesInBatch: number;
  readonly idempotencyWritesPerRecord: number;
  readonly effectUnitsPerRecord: number;
  readonly effect: EffectUnits;
  /** Busy share of one batch slot (per shard and parallelization slice for Kinesis): above 1, it falls behind. */
  readonly utilization: number;
  readonly usd: number;
  readonly byCategory: Readonly<Record<CostCategory, number>>;
}

/** The cost of a million events in one configuration. */
export interface CostEstimate {
  readonly label: string;
  /** USD per million `OrderPlaced` events (orders and producer retries). */
  readonly usdPerMillionEvents: number;
  readonly byCategory: Readonly<Record<CostCategory, number>>;
  /** USD per million events by function (consumers and producers) and `kinesis.stream` for fixed stream charges. */
  readonly byFunction: Readonly<Record<string, number>>;
  readonly consumers: readonly ConsumerEstimate[];
  readonly shardsByStream: Readonly<Record<string, number>>;
}

interface Flow {
  readonly recordsPerBatch: number;
  readonly parallelism: number;
  readonly billedMs: number;
  readonly duplicateShare: number;
  readonly duplicatesInBatch: number;
  readonly idempotencyWritesPerRecord: number;
  readonly idempotencyReadsPerRecord: number;
  readonly effectUnitsPerRecord: number;
  readonly effect: EffectUnits;
  readonly recordsPerSecondPerSlot: number;
  /** The most records the 6 MB invocation payload holds. */
  readonly payloadCap: number;
}

/** The shard count of a stream at the workload's rate. */
export function shardCount(stream: StreamSettings, eventsPerSecond: number, eventBytes: number): number {
  if (stream.mode === 'PROVISIONED') return stream.shardCount ?? 1;
  const kilobytesPerSecond = eventsPerSecond * Math.ceil(eventBytes / 1024);
  return Math.max(ON_DEMAND_MIN_SHARDS, Math.ceil(kilobytesPerSecond / 1024), Math.ceil(eventsPerSecond / 1000));
}

function eventsPerSecond(workload: Workload): number {
  return workload.ordersPerSecond * (1 + workload.duplicates);
}

function sendsTo(settings: AppSettings, source: ConsumerSource): number {
  return settings.producers.reduce(
    (sum, producer) =>
      sum +
      (source.kind === 'sqs'
        ? producer.queueIds.filter((id) => id === source.queueId).length
        : producer.streamIds.filter((id) => id === source.streamId).length),
    0,
  );
}

/** How one consumer's records flow at the workload's rate: batch size, parallelism, requests, time. */
function consumerFlow(config: CostConfig, consumer: ConsumerSettings, workload: Workload): Flow {
  const effectProfile = config.effects[consumer.name];
  if (!effectProfile) {
    throw new Error(
      `No effect profile for consumer '${consumer.name}': add how it writes to REFERENCE_EFFECTS in bench/cost.ts`,
    );
  }
  const { processing } = config;
  const event = sampleOrderPlaced(workload);
  const eventBytes = Buffer.byteLength(JSON.stringify(event));
  const arrival = eventsPerSecond(workload) * sendsTo(config.settings, consumer.source);

  // Records per second reaching one batch slot, and how many keys share that slot.
  let perSlot = arrival;
  let keysPerSlot = Number.POSITIVE_INFINITY;
  let recordBytes = eventBytes + SQS_RECORD_OVERHEAD_BYTES;
  let gathered: number;
  if (consumer.source.kind === 'kinesis') {
    const { streamId } = consumer.source;
    const stream = config.settings.streams.find((s) => s.id === streamId);
    if (!stream) throw new Error(`Consumer '${consumer.name}' reads stream ${streamId}, which is not in the settings`);
    const shards = shardCount(stream, arrival, eventBytes);
    perSlot = arrival / shards / consumer.parallelizationFactor;
    keysPerSlot = Math.max(1, workload.skus / shards / consumer.parallelizationFactor);
    recordBytes = Math.ceil(eventBytes / 3) * 4 + KINESIS_RECORD_OVERHEAD_BYTES;
    // A batch holds what reached the shard (slice) since the last poll, or during the batching window.
    gathered = perSlot * Math.max(KINESIS_POLL_SECONDS, consumer.maxBatchingWindowSeconds);
  } else {
    // A poll returns up to 10 waiting messages: assumed full. More need a window to gather them.
    gathered =
      consumer.maxBatchingWindowSeconds > 0
        ? Math.max(SQS_MESSAGES_PER_CALL, arrival * consumer.maxBatchingWindowSeconds)
        : SQS_MESSAGES_PER_CALL;
  }
  const payloadCap = Math.floor(LAMBDA_PAYLOAD_BYTES / recordBytes);
  const batch = Math.max(1, Math.min(consumer.batchSize, payloadCap, gathered));

  // Producer retries repeat orderId (a duplicate to an orderId-keyed consumer) but carry a new eventId.
  const duplicateShare =
    effectProfile.idempotencyKey === 'orderId' ? workload.duplicates / (1 + workload.duplicates) : 0;
  // The retry arrives `gap` records after its original on the same slot; it shares the batch if the batch is longer.
  const gap = Math.max(1, workload.retryDelaySeconds * perSlot);
  const duplicatesInBatch = processing.inBatchDedupe ? Math.max(0, 1 - gap / batch) : 0;
  const fresh = 1 - duplicateShare;
  const sameBatch = duplicateShare * duplicatesInBatch;
  const later = duplicateShare - sameBatch;
  const effect = effectUnits(effectProfile, workload);

  const requests = workload.idempotencyRequests;
  let idempotencyWrites = 0;
  let idempotencyReads = 0;
  let effectUnitsPerRecord: number;
  let effectRequests: number;
  if (processing.idempotencyStore) {
    const uncached = later * (1 - (processing.localCache ? workload.cachedDuplicates : 0));
    idempotencyWrites =
      fresh * requests.newWrites +
      sameBatch * requests.duplicateInBatchWrites +
      uncached * requests.duplicateAcrossInvocationsWrites;
    idempotencyReads = uncached * requests.duplicateAcrossInvocationsReads;
    effectUnitsPerRecord = fresh * effect.applied;
    effectRequests = fresh;
  } else {
    // No store: a later duplicate reaches the effect, whose condition fails (and is billed).
    effectUnitsPerRecord = fresh * effect.applied + later * effect.failed;
    effectRequests = fresh + later;
  }

  const cpuScale = Math.max(1, FULL_VCPU_MEMORY_MB / consumer.memoryMB);
  const cpuMs = workload.cpuMsPerRecord * cpuScale;
  const ioMs = workload.dynamoDBLatencyMs * (idempotencyWrites + idempotencyReads + effectRequests);
  const distinctKeys = Number.isFinite(keysPerSlot)
    ? keysPerSlot * (1 - (1 - 1 / keysPerSlot) ** batch)
    : batch * (1 - duplicateShare);
  const parallelism = processing.keyParallelism ? Math.max(1, Math.min(workload.maxConcurrency, distinctKeys)) : 1;
  // One event loop: CPU work adds up, waits on DynamoDB overlap across the keys in flight.
  const durationMs =
    workload.cpuMsPerInvocation * cpuScale + Math.max(batch * cpuMs, (batch * (cpuMs + ioMs)) / parallelism);
  return {
    recordsPerBatch: batch,
    parallelism,
    billedMs: Math.ceil(durationMs),
    duplicateShare,
    duplicatesInBatch,
    idempotencyWritesPerRecord: idempotencyWrites,
    idempotencyReadsPerRecord: idempotencyReads,
    effectUnitsPerRecord,
    effect,
    recordsPerSecondPerSlot: perSlot,
    payloadCap,
  };
}

/**
 * The cost of one million `OrderPlaced` events (orders and producer retries) through `config` at the workload's
 * steady rate. Charged: Lambda requests and GB-seconds of every consumer and producer, SQS sends, receives and
 * deletes, Kinesis ingestion and retrieval (and its hourly charge, spread over the hour's events), DynamoDB writes
 * of the idempotency store and of the effects, and CloudWatch Logs ingestion. Not charged: failures and redrives,
 * empty receives of idle long polls, storage (tables, logs, stream retention), alarms, dashboards, custom metrics.
 */
export function estimateCost(config: CostConfig, workload: Workload, prices: Prices): CostEstimate {
  const byCategory = Object.fromEntries(COST_CATEGORIES.map((c) => [c, 0])) as Record<CostCategory, number>;
  const byFunction: Record<string, number> = {};
  const byFunctionAndCategory: Record<string, Record<CostCategory, number>> = {};
  const charge = (fn: string, category: CostCategory, usd: number) => {
    byCategory[category] += usd;
    byFunction[fn] = (byFunction[fn] ?? 0) + usd;
    byFunctionAndCategory[fn] ??= Object.fromEntries(COST_CATEGORIES.map((c) => [c, 0])) as Record<
      CostCategory,
      number
    >;
    byFunctionAndCategory[fn][category] += usd;
  };
  const gbSecondPrice = (architecture: 'arm64' | 'x86_64') =>
    rate(prices, architecture === 'arm64' ? 'lambda.arm64.gbSecond' : 'lambda.x86_64.gbSecond');
  const logPrice = rate(prices, 'cloudwatch.logs.ingestGB') / 1024 ** 3;
  const eventBytes = Buffer.byteLength(JSON.stringify(sampleOrderPlaced(workload)));
  const kilobytesPerRecord = Math.ceil(eventBytes / 1024);
  const perSecond = eventsPerSecond(workload);
  const eventsPerHour = perSecond * 3600;
  const shardsByStream = Object.fromEntries(
    config.settings.streams.map((stream) => {
      const puts = config.settings.producers.reduce(
        (n, p) => n + p.streamIds.filter((id) => id === stream.id).length,
        0,
      );
      return [stream.id, shardCount(stream, perSecond * puts, eventBytes)];
    }),
  );

  const consumers = config.settings.consumers.map((consumer): ConsumerEstimate => {
    const flow = consumerFlow(config, consumer, workload);
    const records = EVENTS * sendsTo(config.settings, consumer.source);
    const invocations = records / flow.recordsPerBatch;
    const before = byFunction[consumer.name] ?? 0;
    charge(consumer.name, 'lambda.requests', invocations * rate(prices, 'lambda.requests'));
    charge(
      consumer.name,
      'lambda.duration',
      invocations * (consumer.memoryMB / 1024) * (flow.billedMs / 1000) * gbSecondPrice(consumer.architecture),
    );
    charge(
      consumer.name,
      'logs',
      (invocations * workload.logBytesPerInvocation + records * workload.logBytesPerRecord) * logPrice,
    );
    if (consumer.source.kind === 'sqs') {
      // Each ReceiveMessage returns up to 10 messages (billed per 64 KB of them); one DeleteMessageBatch per 10.
      const callsPerBatch = Math.ceil(flow.recordsPerBatch / SQS_MESSAGES_PER_CALL);
      const receiveChunks = Math.ceil(
        (Math.min(SQS_MESSAGES_PER_CALL, flow.recordsPerBatch) * (eventBytes + SQS_RECORD_OVERHEAD_BYTES)) / 65_536,
      );
      const price = rate(prices, consumer.source.fifo ? 'sqs.fifo.requests' : 'sqs.standard.requests');
      charge(consumer.name, 'sqs.requests', invocations * callsPerBatch * (receiveChunks + 1) * price);
    } else {
      const { streamId, enhancedFanOut } = consumer.source;
      const stream = config.settings.streams.find((s) => s.id === streamId);
      const gigabytes = (records * kilobytesPerRecord) / 1024 ** 2;
      if (enhancedFanOut) {
        const onDemand = stream?.mode === 'ON_DEMAND';
        const retrieval = onDemand ? 'kinesis.onDemand.efoRetrievalGB' : 'kinesis.provisioned.efoRetrievalGB';
        charge(consumer.name, 'kinesis', gigabytes * rate(prices, retrieval));
        if (!onDemand) {
          const hourly = (shardsByStream[streamId] ?? 1) * rate(prices, 'kinesis.provisioned.efoConsumerShardHour');
          charge(consumer.name, 'kinesis', (hourly * EVENTS) / eventsPerHour);
        }
      } else if (stream?.mode === 'ON_DEMAND') {
        charge(consumer.name, 'kinesis', gigabytes * rate(prices, 'kinesis.onDemand.retrievalGB'));
      }
    }
    const writePrice = rate(prices, 'dynamodb.onDemand.writeRequestUnits');
    charge(consumer.name, 'dynamodb.idempotency', records * flow.idempotencyWritesPerRecord * writePrice);
    charge(consumer.name, 'dynamodb.effects', records * flow.effectUnitsPerRecord * writePrice);
    charge(
      consumer.name,
      'dynamodb.reads',
      records * flow.idempotencyReadsPerRecord * rate(prices, 'dynamodb.onDemand.readRequestUnits'),
    );
    return {
      name: consumer.name,
      source: consumer.source.kind,
      recordsPerBatch: flow.recordsPerBatch,
      parallelism: flow.parallelism,
      billedMsPerInvocation: flow.billedMs,
      duplicateShare: flow.duplicateShare,
      duplicatesInBatch: flow.duplicatesInBatch,
      idempotencyWritesPerRecord: flow.idempotencyWritesPerRecord,
      effectUnitsPerRecord: flow.effectUnitsPerRecord,
      effect: flow.effect,
      utilization: (flow.recordsPerSecondPerSlot / flow.recordsPerBatch) * (flow.billedMs / 1000),
      usd: (byFunction[consumer.name] ?? 0) - before,
      byCategory: { ...byFunctionAndCategory[consumer.name] },
    };
  });

  for (const producer of config.settings.producers) {
    // One request per event: parse, validate, then the sends at once.
    const cpuScale = Math.max(1, FULL_VCPU_MEMORY_MB / producer.memoryMB);
    const billedMs = Math.ceil(
      (workload.cpuMsPerInvocation + workload.cpuMsPerRecord) * cpuScale + workload.publishLatencyMs,
    );
    charge(producer.name, 'lambda.requests', EVENTS * rate(prices, 'lambda.requests'));
    charge(
      producer.name,
      'lambda.duration',
      EVENTS * (producer.memoryMB / 1024) * (billedMs / 1000) * gbSecondPrice(producer.architecture),
    );
    charge(producer.name, 'logs', EVENTS * workload.logBytesPerInvocation * logPrice);
    const sendChunks = Math.ceil(eventBytes / 65_536);
    for (const _queue of producer.queueIds) {
      charge(producer.name, 'sqs.requests', EVENTS * sendChunks * rate(prices, 'sqs.standard.requests'));
    }
    for (const streamId of producer.streamIds) {
      const stream = config.settings.streams.find((s) => s.id === streamId);
      if (stream?.mode === 'ON_DEMAND') {
        const gigabytes = (EVENTS * kilobytesPerRecord) / 1024 ** 2;
        charge(producer.name, 'kinesis', gigabytes * rate(prices, 'kinesis.onDemand.ingestGB'));
      } else {
        const units = EVENTS * Math.ceil(eventBytes / (25 * 1024));
        charge(producer.name, 'kinesis', units * rate(prices, 'kinesis.provisioned.putPayloadUnits'));
      }
    }
  }

  // The stream's hourly charge, spread over an hour of events at the workload's rate.
  for (const stream of config.settings.streams) {
    const hourly =
      stream.mode === 'ON_DEMAND'
        ? rate(prices, 'kinesis.onDemand.streamHour')
        : (shardsByStream[stream.id] ?? 1) * rate(prices, 'kinesis.provisioned.shardHour');
    charge('kinesis.stream', 'kinesis', (hourly * EVENTS) / eventsPerHour);
  }

  const usdPerMillionEvents = COST_CATEGORIES.reduce((sum, category) => sum + byCategory[category], 0);
  return { label: config.label, usdPerMillionEvents, byCategory, byFunction, consumers, shardsByStream };
}

// ---------------------------------------------------------------------------------------------------------------
// Figures

/** What {@link costResults} costs. */
export interface CostOptions {
  /** Overrides of {@link DEFAULT_WORKLOAD}. */
  readonly workload?: Partial<Workload>;
  /** @default - bench/prices.json */
  readonly prices?: Prices;
  /** @default - the reference app, synthesized in this process */
  readonly template?: CfnTemplate;
  /**
   * Take the idempotency store's requests per new record and per in-batch duplicate from bench/results.json
   * (bench/runtime.ts) when they are there.
   *
   * @default true
   */
  readonly measured?: boolean;
}

/** The three estimates {@link costResults} compares, with the settings and workload behind them. */
export interface CostComparison {
  readonly workload: Workload;
  readonly kit: CostEstimate;
  readonly naive: CostEstimate;
  readonly floor: CostEstimate;
  /** The kit without its idempotency store: what the store costs. */
  readonly kitWithoutStore: CostEstimate;
  /** The kit if every retry came within its original's batch: what in-batch dedupe can save. */
  readonly kitRetriesInBatch: CostEstimate;
  readonly configs: { readonly kit: CostConfig; readonly naive: CostConfig; readonly floor: CostConfig };
  readonly prices: Prices;
}

/** The targets of figure 7. */
export const COST_BUDGETS = { vsNaive: 0.7, vsFloor: 1.2 } as const;

/** The idempotency requests bench/runtime.ts measured, where bench/results.json has them. */
export function measuredIdempotencyRequests(file: string = RESULTS_FILE): Partial<IdempotencyRequests> {
  let results: BenchResult[];
  try {
    results = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
  const value = (name: string) => results.find((r) => r.name === name)?.value;
  const measured: { newWrites?: number; duplicateInBatchWrites?: number } = {};
  const fresh = value('ddb.requestsPerRecord.new');
  const inBatch = value('ddb.requestsPerRecord.duplicateInBatch');
  if (typeof fresh === 'number') measured.newWrites = fresh;
  if (typeof inBatch === 'number') measured.duplicateInBatchWrites = inBatch;
  return measured;
}

/** Costs the kit, naive and floor configurations of the app. */
export function compareCosts(options: CostOptions = {}): CostComparison {
  const prices = options.prices ?? loadPrices();
  const measured = options.measured === false ? {} : measuredIdempotencyRequests();
  const workload: Workload = {
    ...DEFAULT_WORKLOAD,
    ...options.workload,
    idempotencyRequests: {
      ...DEFAULT_WORKLOAD.idempotencyRequests,
      ...measured,
      ...options.workload?.idempotencyRequests,
    },
  };
  const settings = readAppSettings(options.template ?? synthesizeReferenceTemplate());
  const kit = kitConfig(settings);
  const naive = naiveConfig(kit);
  const floor = floorConfig(kit, workload);
  return {
    workload,
    kit: estimateCost(kit, workload, prices),
    naive: estimateCost(naive, workload, prices),
    floor: estimateCost(floor, workload, prices),
    kitWithoutStore: estimateCost(
      { ...kit, processing: { ...KIT_PROCESSING, idempotencyStore: false } },
      workload,
      prices,
    ),
    kitRetriesInBatch: estimateCost(kit, { ...workload, retryDelaySeconds: 0 }, prices),
    configs: { kit, naive, floor },
    prices,
  };
}

/**
 * Figure 7: `cost.perMillionEvents` (the reference app as synthesized), `.naive` and `.floor` in USD per million
 * `OrderPlaced` events, and `cost.vsNaive` and `cost.vsFloor` (kit over each, with the baseline in USD).
 */
export function costResults(options: CostOptions = {}): BenchResult[] {
  return resultsOf(compareCosts(options));
}

function resultsOf(comparison: CostComparison): BenchResult[] {
  const { kit, naive, floor, kitWithoutStore, kitRetriesInBatch, workload, configs } = comparison;
  const vsNaive = kit.usdPerMillionEvents / naive.usdPerMillionEvents;
  const vsFloor = kit.usdPerMillionEvents / floor.usdPerMillionEvents;
  const orders = EVENTS / (1 + workload.duplicates);
  const store = kit.byCategory['dynamodb.idempotency'];
  const writePrice = rate(comparison.prices, 'dynamodb.onDemand.writeRequestUnits');
  const markerSets = kit.consumers.filter((c) => c.effect.markersPerItem !== undefined);
  const markerUsd = markerSets.reduce((sum, c) => sum + c.effectUnitsPerRecord * EVENTS * writePrice, 0);
  const oversized = kit.consumers.filter((c) => c.effect.largestItemBytes > DYNAMODB_ITEM_LIMIT_BYTES);
  const inBatchSaving = kit.usdPerMillionEvents - kitRetriesInBatch.usdPerMillionEvents;

  return [
    {
      name: 'cost.perMillionEvents',
      value: round(kit.usdPerMillionEvents),
      unit: 'USD',
      note: [
        `reference app as synthesized: ${describeConsumers(kit, configs.kit)}; ${describeStreams(kit, configs.kit)}`,
        `per 1M OrderPlaced events (${thousands(orders)} orders + ${thousands(EVENTS - orders)} producer retries, ${workload.ordersPerSecond} orders/s): ${breakdown(kit)}`,
        `effect writes: ${kit.consumers.map((c) => `${c.name} ${formatUnits(c.effect.applied)} WRU`).join(', ')}${
          markerSets.length > 0
            ? ` (addOnce is an UpdateItem, billed on the larger of the item before and after, and its item grows by ${workload.orderIdBytes} B per order of its minute: ${markerSets
                .map(
                  (c) =>
                    `${c.name} ${Math.round(c.effect.markersPerItem ?? 0)} markers, up to ${Math.round(c.effect.largestItemBytes / 1024)} KB`,
                )
                .join('; ')}; ${usd(markerUsd)} of the bill)`
            : ''
        }${oversized.length > 0 ? `; ${oversized.map((c) => c.name).join(', ')} would pass DynamoDB's 400 KB item limit at this rate and fail` : ''}`,
        assumptions(workload),
      ].join('. '),
    },
    {
      name: 'cost.perMillionEvents.naive',
      value: round(naive.usdPerMillionEvents),
      unit: 'USD',
      note: `batch size 1, no batching window, Powertools BatchProcessor + makeIdempotent (no in-batch dedupe, no local cache): an invocation (and its log lines) per record, a ReceiveMessage + a DeleteMessage per SQS message; ${breakdown(naive)}${slowConsumers(naive)}`,
    },
    {
      name: 'cost.perMillionEvents.floor',
      value: round(floor.usdPerMillionEvents),
      unit: 'USD',
      note: `largest batches (${configs.floor.settings.consumers.map((c, i) => `${c.name} ${Math.round(floor.consumers[i].recordsPerBatch)}`).join(', ')} records: the 6 MB invocation payload or the function's timeout, gathered by a ${MAX_BATCHING_WINDOW_SECONDS} s window) and no idempotency store. Every reference effect is already a conditional write keyed by the business ID (putIfAbsent by orderId, messageId or eventId) or carrying the order's marker in the same item (addOnce): under at-least-once delivery a repeat fails its condition and nothing is applied twice, so the only write the guarantees need is the effect's own (a repeat pays its failed conditional write; one in the same batch is settled in memory). A non-idempotent effect (a real mail API instead of the recording one) would need a marker write as well. Producer, memory and stream unchanged: the API must publish before it answers. ${breakdown(floor)}`,
    },
    {
      name: 'cost.vsNaive',
      value: round(vsNaive),
      unit: 'x',
      baseline: round(naive.usdPerMillionEvents),
      ratio: round(vsNaive),
      budget: COST_BUDGETS.vsNaive,
      note: `kit / naive; baseline: naive USD per 1M events. Batching saves ${usd(naive.usdPerMillionEvents - kit.usdPerMillionEvents)}: ${savings(naive, kit)}. On the consumers' invocations, polls and logs, the part batch size changes, kit / naive = ${round(batchable(kit) / batchable(naive))}. ${
        vsNaive > COST_BUDGETS.vsNaive
          ? `Missed because ${percent(unbatchable(kit) / kit.usdPerMillionEvents)} of the kit's cost does not depend on batch size and is paid by both: DynamoDB writes (idempotency store ${usd(store)}, effects ${usd(kit.byCategory['dynamodb.effects'])}), the producer and the stream's ingestion and reads`
          : 'Within the target'
      }. Duplicates: a retry ${workload.retryDelaySeconds} s after its original lands in a later batch at this rate, so in-batch dedupe saves ${usd(kit.consumers.reduce((sum, c) => sum + c.duplicateShare * c.duplicatesInBatch, 0) > 0 ? inBatchSaving : 0)} here; retries within their original's batch would save ${usd(inBatchSaving)}`,
    },
    {
      name: 'cost.vsFloor',
      value: round(vsFloor),
      unit: 'x',
      baseline: round(floor.usdPerMillionEvents),
      ratio: round(vsFloor),
      budget: COST_BUDGETS.vsFloor,
      note: `kit / floor; baseline: floor USD per 1M events. The kit pays ${usd(kit.usdPerMillionEvents - floor.usdPerMillionEvents)} more: ${savings(kit, floor)}. ${
        vsFloor > COST_BUDGETS.vsFloor
          ? `Missed because of the idempotency store: ${usd(store)} (${percent(store / kit.usdPerMillionEvents)} of the kit) of INPROGRESS + COMPLETED records, which the reference effects, all conditional writes, do not need for exactly-once effects (the store buys that guarantee for handlers whose effects are not idempotent). Without it the kit would cost ${usd(kitWithoutStore.usdPerMillionEvents)}, ${round(kitWithoutStore.usdPerMillionEvents / floor.usdPerMillionEvents)}x the floor`
          : `Within the target${store > 0 ? `; the idempotency store is ${usd(store)} of it (without it: ${round(kitWithoutStore.usdPerMillionEvents / floor.usdPerMillionEvents)}x)` : ''}`
      }`,
    },
  ];
}

/** What batch size changes: the consumers' Lambda requests and duration, SQS polls and deletes, and logs. */
function batchable(estimate: CostEstimate): number {
  const categories: CostCategory[] = ['lambda.requests', 'lambda.duration', 'sqs.requests', 'logs'];
  return estimate.consumers.reduce(
    (sum, consumer) => sum + categories.reduce((inner, category) => inner + consumer.byCategory[category], 0),
    0,
  );
}

function unbatchable(estimate: CostEstimate): number {
  return estimate.usdPerMillionEvents - batchable(estimate);
}

function describeConsumers(estimate: CostEstimate, config: CostConfig): string {
  return config.settings.consumers
    .map((c, i) => {
      const flow = estimate.consumers[i];
      const filled =
        Math.abs(flow.recordsPerBatch - c.batchSize) > 0.5 ? ` (${round(flow.recordsPerBatch)} filled)` : '';
      const kind = c.source.kind === 'sqs' ? 'SQS' : `Kinesis PF ${c.parallelizationFactor}`;
      return `${c.name} ${kind} batch ${c.batchSize}${filled}, window ${c.maxBatchingWindowSeconds} s, ${c.memoryMB} MB ${c.architecture}`;
    })
    .join('; ');
}

function describeStreams(estimate: CostEstimate, config: CostConfig): string {
  return config.settings.streams
    .map((s) => `stream ${s.mode.toLowerCase().replace('_', '-')}, ${estimate.shardsByStream[s.id]} shards`)
    .join('; ');
}

function breakdown(estimate: CostEstimate): string {
  return COST_CATEGORIES.filter((c) => estimate.byCategory[c] >= 0.005)
    .map((c) => `${c} ${usd(estimate.byCategory[c])}`)
    .join(', ');
}

function savings(higher: CostEstimate, lower: CostEstimate): string {
  return COST_CATEGORIES.map((c) => [c, higher.byCategory[c] - lower.byCategory[c]] as const)
    .filter(([, difference]) => Math.abs(difference) >= 0.005)
    .sort(([, a], [, b]) => b - a)
    .map(([c, difference]) => `${c} ${usd(difference)}`)
    .join(', ');
}

/** Kinesis consumers that cannot keep up with one batch at a time per shard (SQS consumers scale out by themselves). */
function slowConsumers(estimate: CostEstimate): string {
  const behind = estimate.consumers.filter((c) => c.source === 'kinesis' && c.utilization > 1);
  if (behind.length === 0) return '';
  return `. At this rate ${behind.map((c) => c.name).join(', ')} would need a ParallelizationFactor of ${Math.ceil(Math.max(...behind.map((c) => c.utilization)))} to keep up (same cost per event)`;
}

function assumptions(workload: Workload): string {
  const r = workload.idempotencyRequests;
  return [
    `Assumptions: steady ${workload.ordersPerSecond} orders/s (the local cloud's throughput budget and the rate the marker slots are sized for), ${percent(workload.duplicates)} of orders sent twice ${workload.retryDelaySeconds} s apart, ${workload.skus} SKUs, ${workload.orderIdBytes}-byte order IDs`,
    `SQS polls return 10 messages (a busy queue; empty receives of idle long polls are not charged); a Kinesis batch holds what its shard received in the last poll (1 s) or window, on at least ${ON_DEMAND_MIN_SHARDS} on-demand shards`,
    `idempotency store: ${formatUnits(r.newWrites)} writes per new record (PutItem + UpdateItem, bench/runtime.ts), ${formatUnits(r.duplicateInBatchWrites)} per duplicate in the same batch, ${formatUnits(r.duplicateAcrossInvocationsWrites)} per duplicate from an earlier invocation (${percent(workload.cachedDuplicates)} found in the local cache); every record under 1 KB`,
    `duration: ${workload.cpuMsPerInvocation} ms CPU per invocation + ${workload.cpuMsPerRecord} ms per record on one vCPU (scaled by ${FULL_VCPU_MEMORY_MB} MB / memory), ${workload.dynamoDBLatencyMs} ms per DynamoDB request (as bench/runtime.ts --latency-ms), requests of up to ${workload.maxConcurrency} keys in flight at once (per partition key in order on Kinesis), producer sends ${workload.publishLatencyMs} ms; cold starts ignored`,
    `logs ${workload.logBytesPerInvocation} B per invocation + ${workload.logBytesPerRecord} B per record`,
    'not charged: failures, retries and redrives, storage, alarms, custom metrics, free tiers',
  ].join('; ');
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function usd(value: number): string {
  return `${value < 0 ? '-' : ''}$${Math.abs(value).toFixed(2)}`;
}

function thousands(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function formatUnits(value: number): string {
  return String(Math.round(value * 10) / 10);
}

// ---------------------------------------------------------------------------------------------------------------
// CLI: `npx tsx bench/cost.ts`

function main(): void {
  const { values: flags } = parseArgs({ options: { 'latency-ms': { type: 'string', default: '5' } } });
  const dynamoDBLatencyMs = Number(flags['latency-ms']);
  if (!Number.isFinite(dynamoDBLatencyMs) || dynamoDBLatencyMs < 0) {
    console.error(`--latency-ms must be a number of 0 or more, got ${flags['latency-ms']}`);
    process.exit(2);
  }
  const prices = loadPrices();
  const template = synthesizeReferenceTemplate();
  const comparison = compareCosts({ prices, template, workload: { dynamoDBLatencyMs } });
  const results = resultsOf(comparison);

  const estimates = [comparison.kit, comparison.naive, comparison.floor];
  const bill = new Table({
    head: ['USD per 1M events', ...estimates.map((e) => e.label)],
    style: { head: [], border: [] },
  });
  for (const category of COST_CATEGORIES)
    bill.push([category, ...estimates.map((e) => e.byCategory[category].toFixed(2))]);
  bill.push(['total', ...estimates.map((e) => e.usdPerMillionEvents.toFixed(2))]);

  const consumers = new Table({
    head: [
      'consumer',
      'config',
      'records/batch',
      'keys at once',
      'ms/invocation',
      'store W/rec',
      'effect WRU/rec',
      'USD',
    ],
    style: { head: [], border: [] },
  });
  for (const estimate of estimates) {
    for (const c of estimate.consumers) {
      consumers.push([
        c.name,
        estimate.label,
        round(c.recordsPerBatch),
        round(c.parallelism),
        c.billedMsPerInvocation,
        round(c.idempotencyWritesPerRecord),
        round(c.effectUnitsPerRecord),
        c.usd.toFixed(2),
      ]);
    }
  }

  // How the answer moves with the rate: batches fill and marker sets grow with it.
  const sensitivity = new Table({
    head: ['orders/s', 'kit', 'naive', 'floor', 'kit/naive', 'kit/floor'],
    style: { head: [], border: [] },
  });
  for (const ordersPerSecond of [1, 10, 100, 300, 1000]) {
    const at = compareCosts({ prices, template, workload: { ordersPerSecond, dynamoDBLatencyMs } });
    sensitivity.push([
      ordersPerSecond,
      at.kit.usdPerMillionEvents.toFixed(2),
      at.naive.usdPerMillionEvents.toFixed(2),
      at.floor.usdPerMillionEvents.toFixed(2),
      round(at.kit.usdPerMillionEvents / at.naive.usdPerMillionEvents),
      round(at.kit.usdPerMillionEvents / at.floor.usdPerMillionEvents),
    ]);
  }

  const figures = new Table({
    head: ['figure', 'value', 'budget', 'within', 'note'],
    style: { head: [], border: [] },
    colWidths: [30, 12, 9, 8, 100],
    wordWrap: true,
  });
  for (const r of results) {
    figures.push([
      r.name,
      `${r.value} ${r.unit}`,
      r.budget === undefined ? '' : `<= ${r.budget}`,
      r.budget === undefined ? '' : withinBudget(r) ? 'yes' : 'NO',
      r.note ?? '',
    ]);
  }
  const dates = [...new Set(Object.values(prices).map((p) => p.asOf))].sort();
  console.log(`prices: us-east-1 list prices of bench/prices.json, as of ${dates[0]} to ${dates[dates.length - 1]}`);
  console.log(bill.toString());
  console.log(consumers.toString());
  console.log('sensitivity to the rate (everything else as above):');
  console.log(sensitivity.toString());
  console.log(figures.toString());
  finish(results, ' (the notes say why)');
}

if (require.main === module) main();
