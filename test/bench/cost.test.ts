import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as v from 'valibot';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  costResults,
  measuredIdempotencyRequests,
  ORDERS_PER_SECOND,
  referenceComparison,
  referenceEffects,
  referenceSettings,
  referenceWorkload,
  sampleOrderPlaced,
} from '../../bench/cost';
import { withinBudget } from '../../bench/results';
import { OrderPlacedSchema } from '../../lambdas/events/order-placed';
import { confirmationEmail } from '../../lambdas/notification-sender/confirmation-email';
import { sentEmailItem } from '../../lambdas/notification-sender/mail-provider';
import { orderItem } from '../../lambdas/order-processor/order-item';
import type { AppSettings } from '../../ops/cost/app-settings';
import { itemBytes } from '../../ops/cost/effects';
import { loadPrices } from '../../ops/cost/prices';
import { workloadOf } from '../../ops/cost/workload';

const prices = loadPrices();
const workload = workloadOf(referenceWorkload());

describe("the reference app's writes, sized by its handlers' item builders", () => {
  const effects = referenceEffects();

  test('the order processor and the notification sender put the items their builders make', () => {
    const event = sampleOrderPlaced();

    expect(effects['order-processor'].units(workload).largestItemBytes).toBe(itemBytes(orderItem(event)));
    expect(effects['notification-sender'].units(workload).largestItemBytes).toBe(
      itemBytes(sentEmailItem(confirmationEmail(event), event.placedAt)),
    );
    expect(effects['order-processor'].units(workload).applied).toBe(1);
  });

  test("a producer's retry is a duplicate for every consumer but the audit log writer, keyed by event ID", () => {
    expect(Object.entries(effects).map(([name, effect]) => [name, effect.repeatsAreDuplicates])).toEqual([
      ['order-processor', true],
      ['notification-sender', true],
      ['inventory-updater', true],
      ['audit-log-writer', false],
      ['analytics-aggregator', true],
    ]);
  });

  test("the addOnce items spread a minute's orders over the handlers' slots, after a pin", () => {
    // 300 orders/s = 18,000 a minute; inventory: 20 SKUs x 8 slots; analytics: 256 slots
    const inventory = effects['inventory-updater'].units(workload);
    const analytics = effects['analytics-aggregator'].units(workload);

    expect(inventory.markersPerItem).toBeCloseTo(18_000 / 160, 10);
    expect(analytics.markersPerItem).toBeCloseTo(18_000 / 256, 10);
    expect(inventory.requests).toBe(2);
    // A few write units each: the slots keep the items small at this rate.
    expect(analytics.applied).toBeGreaterThan(2);
    expect(analytics.applied).toBeLessThan(4);
  });

  test('models a valid OrderPlaced event of the workload', () => {
    expect(() => v.parse(OrderPlacedSchema, sampleOrderPlaced())).not.toThrow();
    expect(workload.recordBytes).toBe(Buffer.byteLength(JSON.stringify(sampleOrderPlaced())));
    expect(workload.eventsPerSecond).toBeCloseTo(ORDERS_PER_SECOND * 1.1, 10);
  });
});

describe('eda-kit cost on the reference app', () => {
  let settings: AppSettings;

  beforeAll(() => {
    // GIVEN the reference app, synthesized in this process
    settings = referenceSettings();
  });

  test('reads every event source mapping, function and stream from the templates', () => {
    expect(
      settings.consumers.map((c) => [c.name, c.source.kind, c.batchSize, c.maxBatchingWindowSeconds, c.memoryMB]),
    ).toEqual([
      ['order-processor', 'sqs', 10, 0, 256],
      ['notification-sender', 'sqs', 10, 0, 256],
      ['inventory-updater', 'kinesis', 100, 0, 256],
      ['audit-log-writer', 'kinesis', 100, 0, 256],
      ['analytics-aggregator', 'kinesis', 100, 0, 256],
    ]);
    expect(settings.consumers.every((c) => c.architecture === 'arm64' && c.idempotencyStore)).toBe(true);
    expect(settings.streams.map((s) => s.mode)).toEqual(['ON_DEMAND']);
    // The order API sends each event to both queues and puts it on the stream.
    expect(settings.producers).toHaveLength(1);
    expect(settings.producers[0]).toMatchObject({ name: 'order-api' });
    expect(settings.producers[0].queueIds).toHaveLength(2);
    expect(settings.producers[0].streamIds).toHaveLength(1);
    expect(settings.dashboards).toBe(1);
    expect(settings.alarms.standardMetrics).toBeGreaterThan(0);
  });

  test("sizes every consumer's writes by its handler's builders", () => {
    const comparison = referenceComparison({ settings, prices, measured: false });

    expect(comparison.effectsGiven).toEqual(settings.consumers.map((c) => c.name));
  });

  test("changing a batch size in the app changes the reference app's cost", () => {
    // GIVEN the orders queue's mapping set to batches of 1
    const changed: AppSettings = {
      ...settings,
      consumers: settings.consumers.map((c) => (c.name === 'order-processor' ? { ...c, batchSize: 1 } : c)),
    };
    const cost = (s: AppSettings) =>
      referenceComparison({ settings: s, prices, measured: false }).app.usdPerMillionEvents;

    // THEN the smaller batches cost more
    expect(cost(changed)).toBeGreaterThan(cost(settings));
  });

  test('costs naive > kit >= floor and reports figure 7 with its baselines, ratios and budgets', () => {
    const results = costResults(referenceComparison({ settings, prices, measured: false }));
    const figure = (name: string) => {
      const found = results.find((r) => r.name === name);
      if (!found) throw new Error(`no ${name}`);
      return found;
    };
    const kit = figure('cost.perMillionEvents');
    const naive = figure('cost.perMillionEvents.naive');
    const floor = figure('cost.perMillionEvents.floor');

    expect(results.map((r) => r.name)).toEqual([
      'cost.perMillionEvents',
      'cost.perMillionEvents.naive',
      'cost.perMillionEvents.floor',
      'cost.vsNaive',
      'cost.vsFloor',
    ]);
    expect(naive.value).toBeGreaterThan(kit.value);
    expect(kit.value).toBeGreaterThanOrEqual(floor.value);
    expect(figure('cost.vsNaive')).toMatchObject({ unit: 'x', baseline: naive.value, budget: 0.7 });
    expect(figure('cost.vsNaive').ratio).toBeCloseTo(kit.value / naive.value, 2);
    expect(figure('cost.vsFloor')).toMatchObject({ unit: 'x', baseline: floor.value, budget: 1.2 });
    expect(figure('cost.vsFloor').ratio).toBeCloseTo(kit.value / floor.value, 2);
    // A missed target says why.
    for (const name of ['cost.vsNaive', 'cost.vsFloor']) {
      expect(figure(name).note).toMatch(withinBudget(figure(name)) ? /Within the target/ : /Missed because/);
    }
  });
});

test('takes the idempotency requests bench/runtime.ts measured from the results file', () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'eda-kit-results-')), 'results.json');
  writeFileSync(
    file,
    JSON.stringify([
      { name: 'ddb.requestsPerRecord.new', value: 2, unit: 'requests' },
      { name: 'ddb.requestsPerRecord.duplicateInBatch', value: 0, unit: 'requests' },
    ]),
  );

  expect(measuredIdempotencyRequests(file)).toEqual({ newWrites: 2, duplicateInBatchWrites: 0 });
  expect(measuredIdempotencyRequests(path.join(tmpdir(), 'no-such-results.json'))).toEqual({});
});
