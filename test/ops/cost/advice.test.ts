import { describe, expect, test } from 'vitest';
import { type Advice, adviseOn, roundUpNicely } from '../../../ops/cost/advice';
import type { AppSettings } from '../../../ops/cost/app-settings';
import { appConfig } from '../../../ops/cost/configurations';
import { estimateCost } from '../../../ops/cost/estimate';
import { loadPrices } from '../../../ops/cost/prices';
import { type WorkloadOverrides, workloadOf } from '../../../ops/cost/workload';
import { appOf, ON_DEMAND_STREAM, queueConsumer, streamConsumer } from './fixtures';

const prices = loadPrices();
const WORKLOAD: WorkloadOverrides = { eventsPerSecond: 300, recordBytes: 800, effectWrites: 1 };

function advise(settings: AppSettings, workload: WorkloadOverrides = WORKLOAD): Advice[] {
  const w = workloadOf(workload);
  return adviseOn(appConfig(settings, w), w, prices);
}

describe('advice', () => {
  test('names the QueueConsumer and its batchSize and maxBatchingWindow for a window of the budget', () => {
    // GIVEN a QueueConsumer taking batches of 10 at 300 events/s
    const [advice] = advise(appOf([queueConsumer()]));

    // THEN a 1 s window gathers 300 records: batchSize 500, maxBatchingWindow 1 s
    expect(advice).toMatchObject({
      construct: 'Stack/Orders (QueueConsumer)',
      setting: 'batchSize, maxBatchingWindow',
      from: '10, 0 s',
      to: '500, 1 s',
    });
    expect(advice.why).toContain('a record waits up to 1 s for its batch');
  });

  test('the saving is the difference between the app and the app with the change', () => {
    const w = workloadOf(WORKLOAD);
    const settings = appOf([queueConsumer()]);
    const [advice] = adviseOn(appConfig(settings, w), w, prices);

    const before = estimateCost(appConfig(settings, w), w, prices).usdPerMillionEvents;
    const changed = appOf([queueConsumer({ batchSize: 500, maxBatchingWindowSeconds: 1 })]);
    const after = estimateCost(appConfig(changed, w), w, prices).usdPerMillionEvents;

    expect(advice.usdPerMillionEventsSaved).toBeCloseTo(before - after, 10);
    expect(advice.shareSaved).toBeCloseTo((before - after) / before, 10);
  });

  test('gives no window advice with a budget of 0 s', () => {
    expect(advise(appOf([queueConsumer()]), { ...WORKLOAD, windowBudgetSeconds: 0 })).toEqual([]);
  });

  test("names the CloudFormation properties of a mapping that is not the kit's", () => {
    const [advice] = advise(appOf([queueConsumer({ kitConstruct: undefined, idempotencyStore: false })]));

    expect(advice.construct).toBe(
      'Stack/Orders/Consumer/Function/SqsEventSource:StackOrdersQueue (AWS::Lambda::EventSourceMapping) and its function Stack/Orders/Consumer/Function',
    );
    expect(advice.setting).toBe('BatchSize, MaximumBatchingWindowInSeconds');
  });

  test('advises arm64 for an x86_64 function whose duration counts', () => {
    // GIVEN a CPU-bound consumer: 20 ms of CPU per record at 1,024 MB
    const cpuBound = { ...WORKLOAD, cpuMsPerRecord: 20 };
    const settings = appOf([queueConsumer({ architecture: 'x86_64', memoryMB: 1024 })]);

    const advice = advise(settings, cpuBound);

    expect(advice.find((a) => a.setting === 'functionProps.architecture')).toMatchObject({
      construct: 'Stack/Orders (QueueConsumer)',
      from: 'x86_64',
      to: 'arm64',
    });
  });

  test('advises standard polling for provisioned pollers a steady load does not need, saving what they cost', () => {
    // GIVEN provisioned mode with 20 pollers kept at all times
    const w = workloadOf(WORKLOAD);
    const settings = appOf([
      queueConsumer({
        batchSize: 500,
        maxBatchingWindowSeconds: 1,
        provisionedPollers: { minimumPollers: 20, maximumPollers: 200 },
      }),
    ]);
    const pollers = estimateCost(appConfig(settings, w), w, prices).byLine['lambda.eventPollers'];

    const advice = adviseOn(appConfig(settings, w), w, prices).find((a) => a.setting === 'provisionedPollers');

    // THEN 20 x $0.00925 an hour over 1.08M events an hour, all of it saved
    expect(pollers).toBeCloseTo((20 * 0.00925 * 1e6) / (300 * 3600), 10);
    expect(advice).toMatchObject({
      construct: 'Stack/Orders (QueueConsumer)',
      from: 'minimum 20, maximum 200',
      to: 'none (standard polling)',
    });
    expect(advice?.usdPerMillionEventsSaved).toBeCloseTo(pollers, 10);
    // AND to keep provisioned mode, the least the load needs: 300 x 1,700 B = 0.5 MB/s, under one poller's 5 MB/s
    expect(advice?.why).toContain('or a minimum of 2 (provisionedPollers.minimumPollers)');
  });

  test('advises a provisioned stream with the shards the load needs, raising the parallelization factor to keep up', () => {
    // GIVEN a StreamConsumer on an on-demand stream (4 shards at least) at 300 records/s of 800 bytes
    const advice = advise(appOf([streamConsumer({ maxBatchingWindowSeconds: 1 })])).find(
      (a) => a.setting === 'shardCount',
    );

    expect(advice).toMatchObject({
      construct: 'Stack/Events (StreamConsumer)',
      from: 'on-demand (4 shards)',
      to: '1 shard (provisioned)',
    });
  });

  test("names the stream's CloudFormation properties when no kit construct reads it", () => {
    const advice = advise(appOf([streamConsumer({ kitConstruct: undefined, maxBatchingWindowSeconds: 1 })])).find(
      (a) => a.construct === `${ON_DEMAND_STREAM.path} (AWS::Kinesis::Stream)`,
    );

    expect(advice?.setting).toBe('StreamModeDetails.StreamMode, ShardCount');
  });

  test('lists the largest saving first', () => {
    const advice = advise(
      appOf([queueConsumer({ architecture: 'x86_64' }), streamConsumer({ architecture: 'x86_64' })]),
      { ...WORKLOAD, cpuMsPerRecord: 20 },
    );

    const savings = advice.map((a) => a.usdPerMillionEventsSaved);
    expect(savings.length).toBeGreaterThan(2);
    expect(savings).toEqual([...savings].sort((a, b) => b - a));
  });

  test('rounds batch sizes up to 1, 2 or 5 of a power of ten', () => {
    expect([0.5, 1, 3, 10, 11, 330, 5001].map(roundUpNicely)).toEqual([1, 1, 5, 10, 20, 500, 10_000]);
  });
});
