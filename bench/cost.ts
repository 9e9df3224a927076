import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Command } from 'commander';
import {
  IDEMPOTENCY_KEY as ANALYTICS_KEY,
  SLOTS_PER_MINUTE as ANALYTICS_SLOTS_PER_MINUTE,
  minuteTotals,
  minuteTotalsPin,
} from '../lambdas/analytics-aggregator/minute-totals';
import { IDEMPOTENCY_KEY as AUDIT_KEY, auditEntry } from '../lambdas/audit-log-writer/audit-entry';
import { type OrderPlaced, type PlaceOrderRequest, PlaceOrderRequestSchema } from '../lambdas/events/order-placed';
import {
  IDEMPOTENCY_KEY as INVENTORY_KEY,
  SLOTS_PER_MINUTE as INVENTORY_SLOTS_PER_MINUTE,
  reservation,
  reservationPin,
} from '../lambdas/inventory-updater/reservation';
import {
  confirmationEmail,
  IDEMPOTENCY_KEY as NOTIFICATION_KEY,
} from '../lambdas/notification-sender/confirmation-email';
import { sentEmailItem } from '../lambdas/notification-sender/mail-provider';
import { orderPlacedEvent } from '../lambdas/order-api/order-placed-event';
import { IDEMPOTENCY_KEY as ORDER_KEY, orderItem } from '../lambdas/order-processor/order-item';
import { buildReferenceApp } from '../lib/stacks/reference-app';
import { type AppSettings, readAssemblySettings } from '../ops/cost/app-settings';
import { type CostComparison, compareCosts } from '../ops/cost/compare';
import { KIT_PROCESSING, withProcessing } from '../ops/cost/configurations';
import { renderCostReport } from '../ops/cost/cost-report';
import { addOnceEffect, type EffectProfile, putIfAbsentEffect } from '../ops/cost/effects';
import {
  COST_LINES,
  type CostEstimate,
  type CostLine,
  estimateCost,
  MAX_BATCHING_WINDOW_SECONDS,
} from '../ops/cost/estimate';
import { numberIn } from '../ops/cost/flags';
import { loadPrices, type Prices } from '../ops/cost/prices';
import type { IdempotencyRequests, WorkloadOverrides } from '../ops/cost/workload';
import { type BenchResult, finish, RESULTS_FILE, ratioResult, round } from './results';

/**
 * The cost model of `npm run bench` (figure 7): `eda-kit cost` (ops/cost) run on the reference app, with the
 * reference workload below and each consumer's writes sized from its handler's own item builders. It compares the
 * app as synthesized (the kit) with the naive configuration (batch size 1, no batching window, Powertools'
 * documented pattern) and the floor (the largest batches, only the writes the guarantees need).
 * `npx tsx bench/cost.ts` prints what `eda-kit cost` prints, and writes the figures to bench/results.json.
 */

/** Orders placed per second: the local cloud's throughput budget (bench/local.ts), and what the marker slots are sized for. */
export const ORDERS_PER_SECOND = 300;
/** Share of orders the producer sends twice (`npm start --duplicates`): a new event, same order ID, a second later. */
export const PRODUCER_RETRIES = 0.1;
/** SKUs of the local workload: the stream's partition keys, and the inventory's items per minute. */
export const SKUS = 20;

/** A representative order request of the workload (a UUID-long order ID). */
export const SAMPLE_REQUEST: PlaceOrderRequest = {
  orderId: 'o'.padEnd(36, '0'),
  customerId: 'c-000123',
  customerEmail: 'customer123@example.com',
  sku: 'SKU-001',
  quantity: 2,
  unitPriceCents: 1250,
  currency: 'EUR',
};

/** A representative `OrderPlaced` event, as the order API builds it. */
export function sampleOrderPlaced(): OrderPlaced {
  return orderPlacedEvent(SAMPLE_REQUEST, '00000000-0000-4000-8000-000000000000', '2026-01-01T00:00:00.000Z');
}

/** Where a Kinesis record was read, as the audit log writer records it: `shardId:sequenceNumber`. */
const SAMPLE_RECORD_ID = `shardId-000000000000:${'4'.repeat(56)}`;

/** The reference workload: orders and their retries, as `eda-kit cost` flags would give it. */
export function referenceWorkload(): WorkloadOverrides {
  return {
    eventsPerSecond: ORDERS_PER_SECOND * (1 + PRODUCER_RETRIES),
    duplicateShare: PRODUCER_RETRIES / (1 + PRODUCER_RETRIES),
    retryDelaySeconds: 1,
    recordBytes: Buffer.byteLength(JSON.stringify(sampleOrderPlaced())),
    partitionKeys: SKUS,
  };
}

/** A producer's retry repeats every field of the request (a new event ID and time): a key among them repeats. */
function repeatsAreDuplicates(key: string): boolean {
  return key in PlaceOrderRequestSchema.entries;
}

/** The item `pinFirst` (lambdas/runtime/effects.ts) writes: the pin's key, the pinned value and its expiry. */
function pinItem(pin: { readonly key: Record<string, unknown>; readonly value: Record<string, unknown> }) {
  return { ...pin.key, pinned: pin.value, expiresAt: 1_767_916_800 };
}

/** The counters of an `addOnce` item once it has counted `orders` orders of the sample's size. */
function countersAfter(counters: Readonly<Record<string, number>>, orders: number): Record<string, number> {
  return Object.fromEntries(Object.entries(counters).map(([name, amount]) => [name, amount * orders]));
}

/** Each reference consumer's writes, by service name, built by its handler's own item builders. */
export function referenceEffects(): Record<string, EffectProfile> {
  const event = sampleOrderPlaced();
  const inventoryPin = reservationPin(event);
  const inventory = reservation(event, inventoryPin.value);
  const analyticsPin = minuteTotalsPin(event);
  const analytics = minuteTotals(event, analyticsPin.value);
  return {
    'order-processor': putIfAbsentEffect(orderItem(event), { repeatsAreDuplicates: repeatsAreDuplicates(ORDER_KEY) }),
    'notification-sender': putIfAbsentEffect(sentEmailItem(confirmationEmail(event), event.placedAt), {
      repeatsAreDuplicates: repeatsAreDuplicates(NOTIFICATION_KEY),
    }),
    'inventory-updater': addOnceEffect({
      item: (orders) => ({ ...inventory.key, ...countersAfter(inventory.counters, orders) }),
      markerAttribute: inventory.markerAttribute,
      markerBytes: Buffer.byteLength(inventory.marker),
      pinItem: pinItem(inventoryPin),
      // A SKU's orders of a minute spread over its slots.
      itemsPerMinute: (workload) => workload.partitionKeys * INVENTORY_SLOTS_PER_MINUTE,
      repeatsAreDuplicates: repeatsAreDuplicates(INVENTORY_KEY),
    }),
    'audit-log-writer': putIfAbsentEffect(auditEntry(event, SAMPLE_RECORD_ID, event.placedAt), {
      repeatsAreDuplicates: repeatsAreDuplicates(AUDIT_KEY),
    }),
    'analytics-aggregator': addOnceEffect({
      item: (orders) => ({ ...analytics.key, ...countersAfter(analytics.counters, orders) }),
      markerAttribute: analytics.markerAttribute,
      markerBytes: Buffer.byteLength(analytics.marker),
      pinItem: pinItem(analyticsPin),
      // A minute's orders spread over its slots.
      itemsPerMinute: () => ANALYTICS_SLOTS_PER_MINUTE,
      repeatsAreDuplicates: repeatsAreDuplicates(ANALYTICS_KEY),
    }),
  };
}

/**
 * Synthesizes the reference app in this process into `outdir`, as `cdk synth` does (with construct paths), without
 * bundling the functions: the model reads settings, not code.
 */
export function synthesizeReferenceAssembly(outdir: string): void {
  const app = new App({
    outdir,
    builtinCloudFormationValidation: false,
    context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true },
  });
  buildReferenceApp(app);
  app.synth();
}

/** The reference app's settings, from `assemblyDir` or synthesized in this process. */
export function referenceSettings(assemblyDir?: string): AppSettings {
  if (assemblyDir) return readAssemblySettings(assemblyDir);
  const outdir = mkdtempSync(path.join(tmpdir(), 'eda-kit-bench-cost-'));
  try {
    synthesizeReferenceAssembly(outdir);
    return readAssemblySettings(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

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

/** What {@link referenceComparison} costs. */
export interface ReferenceCostOptions {
  /** @default - the reference app, synthesized in this process */
  readonly settings?: AppSettings;
  /** @default - ops/cost/prices.json */
  readonly prices?: Prices;
  /** Overrides of {@link referenceWorkload}. */
  readonly workload?: WorkloadOverrides;
  /**
   * Take the idempotency store's requests per new record and per in-batch duplicate from bench/results.json
   * (bench/runtime.ts) when they are there.
   *
   * @default true
   */
  readonly measured?: boolean;
}

/** `eda-kit cost` on the reference app: the kit (as synthesized), naive and floor. */
export function referenceComparison(options: ReferenceCostOptions = {}): CostComparison {
  const measured = options.measured === false ? {} : measuredIdempotencyRequests();
  return compareCosts({
    settings: options.settings ?? referenceSettings(),
    prices: options.prices,
    effects: referenceEffects(),
    label: 'kit',
    workload: {
      ...referenceWorkload(),
      ...options.workload,
      idempotencyRequests: { ...measured, ...options.workload?.idempotencyRequests },
    },
  });
}

/** The targets of figure 7. */
export const COST_BUDGETS = { vsNaive: 0.7, vsFloor: 1.2 } as const;

/**
 * Figure 7: `cost.perMillionEvents` (the reference app as synthesized), `.naive` and `.floor` in USD per million
 * `OrderPlaced` events, and `cost.vsNaive` and `cost.vsFloor` (kit over each, with the baseline in USD).
 */
export function costResults(comparison: CostComparison): BenchResult[] {
  const { app: kit, naive, floor, workload, configs, prices } = comparison;
  const vsNaive = kit.usdPerMillionEvents / naive.usdPerMillionEvents;
  const vsFloor = kit.usdPerMillionEvents / floor.usdPerMillionEvents;
  const kitWithoutStore = estimateCost(
    withProcessing(configs.app, { ...KIT_PROCESSING, idempotencyStore: false }),
    workload,
    prices,
  );
  const kitRetriesInBatch = estimateCost(configs.app, { ...workload, retryDelaySeconds: 0 }, prices);
  const store = kit.byLine['dynamodb.idempotency'];
  const orders = 1_000_000 * (1 - workload.duplicateShare);
  const markerSets = kit.consumers.filter((c) => c.effect.markersPerItem !== undefined);
  const inBatchSaving = kit.usdPerMillionEvents - kitRetriesInBatch.usdPerMillionEvents;
  const duplicatesShareBatches = kit.consumers.some((c) => c.duplicateShare * c.duplicatesInBatch > 0);
  const settingsOf = (id: string) => configs.app.settings.consumers.find((c) => c.id === id);
  return [
    {
      name: 'cost.perMillionEvents',
      value: round(kit.usdPerMillionEvents),
      unit: 'USD',
      note: [
        `eda-kit cost on the reference app as synthesized: ${kit.consumers
          .map((c) => {
            const s = settingsOf(c.id);
            const filled =
              s && Math.abs(c.recordsPerBatch - s.batchSize) > 0.5 ? ` (${round(c.recordsPerBatch)} filled)` : '';
            return `${c.name} ${c.source === 'sqs' ? 'SQS' : `Kinesis PF ${s?.parallelizationFactor}`} batch ${s?.batchSize}${filled}, window ${s?.maxBatchingWindowSeconds} s, ${s?.memoryMB} MB ${s?.architecture}`;
          })
          .join('; ')}; ${configs.app.settings.streams
          .map((s) => `stream ${s.mode.toLowerCase().replace('_', '-')}, ${kit.shardsByStream[s.id]} shards`)
          .join('; ')}`,
        `per 1M OrderPlaced events (${thousands(orders)} orders + ${thousands(1_000_000 - orders)} producer retries, ${ORDERS_PER_SECOND} orders/s): ${breakdown(kit)}`,
        `effect writes, sized by the handlers' item builders: ${kit.consumers.map((c) => `${c.name} ${formatUnits(c.effect.applied)} WRU`).join(', ')}${
          markerSets.length > 0
            ? ` (addOnce is an UpdateItem, billed on the larger of the item before and after, and its item grows by one order ID per order of its minute: ${markerSets
                .map(
                  (c) =>
                    `${c.name} ${Math.round(c.effect.markersPerItem ?? 0)} markers, up to ${Math.round(c.effect.largestItemBytes / 1024)} KB`,
                )
                .join('; ')})`
            : ''
        }`,
        `Assumptions: steady ${ORDERS_PER_SECOND} orders/s, ${Math.round(PRODUCER_RETRIES * 100)}% of orders sent twice ${workload.retryDelaySeconds} s apart, ${SKUS} SKUs, ${workload.recordBytes}-byte events; a poll returns what arrived in the last second (SQS up to 10 messages); idempotency store ${formatUnits(workload.idempotencyRequests.newWrites)} writes per new record (bench/runtime.ts), ${formatUnits(workload.idempotencyRequests.duplicateInBatchWrites)} per duplicate in the same batch, ${formatUnits(workload.idempotencyRequests.duplicateAcrossInvocationsWrites)} per duplicate from an earlier invocation; ${workload.cpuMsPerInvocation} ms CPU per invocation + ${workload.cpuMsPerRecord} ms per record on one vCPU, ${workload.dynamoDBLatencyMs} ms per DynamoDB request, up to ${workload.maxConcurrency} keys in flight; logs ${workload.logBytesPerInvocation} B per invocation + ${workload.logBytesPerRecord} B per record; alarms and dashboards spread over a month of events; not charged: failures, retries and redrives, storage, custom metrics, free tiers`,
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
      note: `largest batches (${floor.consumers.map((c) => `${c.name} ${Math.round(c.recordsPerBatch)}`).join(', ')} records: the 6 MB invocation payload or the function's timeout, gathered by a ${MAX_BATCHING_WINDOW_SECONDS} s window), standard polling and no idempotency store. Every reference effect is already a conditional write keyed by the business ID (putIfAbsent by orderId, messageId or eventId) or carrying the order's marker in the same item (addOnce): under at-least-once delivery a repeat fails its condition and nothing is applied twice, so the only write the guarantees need is the effect's own. Producer, memory and stream unchanged. ${breakdown(floor)}`,
    },
    ratioResult(
      'cost.vsNaive',
      kit.usdPerMillionEvents,
      naive.usdPerMillionEvents,
      `kit / naive; baseline: naive USD per 1M events. Batching saves ${usd(naive.usdPerMillionEvents - kit.usdPerMillionEvents)}: ${savings(naive, kit)}. ${
        vsNaive > COST_BUDGETS.vsNaive
          ? `Missed because ${percent((kit.byLine['dynamodb.idempotency'] + kit.byLine['dynamodb.effects']) / kit.usdPerMillionEvents)} of the kit's cost is DynamoDB writes, paid by both: idempotency store ${usd(store)}, effects ${usd(kit.byLine['dynamodb.effects'])}`
          : 'Within the target'
      }. Duplicates: a retry ${workload.retryDelaySeconds} s after its original lands in a later batch at this rate, so in-batch dedupe saves ${usd(duplicatesShareBatches ? inBatchSaving : 0)} here; retries within their original's batch would save ${usd(inBatchSaving)}`,
      { budget: COST_BUDGETS.vsNaive },
    ),
    ratioResult(
      'cost.vsFloor',
      kit.usdPerMillionEvents,
      floor.usdPerMillionEvents,
      `kit / floor; baseline: floor USD per 1M events. The kit pays ${usd(kit.usdPerMillionEvents - floor.usdPerMillionEvents)} more: ${savings(kit, floor)}. ${
        vsFloor > COST_BUDGETS.vsFloor
          ? `Missed because of the idempotency store: ${usd(store)} (${percent(store / kit.usdPerMillionEvents)} of the kit) of INPROGRESS + COMPLETED records, which the reference effects, all conditional writes, do not need for exactly-once effects (the store buys that guarantee for handlers whose effects are not idempotent). Without it the kit would cost ${usd(kitWithoutStore.usdPerMillionEvents)}, ${round(kitWithoutStore.usdPerMillionEvents / floor.usdPerMillionEvents)}x the floor`
          : `Within the target${store > 0 ? `; the idempotency store is ${usd(store)} of it (without it: ${round(kitWithoutStore.usdPerMillionEvents / floor.usdPerMillionEvents)}x)` : ''}`
      }`,
      { budget: COST_BUDGETS.vsFloor },
    ),
  ];
}

function breakdown(estimate: CostEstimate): string {
  return COST_LINES.filter((line) => estimate.byLine[line] >= 0.005)
    .map((line) => `${line} ${usd(estimate.byLine[line])}`)
    .join(', ');
}

function savings(higher: CostEstimate, lower: CostEstimate): string {
  return COST_LINES.map((line): [CostLine, number] => [line, higher.byLine[line] - lower.byLine[line]])
    .filter(([, difference]) => Math.abs(difference) >= 0.005)
    .sort(([, a], [, b]) => b - a)
    .map(([line, difference]) => `${line} ${usd(difference)}`)
    .join(', ');
}

/** Kinesis consumers that cannot keep up with one batch at a time per shard (SQS consumers scale out by themselves). */
function slowConsumers(estimate: CostEstimate): string {
  const behind = estimate.consumers.filter((c) => c.source === 'kinesis' && c.utilization > 1);
  if (behind.length === 0) return '';
  return `. At this rate ${behind.map((c) => c.name).join(', ')} would need a ParallelizationFactor of ${Math.ceil(Math.max(...behind.map((c) => c.utilization)))} to keep up (same cost per event)`;
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
// `npx tsx bench/cost.ts`

function main(): void {
  const flags = new Command()
    .name('bench/cost.ts')
    .description('eda-kit cost on the reference app: prints the report and writes figure 7 to bench/results.json')
    .option(
      '--latency-ms <ms>',
      'modelled latency per DynamoDB request',
      numberIn('milliseconds', { min: 0, max: 1000 }),
      5,
    )
    .option('--assembly <dir>', "the reference app's cloud assembly (cdk synth), instead of synthesizing it here")
    .configureOutput({ writeErr: (text) => process.stderr.write(`${text.split('\n')[0]}\n`) })
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .parse(process.argv)
    .opts<{ latencyMs: number; assembly?: string }>();
  let settings: AppSettings;
  try {
    settings = referenceSettings(flags.assembly === undefined ? undefined : path.resolve(flags.assembly));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const prices = loadPrices();
  const comparison = referenceComparison({ settings, prices, workload: { dynamoDBLatencyMs: flags.latencyMs } });
  console.log(renderCostReport(comparison, { source: flags.assembly ?? 'bin/app.ts, synthesized in process' }));

  // How the answer moves with the rate: batches fill and marker sets grow with it.
  console.log('\nsensitivity to the rate (everything else as above), USD per 1M events:');
  console.log('orders/s     kit   naive   floor  kit/naive  kit/floor');
  for (const ordersPerSecond of [1, 10, 100, 300, 1000]) {
    const at = referenceComparison({
      settings,
      prices,
      workload: { dynamoDBLatencyMs: flags.latencyMs, eventsPerSecond: ordersPerSecond * (1 + PRODUCER_RETRIES) },
    });
    console.log(
      [
        String(ordersPerSecond).padStart(8),
        at.app.usdPerMillionEvents.toFixed(2).padStart(7),
        at.naive.usdPerMillionEvents.toFixed(2).padStart(7),
        at.floor.usdPerMillionEvents.toFixed(2).padStart(7),
        String(round(at.app.usdPerMillionEvents / at.naive.usdPerMillionEvents)).padStart(10),
        String(round(at.app.usdPerMillionEvents / at.floor.usdPerMillionEvents)).padStart(10),
      ].join(' '),
    );
  }
  const results = costResults(comparison);
  console.log('');
  for (const r of results) {
    console.log(`${r.name}: ${r.value} ${r.unit}${r.budget === undefined ? '' : ` (target <= ${r.budget})`}`);
  }
  finish(results, ' (the notes say why)');
}

if (require.main === module) main();
