import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as v from 'valibot';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  type AppSettings,
  type CfnTemplate,
  type ConsumerSettings,
  costResults,
  DEFAULT_WORKLOAD,
  effectUnits,
  estimateCost,
  FLOOR_PROCESSING,
  floorConfig,
  itemBytes,
  kitConfig,
  LAMBDA_PAYLOAD_BYTES,
  loadPrices,
  NAIVE_PROCESSING,
  naiveConfig,
  PRICE_NAMES,
  PRICES_FILE,
  REFERENCE_EFFECTS,
  readAppSettings,
  SQS_RECORD_OVERHEAD_BYTES,
  sampleOrderPlaced,
  synthesizeReferenceTemplate,
  type Workload,
} from '../../bench/cost';
import { withinBudget } from '../../bench/results';
import { OrderPlacedSchema } from '../../lambdas/events/order-placed';

const prices = loadPrices();
const lambdasDir = path.join(__dirname, '..', '..', 'lambdas');

/** One consumer of `source` and the producer that feeds it, as a template would give them. */
function appWith(consumer: Partial<ConsumerSettings> & Pick<ConsumerSettings, 'source'>): AppSettings {
  const settings: ConsumerSettings = {
    name: 'order-processor',
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    parallelizationFactor: 1,
    memoryMB: 256,
    timeoutSeconds: 30,
    architecture: 'arm64',
    ...consumer,
  };
  const queue = settings.source.kind === 'sqs';
  return {
    consumers: [settings],
    streams: queue ? [] : [{ id: 'Stream', mode: 'ON_DEMAND' }],
    producers: [
      {
        name: 'order-api',
        memoryMB: 256,
        architecture: 'arm64',
        queueIds: queue ? ['Queue'] : [],
        streamIds: queue ? [] : ['Stream'],
      },
    ],
  };
}

const queueSource = { kind: 'sqs', queueId: 'Queue', fifo: false } as const;
const streamSource = { kind: 'kinesis', streamId: 'Stream', enhancedFanOut: false } as const;

function kitCost(settings: AppSettings, workload: Partial<Workload> = {}) {
  return estimateCost(kitConfig(settings), { ...DEFAULT_WORKLOAD, ...workload }, prices);
}

describe('bench/prices.json', () => {
  test('gives every price the model charges with its AWS pricing page and a date', () => {
    // GIVEN the prices file as written
    const { prices: raw } = JSON.parse(readFileSync(PRICES_FILE, 'utf8')) as {
      prices: Record<string, { usd: number; source: string; asOf: string }>;
    };

    // THEN every price the model charges is there, positive, sourced from an AWS pricing page and dated
    for (const name of PRICE_NAMES) {
      expect(raw[name], name).toBeDefined();
      expect(raw[name].usd, name).toBeGreaterThan(0);
      expect(raw[name].source, name).toMatch(/^https:\/\/aws\.amazon\.com\/[a-z/-]*pricing\//);
      expect(raw[name].asOf, name).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(Date.parse(raw[name].asOf), name).toBeLessThanOrEqual(Date.now());
    }
  });

  test('fails when a price has no source', () => {
    // GIVEN a prices file whose Lambda request price lost its source
    const document = JSON.parse(readFileSync(PRICES_FILE, 'utf8'));
    delete document.prices['lambda.requests'].source;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'eda-kit-prices-')), 'prices.json');
    writeFileSync(file, JSON.stringify(document));

    // THEN loading it names the price
    expect(() => loadPrices(file)).toThrow(
      `${file} is not usable:\n  - lambda.requests needs its AWS pricing page as source, got undefined`,
    );
  });
});

describe('the cost model', () => {
  test('a batch of 1 costs more per event than a batch of 10', () => {
    // GIVEN the same queue consumer with batches of 1 and of 10
    const one = kitCost(appWith({ source: queueSource, batchSize: 1 }));
    const ten = kitCost(appWith({ source: queueSource, batchSize: 10 }));

    // THEN ten records share an invocation, a ReceiveMessage and a DeleteMessageBatch
    expect(one.usdPerMillionEvents).toBeGreaterThan(ten.usdPerMillionEvents);
    expect(one.consumers[0].byCategory['lambda.requests']).toBeCloseTo(
      10 * ten.consumers[0].byCategory['lambda.requests'],
    );
    // 1M messages in batches of 10: 100,000 receives + 100,000 deletes at $0.40 per million
    expect(ten.consumers[0].byCategory['sqs.requests']).toBeCloseTo(0.08);
    expect(one.consumers[0].byCategory['sqs.requests']).toBeCloseTo(0.8);
  });

  test('a Kinesis batch holds what its shard received since the last poll, and a batching window fills it', () => {
    // GIVEN 10 orders/s (11 events/s with retries) over an on-demand stream's 4 shards
    const workload = { ordersPerSecond: 10 };

    // WHEN the consumer asks for 100 records with and without a 5 s window
    const noWindow = kitCost(appWith({ source: streamSource, batchSize: 100 }), workload);
    const window = kitCost(appWith({ source: streamSource, batchSize: 100, maxBatchingWindowSeconds: 5 }), workload);

    // THEN a poll a second finds 2.75 records; the window gathers five times as many, for fewer invocations
    expect(noWindow.shardsByStream.Stream).toBe(4);
    expect(noWindow.consumers[0].recordsPerBatch).toBeCloseTo(2.75);
    expect(window.consumers[0].recordsPerBatch).toBeCloseTo(13.75);
    expect(window.byCategory['lambda.requests']).toBeLessThan(noWindow.byCategory['lambda.requests']);
  });

  test('a new record costs the idempotency store 2 writes; the floor pays only the effect', () => {
    // GIVEN no duplicates
    const workload = { ...DEFAULT_WORKLOAD, duplicates: 0 };
    const settings = appWith({ source: queueSource });

    // WHEN the kit and the floor process the same records
    const kit = estimateCost(kitConfig(settings), workload, prices);
    const floor = estimateCost(floorConfig(kitConfig(settings), workload), workload, prices);

    // THEN the kit writes INPROGRESS + COMPLETED + the effect; the floor the effect alone
    expect(kit.consumers[0].idempotencyWritesPerRecord).toBe(2);
    expect(kit.consumers[0].effectUnitsPerRecord).toBe(1);
    expect(floor.consumers[0].idempotencyWritesPerRecord).toBe(0);
    expect(floor.consumers[0].effectUnitsPerRecord).toBe(1);
    expect(kit.byCategory['dynamodb.idempotency']).toBeCloseTo(2 * 0.625);
  });

  test('the kit settles a retry in its batch for free; the naive configuration pays a failed PutItem for it', () => {
    // GIVEN 10% of orders sent twice, each retry right behind its original
    const workload = { ...DEFAULT_WORKLOAD, duplicates: 0.1, retryDelaySeconds: 0 };
    const settings = appWith({ source: queueSource });

    // WHEN the kit and the naive configuration process them
    const kit = estimateCost(kitConfig(settings), workload, prices).consumers[0];
    const naive = estimateCost(naiveConfig(kitConfig(settings)), workload, prices).consumers[0];

    // THEN a retry 1 record behind shares a batch of 10 with its original 9 times in 10
    const retries = 0.1 / 1.1;
    expect(kit.duplicatesInBatch).toBeCloseTo(0.9);
    expect(kit.idempotencyWritesPerRecord).toBeCloseTo((1 - retries) * 2 + retries * 0.1 * 1);
    expect(naive.duplicatesInBatch).toBe(0);
    expect(naive.idempotencyWritesPerRecord).toBeCloseTo((1 - retries) * 2 + retries * 1);
  });

  test('a retry a second later lands in a later batch, where in-batch dedupe cannot help', () => {
    // GIVEN retries 1 s after their original at 300 orders/s: 330 messages later on the queue
    const kit = kitCost(appWith({ source: queueSource }), { retryDelaySeconds: 1 }).consumers[0];

    // THEN none shares a batch of 10 with its original
    expect(kit.duplicatesInBatch).toBe(0);
  });

  test('an addOnce write costs more as its item collects markers; a putIfAbsent write stays at 1 WRU', () => {
    // GIVEN the analytics aggregator's per-minute items at a low and a high rate, over 8 slots a minute
    const eightSlots = { ...DEFAULT_WORKLOAD, analyticsSlotsPerMinute: 8 };
    const analytics = REFERENCE_EFFECTS['analytics-aggregator'];
    const slow = effectUnits(analytics, { ...eightSlots, ordersPerSecond: 1 });
    const busy = effectUnits(analytics, { ...eightSlots, ordersPerSecond: 300 });

    // THEN UpdateItem is billed on the whole item, which grows by one order ID per order of its minute
    expect(slow.markersPerItem).toBeCloseTo(7.5);
    expect(slow.applied).toBe(2); // the pin, then the update of a small item
    expect(busy.markersPerItem).toBe(2250);
    expect(busy.largestItemBytes).toBeGreaterThan(2250 * 36);
    expect(busy.applied).toBeGreaterThan(30);
    // AND the handler's own slots keep the item at a few write units at that rate
    const handlerSlots = effectUnits(analytics, { ...DEFAULT_WORKLOAD, ordersPerSecond: 300 });
    expect(handlerSlots.markersPerItem).toBeCloseTo(18_000 / 256);
    expect(handlerSlots.applied).toBeLessThan(4);
    expect(effectUnits(REFERENCE_EFFECTS['order-processor'], DEFAULT_WORKLOAD).applied).toBe(1);
  });

  test("an item's size counts attribute names and values as DynamoDB does", () => {
    // 'a' + 'xyz' = 4; 'n' + 12345 (5 digits: 3 + 1) = 5; 's' + 'ab' + 'cd' = 5
    expect(itemBytes({ a: 'xyz', n: 12345, s: new Set(['ab', 'cd']) })).toBe(14);
  });

  test('the floor takes the largest batch that fits the invocation payload and the timeout', () => {
    // GIVEN a queue consumer with a 30 s and with a 3 s timeout
    const roomy = floorConfig(kitConfig(appWith({ source: queueSource })), DEFAULT_WORKLOAD).settings.consumers[0];
    const tight = floorConfig(kitConfig(appWith({ source: queueSource, timeoutSeconds: 3 })), DEFAULT_WORKLOAD).settings
      .consumers[0];

    // THEN the batch stops at the 6 MB payload, or earlier where the timeout would cut it
    const eventBytes = Buffer.byteLength(JSON.stringify(sampleOrderPlaced(DEFAULT_WORKLOAD)));
    expect(roomy.batchSize).toBeLessThanOrEqual(
      Math.floor(LAMBDA_PAYLOAD_BYTES / (eventBytes + SQS_RECORD_OVERHEAD_BYTES)),
    );
    expect(roomy.maxBatchingWindowSeconds).toBe(300);
    expect(tight.batchSize).toBeLessThan(roomy.batchSize);
    const cost = estimateCost(
      floorConfig(kitConfig(appWith({ source: queueSource, timeoutSeconds: 3 })), DEFAULT_WORKLOAD),
      DEFAULT_WORKLOAD,
      prices,
    );
    expect(cost.consumers[0].billedMsPerInvocation).toBeLessThanOrEqual(3000);
  });

  test('the three configurations process the same way the brief defines them', () => {
    expect(NAIVE_PROCESSING).toMatchObject({ idempotencyStore: true, inBatchDedupe: false, localCache: false });
    expect(FLOOR_PROCESSING).toMatchObject({ idempotencyStore: false });
    const naive = naiveConfig(
      kitConfig(appWith({ source: streamSource, batchSize: 100, maxBatchingWindowSeconds: 5 })),
    );
    expect(naive.settings.consumers[0]).toMatchObject({ batchSize: 1, maxBatchingWindowSeconds: 0 });
  });

  test('fails when a consumer has no effect profile', () => {
    // GIVEN a consumer the model does not know
    const settings = appWith({ source: queueSource, name: 'mystery' });

    // THEN the estimate names it and says where to describe it
    expect(() => kitCost(settings)).toThrow(
      "No effect profile for consumer 'mystery': add how it writes to REFERENCE_EFFECTS in bench/cost.ts",
    );
  });
});

describe('the reference app', () => {
  let template: CfnTemplate;

  beforeAll(() => {
    // GIVEN the reference app, synthesized in this process
    template = synthesizeReferenceTemplate();
  });

  test('reads every event source mapping, function and stream from the template', () => {
    const settings = readAppSettings(template);

    expect(
      settings.consumers.map((c) => [c.name, c.source.kind, c.batchSize, c.maxBatchingWindowSeconds, c.memoryMB]),
    ).toEqual([
      ['order-processor', 'sqs', 10, 0, 256],
      ['notification-sender', 'sqs', 10, 0, 256],
      ['inventory-updater', 'kinesis', 100, 0, 256],
      ['audit-log-writer', 'kinesis', 100, 0, 256],
      ['analytics-aggregator', 'kinesis', 100, 0, 256],
    ]);
    expect(settings.consumers.every((c) => c.architecture === 'arm64' && c.parallelizationFactor === 1)).toBe(true);
    expect(settings.streams.map((s) => s.mode)).toEqual(['ON_DEMAND']);
    // The order API sends each event to both queues and puts it on the stream.
    expect(settings.producers).toHaveLength(1);
    expect(settings.producers[0]).toMatchObject({ name: 'order-api' });
    expect(settings.producers[0].queueIds).toHaveLength(2);
    expect(settings.producers[0].streamIds).toHaveLength(1);
  });

  test("changing a batch size in the template changes the reference app's cost", () => {
    // GIVEN the template with the orders queue's event source mapping set to batches of 1
    const changed = structuredClone(template) as CfnTemplate;
    const [, mapping] = Object.entries(changed.Resources).find(
      ([id, r]) => r.Type === 'AWS::Lambda::EventSourceMapping' && id.startsWith('OrdersConsumer'),
    ) as [string, { Properties: Record<string, unknown> }];
    mapping.Properties.BatchSize = 1;

    // WHEN both are costed
    const cost = (t: CfnTemplate) =>
      costResults({ template: t, prices, measured: false }).find((r) => r.name === 'cost.perMillionEvents')?.value;

    // THEN the smaller batches cost more
    expect(cost(changed)).toBeGreaterThan(cost(template) as number);
  });

  test('costs naive > kit >= floor and reports figure 7 with its baselines, ratios and budgets', () => {
    const results = costResults({ template, prices, measured: false });
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

  test('describes each consumer of the template the way its handler applies its effect', () => {
    // GIVEN each reference handler's source
    for (const consumer of readAppSettings(template).consumers) {
      const profile = REFERENCE_EFFECTS[consumer.name];
      expect(profile, consumer.name).toBeDefined();
      const source = readFileSync(path.join(lambdasDir, consumer.name, 'handler.ts'), 'utf8');

      // THEN the key, the helper and the marker slots are the handler's
      expect(source).toContain(`idempotencyKey: '${profile.idempotencyKey}'`);
      if (profile.write.kind === 'addOnce') {
        expect(source).toContain('await addOnce(');
        expect(source).toContain(`markerAttribute: '${profile.write.markerAttribute}'`);
        expect(source).toContain(`export const SLOTS_PER_MINUTE = ${profile.write.slotsPerMinute(DEFAULT_WORKLOAD)};`);
      } else {
        const viaMail = source.includes('await mail.send(');
        expect(viaMail || source.includes('await putIfAbsent(')).toBe(true);
        if (viaMail) {
          const provider = readFileSync(path.join(lambdasDir, consumer.name, 'mail-provider.ts'), 'utf8');
          expect(provider).toContain('return putIfAbsent(');
        }
      }
    }
  });

  test('models a valid OrderPlaced event', () => {
    expect(() => v.parse(OrderPlacedSchema, sampleOrderPlaced(DEFAULT_WORKLOAD))).not.toThrow();
  });
});
