import { describe, expect, test } from 'vitest';
import type { AppSettings } from '../../../ops/cost/app-settings';
import { appConfig, floorConfig, naiveConfig } from '../../../ops/cost/configurations';
import { addOnceEffect, itemBytes, putIfAbsentEffect, writeUnits } from '../../../ops/cost/effects';
import { estimateCost, FIXED_CHARGES, OUTSIDE_THE_APP, recordsPerEvent } from '../../../ops/cost/estimate';
import { loadPrices, withPrice } from '../../../ops/cost/prices';
import { type WorkloadOverrides, workloadOf } from '../../../ops/cost/workload';
import { appOf, ON_DEMAND_STREAM, producer, queueConsumer, streamConsumer } from './fixtures';

const prices = loadPrices();

/** 100 events/s of 1,000 bytes, no repeats, one write unit of effect per record. */
const WORKLOAD: WorkloadOverrides = { eventsPerSecond: 100, recordBytes: 1000, duplicateShare: 0, effectWrites: 1 };

function cost(settings: AppSettings, workload: WorkloadOverrides = WORKLOAD) {
  const w = workloadOf(workload);
  return estimateCost(appConfig(settings, w), w, prices);
}

describe('the bill of one SQS consumer of the kit', () => {
  // GIVEN a QueueConsumer (batch 10, no window, 256 MB arm64, an idempotency table) whose queue no function of
  // the app sends to, at 100 events/s of 1,000 bytes
  const estimate = cost(appOf([queueConsumer()]));
  const consumer = estimate.consumers[0];

  test('charges an invocation per 10 records', () => {
    // 1M records / 10 = 100,000 invocations at $0.20 per million
    expect(consumer.recordsPerBatch).toBe(10);
    expect(consumer.byLine['lambda.requests']).toBeCloseTo(0.02, 10);
  });

  test('charges a ReceiveMessage and a DeleteMessageBatch per 10 messages, and the sends from outside', () => {
    // 10 messages of 1,000 + 900 bytes fit in one 64 KB chunk: 100,000 receives + 100,000 deletes at $0.40 per
    // million = $0.08; every event sent from outside: 1M SendMessage = $0.40
    expect(consumer.byLine['sqs.requests']).toBeCloseTo(0.08, 10);
    expect(estimate.byPayer[OUTSIDE_THE_APP]).toBeCloseTo(0.4, 10);
    expect(estimate.byService.SQS).toBeCloseTo(0.48, 10);
  });

  test('charges the idempotency store 2 writes and the effect 1 write per record', () => {
    // 1M x 2 WRU x $0.625 per million; 1M x 1 WRU
    expect(consumer.byLine['dynamodb.idempotency']).toBeCloseTo(1.25, 10);
    expect(consumer.byLine['dynamodb.effects']).toBeCloseTo(0.625, 10);
  });

  test('charges duration for CPU scaled by memory and the DynamoDB waits of 10 keys at once', () => {
    // CPU scale 1769 / 256 = 6.91; per record 0.5 ms x 6.91 = 3.455 ms of CPU and 3 requests x 5 ms = 15 ms of
    // waits, 10 keys in flight: 0.3 x 6.91 + max(10 x 3.455, 10 x 18.455 / 10) = 36.62 ms, billed 37 ms.
    // 100,000 x 0.25 GB x 0.037 s = 925 GB-s at $0.0000133334
    expect(consumer.billedMsPerInvocation).toBe(37);
    expect(consumer.byLine['lambda.duration']).toBeCloseTo(925 * 0.0000133334, 10);
  });

  test('charges log lines per invocation and per record', () => {
    // (100,000 x 1,000 B + 1M x 8 B) / 2^30 GB x $0.50
    expect(consumer.byLine['cloudwatch.logs']).toBeCloseTo((108e6 / 2 ** 30) * 0.5, 10);
  });

  test('adds up the lines into the services and the total', () => {
    const total = Object.values(estimate.byService).reduce((sum, usd) => sum + usd, 0);
    expect(estimate.usdPerMillionEvents).toBeCloseTo(total, 10);
    expect(estimate.byService.DynamoDB).toBeCloseTo(1.875, 10);
  });
});

describe('provisioned mode of an SQS event source mapping', () => {
  test('charges its minimum pollers by the hour, spread over the hour of events', () => {
    // GIVEN provisioned mode with 2 to 200 pollers, at 100 events/s (190 KB/s: one poller's 5 MB/s would do)
    const estimate = cost(appOf([queueConsumer({ provisionedPollers: { minimumPollers: 2, maximumPollers: 200 } })]));

    // THEN 2 pollers x $0.00925 an hour, over 360,000 events an hour
    expect(estimate.consumers[0].eventPollers).toBe(2);
    expect(estimate.byLine['lambda.eventPollers']).toBeCloseTo((2 * 0.00925 * 1e6) / 360_000, 10);
  });

  test('charges the pollers the load needs above the minimum, up to the maximum', () => {
    // GIVEN 20,000 events/s of 1,000 bytes: 20,000 x 1,900 B = 36.2 MB/s, 8 pollers of 5 MB/s
    const busy = { ...WORKLOAD, eventsPerSecond: 20_000 };
    const needed = Math.ceil((20_000 * 1900) / (5 * 1024 * 1024));

    const free = cost(appOf([queueConsumer({ provisionedPollers: { minimumPollers: 2, maximumPollers: 200 } })]), busy);
    const capped = cost(appOf([queueConsumer({ provisionedPollers: { minimumPollers: 2, maximumPollers: 4 } })]), busy);

    expect(needed).toBe(8);
    expect(free.consumers[0].eventPollers).toBe(8);
    expect(capped.consumers[0].eventPollers).toBe(4);
  });

  test('charges what --epu-hour-usd says when given', () => {
    // GIVEN an EPU-hour of $0.02 instead of the prices file's
    const w = workloadOf(WORKLOAD);
    const settings = appOf([queueConsumer({ provisionedPollers: { minimumPollers: 3, maximumPollers: 200 } })]);
    const given = withPrice(prices, 'lambda.sqsProvisionedMode.eventPollerUnitHour', 0.02, '--epu-hour-usd');

    const estimate = estimateCost(appConfig(settings, w), w, given);

    // THEN 3 pollers x $0.02 an hour over 360,000 events
    expect(estimate.byLine['lambda.eventPollers']).toBeCloseTo((3 * 0.02 * 1e6) / 360_000, 10);
  });

  test('is not charged in standard mode, nor in the floor', () => {
    const w = workloadOf(WORKLOAD);
    const app = appConfig(
      appOf([queueConsumer({ provisionedPollers: { minimumPollers: 2, maximumPollers: 200 } })]),
      w,
    );

    expect(cost(appOf([queueConsumer()])).byLine['lambda.eventPollers']).toBe(0);
    expect(estimateCost(floorConfig(app, w), w, prices).byLine['lambda.eventPollers']).toBe(0);
  });
});

describe('Kinesis', () => {
  test("an on-demand stream pays its stream-hour, ingestion and each reader's retrieval", () => {
    // GIVEN one consumer of an on-demand stream, every event put on it from outside
    const estimate = cost(appOf([streamConsumer()]));

    // THEN $0.04 an hour over 360,000 events; 1M records of 1 KB = 0.9537 GB in at $0.08 and out at $0.04
    const gigabytes = 1e6 / 1024 ** 2;
    expect(estimate.byPayer[FIXED_CHARGES]).toBeCloseTo((0.04 * 1e6) / 360_000, 10);
    expect(estimate.byPayer[OUTSIDE_THE_APP]).toBeCloseTo(gigabytes * 0.08, 10);
    expect(estimate.consumers[0].byLine.kinesis).toBeCloseTo(gigabytes * 0.04, 10);
    // 100 records/s over 4 on-demand shards: a poll a second finds 25
    expect(estimate.shardsByStream[ON_DEMAND_STREAM.id]).toBe(4);
    expect(estimate.consumers[0].recordsPerBatch).toBeCloseTo(25, 10);
  });

  test('a provisioned stream pays its shard-hours and PUT payload units', () => {
    // GIVEN the stream provisioned with 2 shards
    const estimate = cost(
      appOf([streamConsumer()], { streams: [{ ...ON_DEMAND_STREAM, mode: 'PROVISIONED', shardCount: 2 }] }),
    );

    // THEN 2 x $0.015 an hour over 360,000 events; 1M PUT payload units at $0.014 per million; no retrieval charge
    expect(estimate.byPayer[FIXED_CHARGES]).toBeCloseTo((2 * 0.015 * 1e6) / 360_000, 10);
    expect(estimate.byPayer[OUTSIDE_THE_APP]).toBeCloseTo(0.014, 10);
    expect(estimate.consumers[0].byLine.kinesis).toBe(0);
    expect(estimate.consumers[0].recordsPerBatch).toBeCloseTo(50, 10);
  });

  test('a batching window gathers more records per batch, for fewer invocations', () => {
    const noWindow = cost(appOf([streamConsumer()]));
    const window = cost(appOf([streamConsumer({ maxBatchingWindowSeconds: 3 })]));

    expect(window.consumers[0].recordsPerBatch).toBeCloseTo(75, 10);
    expect(window.byLine['lambda.requests']).toBeCloseTo(noWindow.byLine['lambda.requests'] / 3, 10);
  });
});

describe('producers and the flow of records', () => {
  test('a producer pays an invocation and a send per event to each queue it names', () => {
    // GIVEN an API function that sends every event to the queue and puts it on the stream
    const settings = appOf([queueConsumer(), streamConsumer()], {
      producers: [producer({ queueIds: ['Stack/OrdersQueue'], streamIds: [ON_DEMAND_STREAM.id] })],
    });

    const estimate = cost(settings);

    // THEN 1M requests ($0.20), 1M SendMessage ($0.40), 0.9537 GB ingested ($0.0763), and nothing from outside
    expect(estimate.byPayer[OUTSIDE_THE_APP]).toBeUndefined();
    const api = estimate.byPayer.api;
    // duration: (0.3 + 0.5) ms x 6.91 + 10 ms = 15.53 ms, billed 16: 1M x 0.25 GB x 0.016 s = 4,000 GB-s
    const duration = 4000 * 0.0000133334;
    const logs = (1e6 * 1000 * 0.5) / 2 ** 30;
    expect(api).toBeCloseTo(0.2 + 0.4 + (1e6 / 1024 ** 2) * 0.08 + duration + logs, 10);
  });

  test('a consumer that sends each record on feeds the next queue', () => {
    // GIVEN a consumer whose environment names a second consumed queue, filtering half of its records out
    const first = queueConsumer({ filterPatterns: 1, forwardsTo: { queueIds: ['Stack/NextQueue'], streamIds: [] } });
    const next = queueConsumer({
      id: 'Stack/NextConsumerMapping',
      name: 'next',
      source: { kind: 'sqs', queueId: 'Stack/NextQueue', fifo: false },
    });
    const settings = appOf([first, next]);

    // THEN the next queue receives half a record per event
    const perEvent = recordsPerEvent(settings, workloadOf({ ...WORKLOAD, filterMatchShare: 0.5 }));
    expect(perEvent.get('Stack/OrdersQueue')).toBe(1);
    expect(perEvent.get('Stack/NextQueue')).toBe(0.5);
  });
});

describe('repeats of a key', () => {
  test('the kit settles a repeat in its batch without a write; naive pays a failed PutItem for it', () => {
    // GIVEN 1 event in 11 a repeat, right behind its original
    const w = workloadOf({ ...WORKLOAD, duplicateShare: 1 / 11, retryDelaySeconds: 0 });
    const app = appConfig(appOf([queueConsumer()]), w);

    const kit = estimateCost(app, w, prices).consumers[0];
    const naive = estimateCost(naiveConfig(app), w, prices).consumers[0];

    // THEN a repeat 1 record behind shares a batch of 10 with its original 9 times in 10
    expect(kit.duplicatesInBatch).toBeCloseTo(0.9, 10);
    expect(kit.idempotencyWritesPerRecord).toBeCloseTo((10 / 11) * 2 + (1 / 11) * 0.1 * 1, 10);
    expect(naive.duplicatesInBatch).toBe(0);
    expect(naive.idempotencyWritesPerRecord).toBeCloseTo((10 / 11) * 2 + 1 / 11, 10);
  });

  test('a consumer keyed by something a repeat changes sees no duplicates', () => {
    const w = workloadOf({ ...WORKLOAD, duplicateShare: 0.5 });
    const settings = appOf([queueConsumer()]);
    const byEventId = { orders: putIfAbsentEffect({ id: 'x' }, { repeatsAreDuplicates: false }) };

    const estimate = estimateCost(appConfig(settings, w, byEventId), w, prices);

    expect(estimate.consumers[0].duplicateShare).toBe(0);
    expect(estimate.consumers[0].idempotencyWritesPerRecord).toBe(2);
  });
});

describe('effects', () => {
  test("an item's size counts attribute names and values as DynamoDB does", () => {
    // 'a' + 'xyz' = 4; 'n' + 12345 (5 digits: 3 + 1) = 5; 's' + 'ab' + 'cd' = 5
    expect(itemBytes({ a: 'xyz', n: 12345, s: new Set(['ab', 'cd']) })).toBe(14);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
  });

  test('an addOnce costs more as its item collects markers, and its pin a write of its own', () => {
    // GIVEN a per-minute item over 8 slots, 36-byte markers, pinned first
    const effect = addOnceEffect({
      item: (orders) => ({ minute: '2026-01-01T00:00', slot: 7, orderCount: orders }),
      markerAttribute: 'orderIds',
      markerBytes: 36,
      pinItem: { minute: 'order#1', slot: 0 },
      itemsPerMinute: () => 8,
      repeatsAreDuplicates: true,
    });

    const slow = effect.units(workloadOf({ eventsPerSecond: 1 }));
    const busy = effect.units(workloadOf({ eventsPerSecond: 300 }));

    // THEN at 1 event/s 7.5 markers an item: under 1 KB, 1 unit + the pin's 1
    expect(slow.markersPerItem).toBeCloseTo(7.5, 10);
    expect(slow.applied).toBe(2);
    expect(slow.requests).toBe(2);
    // AND at 300 events/s 2,250 markers: an 80 KB item, tens of units on average
    expect(busy.markersPerItem).toBe(2250);
    expect(busy.largestItemBytes).toBeGreaterThan(2250 * 36);
    expect(busy.applied).toBeGreaterThan(30);
  });

  test('a consumer whose environment names no table writes nothing the model sees', () => {
    const estimate = cost(appOf([queueConsumer({ effectTableIds: [] })]));

    expect(estimate.consumers[0].effectUnitsPerRecord).toBe(0);
  });
});

describe('the three configurations', () => {
  test('naive takes batches of 1 without a window; the floor the largest batch the payload and timeout allow', () => {
    const w = workloadOf(WORKLOAD);
    const app = appConfig(appOf([queueConsumer({ timeoutSeconds: 3 })]), w);

    const naive = naiveConfig(app).settings.consumers[0];
    const floor = floorConfig(app, w).settings.consumers[0];
    const floorCost = estimateCost(floorConfig(app, w), w, prices).consumers[0];

    expect(naive).toMatchObject({ batchSize: 1, maxBatchingWindowSeconds: 0 });
    expect(floor.maxBatchingWindowSeconds).toBe(300);
    // 6 MB / (1,000 + 900) bytes = 3,311 records at most; the 3 s timeout cuts it shorter
    expect(floor.batchSize).toBeLessThanOrEqual(Math.floor((6 * 1024 * 1024) / 1900));
    expect(floorCost.billedMsPerInvocation).toBeLessThanOrEqual(3000);
    expect(floorCost.idempotencyWritesPerRecord).toBe(0);
  });

  test('a consumer without an idempotency table processes its records one after another, with no store', () => {
    const estimate = cost(appOf([queueConsumer({ idempotencyStore: false, kitConstruct: undefined })]));

    expect(estimate.consumers[0].idempotencyWritesPerRecord).toBe(0);
    expect(estimate.consumers[0].parallelism).toBe(1);
  });

  test('alarms and dashboards are spread over a month of events', () => {
    // 10 standard alarms ($1.00) and 1 dashboard ($3.00) a month; 100 events/s x 3,600 x 730 = 262.8M events
    const estimate = cost(
      appOf([queueConsumer()], {
        alarms: { standardMetrics: 10, highResolutionMetrics: 0, composite: 0 },
        dashboards: 1,
      }),
    );

    expect(estimate.byLine['cloudwatch.alarms']).toBeCloseTo(1 / 262.8, 10);
    expect(estimate.byLine['cloudwatch.dashboards']).toBeCloseTo(3 / 262.8, 10);
  });
});
