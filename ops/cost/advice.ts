/**
 * Which settings to change: each lever (a consumer's batching, a function's memory or architecture, a stream's
 * capacity mode, an SQS mapping's provisioned pollers) is costed as a variant of the app, and kept when it saves
 * enough to matter. Each piece of advice names the construct and the setting as the app's code spells it: the
 * kit's prop on a `QueueConsumer` or `StreamConsumer`, or the CloudFormation property of the resource.
 *
 * @module
 */
import type { ConsumerSettings, FunctionSettings, StreamSettings } from './app-settings';
import { type CostConfig, largestBatchWithinTimeout, withConsumers } from './configurations';
import {
  type CostEstimate,
  consumerFlow,
  estimateCost,
  eventPollers,
  MAX_BATCH_SIZE,
  POLL_SECONDS,
  recordsPerEvent,
  SQS_RECORD_OVERHEAD_BYTES,
} from './estimate';
import type { Prices } from './prices';
import type { Workload } from './workload';

/** One change to the app and what it saves. */
export interface Advice {
  /** The construct (or resource) to change, by construct path, and what it is. */
  readonly construct: string;
  /** The setting, as the construct's code names it. */
  readonly setting: string;
  readonly from: string;
  readonly to: string;
  /** USD per million events saved. */
  readonly usdPerMillionEventsSaved: number;
  /** The saving over the app's cost. */
  readonly shareSaved: number;
  /** Why it saves, and what it trades. */
  readonly why: string;
}

/** Memory sizes the advice tries (MB): from Lambda's least to one full vCPU and beyond. */
export const MEMORY_CANDIDATES_MB = [128, 256, 512, 1024, 1769, 3008] as const;

/** A change saves enough to advise when it saves at least this much (USD per million events)... */
export const MIN_SAVING_USD = 0.01;
/** ...and at least this share of the app's cost. */
export const MIN_SAVING_SHARE = 0.002;

/** The advice for `app` at the workload, largest saving first. */
export function adviseOn(app: CostConfig, workload: Workload, prices: Prices, appEstimate?: CostEstimate): Advice[] {
  const costOf = (config: CostConfig) => estimateCost(config, workload, prices);
  const base = appEstimate ?? costOf(app);
  const perEvent = recordsPerEvent(app.settings, workload);
  const advice: Advice[] = [];
  const consider = (
    variant: CostConfig,
    describe: Omit<Advice, 'usdPerMillionEventsSaved' | 'shareSaved' | 'why'>,
    why: (estimate: CostEstimate) => string,
  ) => {
    const estimate = costOf(variant);
    const saved = base.usdPerMillionEvents - estimate.usdPerMillionEvents;
    if (saved >= MIN_SAVING_USD && saved >= MIN_SAVING_SHARE * base.usdPerMillionEvents) {
      advice.push({
        ...describe,
        usdPerMillionEventsSaved: saved,
        shareSaved: saved / base.usdPerMillionEvents,
        why: why(estimate),
      });
    }
  };
  const replacing = (target: ConsumerSettings, change: Partial<ConsumerSettings>) =>
    withConsumers(app, (c) => (c.id === target.id ? { ...c, ...change } : c));

  for (const consumer of app.settings.consumers) {
    const flow = consumerFlow(app, consumer, workload, perEvent);

    // Batching: the batch a window of the budget gathers, within the payload and the timeout.
    const window = Math.floor(workload.windowBudgetSeconds);
    const fifo = consumer.source.kind === 'sqs' && consumer.source.fifo;
    if (window > 0 && !fifo) {
      const slot =
        consumer.source.kind === 'kinesis' ? flow.recordsPerSecondPerSlot : flow.arrivalPerSecond * flow.matchShare;
      const gathered = slot * Math.max(window, consumer.source.kind === 'kinesis' ? POLL_SECONDS : 0);
      const wanted = Math.min(
        roundUpNicely(gathered),
        consumer.source.kind === 'sqs' ? MAX_BATCH_SIZE.sqs : MAX_BATCH_SIZE.kinesis,
      );
      const candidate = {
        ...consumer,
        batchSize: Math.max(consumer.batchSize, wanted),
        maxBatchingWindowSeconds: Math.max(consumer.maxBatchingWindowSeconds, window),
      };
      const batchSize = Math.min(candidate.batchSize, largestBatchWithinTimeout(app, candidate, workload, perEvent));
      if (batchSize > consumer.batchSize || candidate.maxBatchingWindowSeconds > consumer.maxBatchingWindowSeconds) {
        const variant = replacing(consumer, {
          batchSize,
          maxBatchingWindowSeconds: candidate.maxBatchingWindowSeconds,
        });
        const names = consumerSettingNames(consumer);
        consider(
          variant,
          {
            construct: names.construct,
            setting: `${names.batchSize}, ${names.window}`,
            from: `${consumer.batchSize}, ${consumer.maxBatchingWindowSeconds} s`,
            to: `${batchSize}, ${candidate.maxBatchingWindowSeconds} s`,
          },
          (estimate) => {
            const after = estimate.consumers.find((c) => c.id === consumer.id);
            return `batches of ${round(after?.recordsPerBatch ?? batchSize)} records instead of ${round(flow.recordsPerBatch)}: fewer invocations and log lines per record; a record waits up to ${candidate.maxBatchingWindowSeconds} s for its batch`;
          },
        );
      }
    }

    // Provisioned pollers: standard polling (or, to keep provisioned mode, the lowest minimum the load allows).
    if (consumer.provisionedPollers) {
      const pollers = consumer.provisionedPollers;
      const names = consumerSettingNames(consumer);
      const kept = eventPollers(consumer, flow.arrivalPerSecond, workload.recordBytes);
      const lowest = eventPollers(
        { ...consumer, provisionedPollers: { ...pollers, minimumPollers: 2 } },
        flow.arrivalPerSecond,
        workload.recordBytes,
      );
      const orLower =
        pollers.minimumPollers > lowest ? `, or a minimum of ${lowest} (${names.pollers}.minimumPollers)` : '';
      consider(
        replacing(consumer, { provisionedPollers: undefined }),
        {
          construct: names.construct,
          setting: names.pollers,
          from: `minimum ${pollers.minimumPollers}, maximum ${pollers.maximumPollers}`,
          to: 'none (standard polling)',
        },
        () =>
          `provisioned mode keeps ${kept} event poller${kept === 1 ? '' : 's'} (EPUs) on all hour long; at a steady ${round(flow.arrivalPerSecond)} records/s (${round((flow.arrivalPerSecond * (workload.recordBytes + SQS_RECORD_OVERHEAD_BYTES)) / 1024)} KB/s) standard polling keeps up; keep provisioned mode only for bursts standard scaling (up to 300 more concurrent invokes a minute) cannot absorb${orLower}`,
      );
    }

    // Memory of the consumer's function.
    adviseMemory(
      consumer,
      consumerSettingNames(consumer),
      (memoryMB) => replacing(consumer, { memoryMB }),
      costOf,
      consider,
      (estimate) => {
        const after = estimate.consumers.find((c) => c.id === consumer.id);
        return (
          after !== undefined &&
          (after.source === 'sqs' || after.utilization <= 1) &&
          after.billedMsPerInvocation <= consumer.timeoutSeconds * 1000
        );
      },
      flow.billedMs,
    );
    adviseArchitecture(
      consumer,
      consumerSettingNames(consumer),
      replacing(consumer, { architecture: 'arm64' }),
      consider,
    );
  }

  for (const producer of app.settings.producers) {
    const names = functionSettingNames(producer);
    const replaceProducer = (change: Partial<FunctionSettings>) => ({
      ...app,
      settings: {
        ...app.settings,
        producers: app.settings.producers.map((p) => (p.id === producer.id ? { ...p, ...change } : p)),
      },
    });
    adviseMemory(
      producer,
      names,
      (memoryMB) => replaceProducer({ memoryMB }),
      costOf,
      consider,
      () => true,
    );
    adviseArchitecture(producer, names, replaceProducer({ architecture: 'arm64' }), consider);
  }

  for (const stream of app.settings.streams) adviseStream(app, stream, workload, perEvent, base, consider);

  return advice.sort((a, b) => b.usdPerMillionEventsSaved - a.usdPerMillionEventsSaved);
}

type Consider = (
  variant: CostConfig,
  describe: Omit<Advice, 'usdPerMillionEventsSaved' | 'shareSaved' | 'why'>,
  why: (estimate: CostEstimate) => string,
) => void;

/** How a function's settings are named: by the kit construct's props, or by the CloudFormation properties. */
interface FunctionSettingNames {
  readonly construct: string;
  readonly memory: string;
  readonly architecture: string;
}

/** How a consumer's settings are named. */
interface ConsumerSettingNames extends FunctionSettingNames {
  readonly batchSize: string;
  readonly window: string;
  readonly pollers: string;
}

function functionSettingNames(fn: FunctionSettings): FunctionSettingNames {
  return { construct: `${fn.path} (AWS::Lambda::Function)`, memory: 'MemorySize', architecture: 'Architectures' };
}

function consumerSettingNames(consumer: ConsumerSettings): ConsumerSettingNames {
  const kit = consumer.kitConstruct;
  if (kit) {
    return {
      construct:
        kit.kind === 'QueueConsumer'
          ? `${kit.path} (QueueConsumer)`
          : `${kit.path} (StreamConsumer), consumer '${kit.consumerName}'`,
      batchSize: 'batchSize',
      window: 'maxBatchingWindow',
      pollers: 'provisionedPollers',
      memory: 'functionProps.memorySize',
      architecture: 'functionProps.architecture',
    };
  }
  return {
    construct: `${consumer.mappingPath} (AWS::Lambda::EventSourceMapping) and its function ${consumer.path}`,
    batchSize: 'BatchSize',
    window: 'MaximumBatchingWindowInSeconds',
    pollers: 'ProvisionedPollerConfig',
    memory: 'MemorySize',
    architecture: 'Architectures',
  };
}

function adviseMemory(
  fn: FunctionSettings,
  names: FunctionSettingNames,
  variantWith: (memoryMB: number) => CostConfig,
  costOf: (config: CostConfig) => CostEstimate,
  consider: Consider,
  acceptable: (estimate: CostEstimate) => boolean,
  billedMs?: number,
): void {
  // The candidate that costs least while the function still keeps up and finishes within its timeout.
  let best: { memoryMB: number; config: CostConfig; usd: number } | undefined;
  for (const memoryMB of MEMORY_CANDIDATES_MB) {
    if (memoryMB === fn.memoryMB) continue;
    const config = variantWith(memoryMB);
    const estimate = costOf(config);
    if (acceptable(estimate) && (!best || estimate.usdPerMillionEvents < best.usd)) {
      best = { memoryMB, config, usd: estimate.usdPerMillionEvents };
    }
  }
  if (!best) return;
  const { memoryMB, config } = best;
  consider(
    config,
    { construct: names.construct, setting: names.memory, from: `${fn.memoryMB} MB`, to: `${memoryMB} MB` },
    () =>
      memoryMB < fn.memoryMB
        ? `its invocations mostly wait on requests, and waiting is billed by memory${billedMs === undefined ? '' : ` (${billedMs} ms per invocation now)`}; with less memory it gets less CPU, so each invocation takes longer: check its latency`
        : 'more memory brings more CPU: its CPU-bound invocations end sooner than the memory adds',
  );
}

function adviseArchitecture(
  fn: FunctionSettings,
  names: FunctionSettingNames,
  variant: CostConfig,
  consider: Consider,
): void {
  if (fn.architecture === 'arm64') return;
  consider(
    variant,
    { construct: names.construct, setting: names.architecture, from: 'x86_64', to: 'arm64' },
    () =>
      'a GB-second on arm64 costs 20% less than on x86_64; the same Node.js code runs on both unless it loads native modules built for x86',
  );
}

function adviseStream(
  app: CostConfig,
  stream: StreamSettings,
  workload: Workload,
  perEvent: ReadonlyMap<string, number>,
  base: CostEstimate,
  consider: Consider,
): void {
  const readers = app.settings.consumers.filter((c) => c.source.kind === 'kinesis' && c.source.streamId === stream.id);
  const recordsPerSecond = workload.eventsPerSecond * (perEvent.get(stream.id) ?? 0);
  const kilobytesPerSecond = recordsPerSecond * Math.ceil(workload.recordBytes / 1024);
  const sharedReaders = readers.filter((c) => c.source.kind === 'kinesis' && !c.source.enhancedFanOut).length;
  // A shard takes 1 MB/s or 1,000 records/s of writes, and serves 2 MB/s of reads shared by its standard readers.
  const needed = Math.max(
    1,
    Math.ceil(kilobytesPerSecond / 1024),
    Math.ceil(recordsPerSecond / 1000),
    Math.ceil((kilobytesPerSecond * sharedReaders) / 2048),
  );
  const kit = readers.find((c) => c.kitConstruct?.kind === 'StreamConsumer')?.kitConstruct;
  const construct = kit ? `${kit.path} (StreamConsumer)` : `${stream.path} (AWS::Kinesis::Stream)`;
  const setting = kit ? 'shardCount' : 'StreamModeDetails.StreamMode, ShardCount';
  const now =
    stream.mode === 'ON_DEMAND'
      ? `on-demand (${base.shardsByStream[stream.id] ?? '?'} shards)`
      : `${stream.shardCount} shards (provisioned)`;
  const variantWith = (changed: StreamSettings): CostConfig => {
    const streams = app.settings.streams.map((s) => (s.id === stream.id ? changed : s));
    const draft = { ...app, settings: { ...app.settings, streams } };
    // Fewer shards give each consumer's batch slot more records: raise the parallelization factor where one
    // would fall behind.
    return withConsumers(draft, (c) => {
      if (!readers.some((r) => r.id === c.id)) return c;
      const flow = consumerFlow(draft, c, workload, perEvent);
      const utilization = (flow.recordsPerSecondPerSlot / flow.recordsPerBatch) * (flow.billedMs / 1000);
      return utilization > 1
        ? { ...c, parallelizationFactor: Math.min(10, Math.ceil(c.parallelizationFactor * utilization)) }
        : c;
    });
  };
  const describe = (variant: CostConfig) => {
    const raised = variant.settings.consumers.filter((c) =>
      readers.some((r) => r.id === c.id && r.parallelizationFactor !== c.parallelizationFactor),
    );
    return raised.length === 0
      ? ''
      : `; with parallelizationFactor ${raised.map((c) => `${c.parallelizationFactor} for ${c.name}`).join(', ')} to keep up`;
  };
  if (stream.mode === 'ON_DEMAND' || (stream.shardCount ?? 1) > needed) {
    const variant = variantWith({ ...stream, mode: 'PROVISIONED', shardCount: needed });
    consider(
      variant,
      { construct, setting, from: now, to: `${needed} shard${needed === 1 ? '' : 's'} (provisioned)` },
      () =>
        `at ${round(recordsPerSecond)} records/s (${round(kilobytesPerSecond)} KB/s in, read by ${sharedReaders} standard consumer${sharedReaders === 1 ? '' : 's'}) ${needed} shard${needed === 1 ? '' : 's'} take${needed === 1 ? 's' : ''} the writes and reads${describe(variant)}; ${stream.mode === 'ON_DEMAND' ? 'on-demand charges per stream-hour and per GB in and out, provisioned per shard-hour: a provisioned stream does not scale by itself, so reshard as the rate grows' : 'fewer shards cost fewer shard-hours'}`,
    );
  } else {
    const variant = variantWith({ id: stream.id, path: stream.path, mode: 'ON_DEMAND' });
    consider(
      variant,
      { construct, setting, from: now, to: 'on-demand' },
      () =>
        `at ${round(recordsPerSecond)} records/s the stream's ${stream.shardCount} shard-hours cost more than on-demand's stream-hour and per-GB charges, and on-demand scales by itself`,
    );
  }
}

/** The next of 1, 2, 5, 10, 20, 50... at or above `value`. */
export function roundUpNicely(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function round(value: number): number {
  return value >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
}
