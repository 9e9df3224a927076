/**
 * The configurations the model costs side by side: the app as synthesized, the naive configuration (Powertools'
 * documented pattern, one record per invocation) and the floor (the cheapest configuration that keeps the same
 * guarantees).
 *
 * @module
 */
import type { AppSettings, ConsumerSettings } from './app-settings';
import { type EffectProfile, writesPerRecordEffect } from './effects';
import { consumerFlow, MAX_BATCH_SIZE, MAX_BATCHING_WINDOW_SECONDS, recordsPerEvent } from './estimate';
import type { Workload } from './workload';

/** How a consumer processes a batch. */
export interface Processing {
  /** Powertools idempotency records in DynamoDB for every record. */
  readonly idempotencyStore: boolean;
  /** A duplicate of a key earlier in the batch follows its outcome without a request. */
  readonly inBatchDedupe: boolean;
  /** Completed keys are cached in the execution environment (see `Workload.cachedDuplicates`). */
  readonly localCache: boolean;
  /** Different keys processed at once, up to `maxConcurrency` (Kinesis: in order per partition key). */
  readonly keyParallelism: boolean;
}

/** The runtime kit: idempotency store, in-batch dedupe, local cache, bounded per-key parallelism. */
export const KIT_PROCESSING: Processing = {
  idempotencyStore: true,
  inBatchDedupe: true,
  localCache: true,
  keyParallelism: true,
};

/** A consumer without an idempotency table: its records one after another, no store. */
export const PLAIN_PROCESSING: Processing = {
  idempotencyStore: false,
  inBatchDedupe: false,
  localCache: false,
  keyParallelism: false,
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

/** A configuration of the app to cost. */
export interface CostConfig {
  readonly label: string;
  readonly settings: AppSettings;
  /** How each consumer processes, by consumer ID. */
  readonly processing: Readonly<Record<string, Processing>>;
  /** What each consumer writes, by consumer ID. */
  readonly effects: Readonly<Record<string, EffectProfile>>;
}

/**
 * The app as synthesized: a consumer whose environment names an idempotency table runs the kit's processing, any
 * other processes its records one after another. Each consumer's effect is `effects[<its name>]` if given, else
 * `workload.effectWrites` write units per record when its environment names a table of the app, else none.
 */
export function appConfig(
  settings: AppSettings,
  workload: Workload,
  effects: Readonly<Record<string, EffectProfile>> = {},
  label = 'app',
): CostConfig {
  const effectOf = (consumer: ConsumerSettings) =>
    effects[consumer.name] ?? writesPerRecordEffect(consumer.effectTableIds.length > 0 ? workload.effectWrites : 0);
  return {
    label,
    settings,
    processing: Object.fromEntries(
      settings.consumers.map((c) => [c.id, c.idempotencyStore ? KIT_PROCESSING : PLAIN_PROCESSING]),
    ),
    effects: Object.fromEntries(settings.consumers.map((c) => [c.id, effectOf(c)])),
  };
}

/** Every consumer of `config` processing as `processing`. */
export function withProcessing(config: CostConfig, processing: Processing, label = config.label): CostConfig {
  return {
    ...config,
    label,
    processing: Object.fromEntries(config.settings.consumers.map((c) => [c.id, processing])),
  };
}

/** `config` with some consumers' settings changed. */
export function withConsumers(
  config: CostConfig,
  change: (consumer: ConsumerSettings) => ConsumerSettings,
  label = config.label,
): CostConfig {
  return { ...config, label, settings: { ...config.settings, consumers: config.settings.consumers.map(change) } };
}

/** The same app with batch size 1, no batching window and Powertools' documented processing. */
export function naiveConfig(app: CostConfig): CostConfig {
  return withProcessing(
    withConsumers(app, (c) => ({ ...c, batchSize: 1, maxBatchingWindowSeconds: 0 })),
    NAIVE_PROCESSING,
    'naive',
  );
}

/**
 * The floor: every consumer with the largest batch its source allows (10,000 records within the 6 MB invocation
 * payload, gathered by a 300 s window, one batch per shard) that still finishes within the function's timeout,
 * standard polling, and {@link FLOOR_PROCESSING}. Memory, timeout, streams and producers stay as they are.
 */
export function floorConfig(app: CostConfig, workload: Workload): CostConfig {
  const draft = withProcessing(app, FLOOR_PROCESSING, 'floor');
  const perEvent = recordsPerEvent(app.settings, workload);
  return withConsumers(draft, (consumer) => {
    const standard = { ...consumer, provisionedPollers: undefined };
    if (consumer.source.kind === 'sqs' && consumer.source.fifo) {
      return { ...standard, batchSize: MAX_BATCH_SIZE.sqsFifo, maxBatchingWindowSeconds: 0 };
    }
    const widest: ConsumerSettings = {
      ...standard,
      batchSize: consumer.source.kind === 'sqs' ? MAX_BATCH_SIZE.sqs : MAX_BATCH_SIZE.kinesis,
      maxBatchingWindowSeconds: MAX_BATCHING_WINDOW_SECONDS,
      parallelizationFactor: 1,
    };
    return { ...widest, batchSize: largestBatchWithinTimeout(draft, widest, workload, perEvent) };
  });
}

/**
 * The largest batch size up to `consumer.batchSize` whose invocation finishes within the function's timeout
 * (duration grows with the batch) and fits the invocation payload.
 */
export function largestBatchWithinTimeout(
  config: CostConfig,
  consumer: ConsumerSettings,
  workload: Workload,
  perEvent: ReadonlyMap<string, number> = recordsPerEvent(config.settings, workload),
): number {
  let low = 1;
  let high = consumer.batchSize;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    const invocation = consumerFlow(config, { ...consumer, batchSize: middle }, workload, perEvent);
    if (invocation.billedMs <= consumer.timeoutSeconds * 1000) low = middle;
    else high = middle - 1;
  }
  return Math.min(low, consumerFlow(config, consumer, workload, perEvent).payloadCap);
}
