/**
 * The estimate: what one million events cost through a configuration of the app at a steady rate. Charged: Lambda
 * requests and GB-seconds of every consumer and producer, SQS provisioned-mode event pollers, SQS sends, receives
 * and deletes, Kinesis ingestion and retrieval (and its hourly charges, spread over the hour's events), DynamoDB
 * writes of the idempotency store and of the effects, CloudWatch Logs ingestion, and the alarms and dashboards
 * (monthly, spread over the month's events). Not charged: failures, retries and redrives (a stream consumer's
 * failure bucket is written only on a failure), empty receives of idle long polls, storage (tables, logs, stream
 * retention, failure buckets), custom metrics (a failure bucket's request metrics among them), free tiers.
 *
 * @module
 */
import type { AppSettings, ConsumerSettings, ConsumerSource, StreamSettings } from './app-settings';
import type { CostConfig } from './configurations';
import type { EffectUnits } from './effects';
import { type PriceName, type Prices, unitPrice } from './prices';
import type { Workload } from './workload';

/** A Lambda invocation's payload limit: a batch stops there whatever its size. */
export const LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Memory at which a function has one full vCPU; below it, CPU shrinks in proportion. */
export const FULL_VCPU_MEMORY_MB = 1769;
/** Lambda polls each shard once a second (without a batching window); a long poll of SQS answers as soon. */
export const POLL_SECONDS = 1;
/** Messages one ReceiveMessage returns at most; also the entries of one DeleteMessageBatch. */
export const SQS_MESSAGES_PER_CALL = 10;
/** Bytes an SQS record adds to the event besides its body (IDs, a receipt handle of ~400 characters, attributes). */
export const SQS_RECORD_OVERHEAD_BYTES = 900;
/** Bytes a Kinesis record adds to the event besides its base64 data (sequence number, event ID, ARNs). */
export const KINESIS_RECORD_OVERHEAD_BYTES = 450;
/** On-demand streams start at 4 MB/s and 4,000 records/s of write capacity: 4 shards. */
export const ON_DEMAND_MIN_SHARDS = 4;
/** Throughput of one SQS event poller in provisioned mode, about 5 MB/s. */
export const EVENT_POLLER_BYTES_PER_SECOND = 5 * 1024 * 1024;
/** Hours in a month, as AWS prices monthly charges. */
export const HOURS_PER_MONTH = 730;
/** The most records an event source mapping accepts in one batch. */
export const MAX_BATCH_SIZE = { sqs: 10_000, sqsFifo: 10, kinesis: 10_000 } as const;
/** The longest batching window. */
export const MAX_BATCHING_WINDOW_SECONDS = 300;
/** Events an estimate is made for. */
export const EVENTS = 1_000_000;

/** The lines of the bill, each `<service>.<what>`. */
export const COST_LINES = [
  'lambda.requests',
  'lambda.duration',
  'lambda.eventPollers',
  'sqs.requests',
  'kinesis',
  'dynamodb.idempotency',
  'dynamodb.effects',
  'dynamodb.reads',
  'cloudwatch.logs',
  'cloudwatch.alarms',
  'cloudwatch.dashboards',
] as const;

/** A line of the bill. */
export type CostLine = (typeof COST_LINES)[number];

/** The services the bill adds up by. */
export const SERVICES = ['Lambda', 'SQS', 'Kinesis', 'DynamoDB', 'CloudWatch'] as const;

/** An AWS service of the bill. */
export type Service = (typeof SERVICES)[number];

/** The service a line of the bill belongs to. */
export function serviceOf(line: CostLine): Service {
  const prefix = line.split('.')[0];
  const service = SERVICES.find((s) => s.toLowerCase() === prefix);
  if (!service) throw new Error(`no service for the cost line ${line}`);
  return service;
}

/** One consumer's share of the estimate. */
export interface ConsumerEstimate {
  readonly id: string;
  readonly name: string;
  readonly source: ConsumerSource['kind'];
  /** Records in an average invocation (a Kinesis batch holds what a shard received since the last poll). */
  readonly recordsPerBatch: number;
  /** Keys processed at once in a batch. */
  readonly parallelism: number;
  readonly billedMsPerInvocation: number;
  /** Share of the source's records that repeat a key this consumer already has. */
  readonly duplicateShare: number;
  /** Share of those that arrive in the same batch as their original. */
  readonly duplicatesInBatch: number;
  readonly idempotencyWritesPerRecord: number;
  readonly effectUnitsPerRecord: number;
  readonly effect: EffectUnits;
  /** SQS provisioned mode: event pollers billed (each an EPU). */
  readonly eventPollers?: number;
  /** Busy share of one batch slot (per shard and parallelization slice for Kinesis): above 1, it falls behind. */
  readonly utilization: number;
  readonly usd: number;
  readonly byLine: Readonly<Record<CostLine, number>>;
}

/** The cost of a million events in one configuration. */
export interface CostEstimate {
  readonly label: string;
  /** USD per million events entering the app. */
  readonly usdPerMillionEvents: number;
  readonly byLine: Readonly<Record<CostLine, number>>;
  readonly byService: Readonly<Record<Service, number>>;
  /** USD per million events by who pays: functions by name, `(outside the app)`, and the app's fixed charges. */
  readonly byPayer: Readonly<Record<string, number>>;
  readonly consumers: readonly ConsumerEstimate[];
  /** Shards each stream has at this rate (on-demand: what it scales to). */
  readonly shardsByStream: Readonly<Record<string, number>>;
}

/** How one consumer's records flow at the workload's rate. */
export interface Flow {
  readonly recordsPerBatch: number;
  readonly parallelism: number;
  readonly billedMs: number;
  readonly duplicateShare: number;
  readonly duplicatesInBatch: number;
  readonly idempotencyWritesPerRecord: number;
  readonly idempotencyReadsPerRecord: number;
  readonly effectUnitsPerRecord: number;
  readonly effect: EffectUnits;
  /** Records reaching the consumer per second (before its filters). */
  readonly arrivalPerSecond: number;
  /** Share of them that match its filters and invoke it. */
  readonly matchShare: number;
  readonly recordsPerSecondPerSlot: number;
  /** The most records the 6 MB invocation payload holds. */
  readonly payloadCap: number;
}

function emptyLines(): Record<CostLine, number> {
  return Object.fromEntries(COST_LINES.map((line) => [line, 0])) as Record<CostLine, number>;
}

/** The shard count of a stream taking `recordsPerSecond` records of `recordBytes`. */
export function shardCount(stream: StreamSettings, recordsPerSecond: number, recordBytes: number): number {
  if (stream.mode === 'PROVISIONED') return stream.shardCount ?? 1;
  const kilobytesPerSecond = recordsPerSecond * Math.ceil(recordBytes / 1024);
  return Math.max(ON_DEMAND_MIN_SHARDS, Math.ceil(kilobytesPerSecond / 1024), Math.ceil(recordsPerSecond / 1000));
}

/** The source ID of a consumer: its queue's or its stream's. */
export function sourceId(source: ConsumerSource): string {
  return source.kind === 'sqs' ? source.queueId : source.streamId;
}

/** Share of a consumer's records that invoke it: its filters' matches, or all. */
export function matchShare(consumer: ConsumerSettings, workload: Workload): number {
  return consumer.filterPatterns > 0 ? workload.filterMatchShare : 1;
}

/**
 * Records each consumed queue and stream receives per event entering the app: one per producer send, one per
 * record a consumer forwards (each record it processes, sent on), and one per event for a queue or stream no
 * function of the app publishes to (its events come from outside). A cycle of forwarding consumers is cut after
 * 20 hops.
 */
export function recordsPerEvent(settings: AppSettings, workload: Workload): Map<string, number> {
  const sources = new Set(settings.consumers.map((c) => sourceId(c.source)));
  const base = new Map<string, number>([...sources].map((id) => [id, 0]));
  const fed = new Set<string>();
  for (const producer of settings.producers) {
    for (const id of [...producer.queueIds, ...producer.streamIds]) {
      base.set(id, (base.get(id) ?? 0) + 1);
      fed.add(id);
    }
  }
  for (const consumer of settings.consumers) {
    for (const id of [...consumer.forwardsTo.queueIds, ...consumer.forwardsTo.streamIds]) fed.add(id);
  }
  for (const id of sources) if (!fed.has(id)) base.set(id, 1);
  let rates = new Map(base);
  for (let hop = 0; hop < 20; hop++) {
    const next = new Map(base);
    for (const consumer of settings.consumers) {
      const forwarded = (rates.get(sourceId(consumer.source)) ?? 0) * matchShare(consumer, workload);
      for (const id of [...consumer.forwardsTo.queueIds, ...consumer.forwardsTo.streamIds]) {
        next.set(id, (next.get(id) ?? 0) + forwarded);
      }
    }
    const settled = [...next].every(([id, rate]) => rate === rates.get(id));
    rates = next;
    if (settled) break;
  }
  return rates;
}

/** Sources of the app no function publishes to: their events come from outside. */
export function externalSources(settings: AppSettings): string[] {
  const fed = new Set([
    ...settings.producers.flatMap((p) => [...p.queueIds, ...p.streamIds]),
    ...settings.consumers.flatMap((c) => [...c.forwardsTo.queueIds, ...c.forwardsTo.streamIds]),
  ]);
  return [...new Set(settings.consumers.map((c) => sourceId(c.source)))].filter((id) => !fed.has(id));
}

/** How one consumer's records flow at the workload's rate: batch size, parallelism, requests, time. */
export function consumerFlow(
  config: CostConfig,
  consumer: ConsumerSettings,
  workload: Workload,
  perEvent: ReadonlyMap<string, number> = recordsPerEvent(config.settings, workload),
): Flow {
  const profile = config.effects[consumer.id];
  const processing = config.processing[consumer.id];
  if (!profile || !processing) throw new Error(`the configuration '${config.label}' has no consumer ${consumer.id}`);
  const eventBytes = workload.recordBytes;
  const arrival = workload.eventsPerSecond * (perEvent.get(sourceId(consumer.source)) ?? 0);
  const match = matchShare(consumer, workload);

  // Records per second reaching one batch slot, and how many keys share that slot.
  let perSlot = arrival;
  let keysPerSlot = Number.POSITIVE_INFINITY;
  let recordBytes = eventBytes + SQS_RECORD_OVERHEAD_BYTES;
  let gathered: number;
  if (consumer.source.kind === 'kinesis') {
    const { streamId } = consumer.source;
    const stream = config.settings.streams.find((s) => s.id === streamId);
    if (!stream) throw new Error(`consumer '${consumer.name}' reads stream ${streamId}, which is not in the settings`);
    const shards = shardCount(stream, arrival, eventBytes);
    perSlot = arrival / shards / consumer.parallelizationFactor;
    keysPerSlot = Math.max(1, workload.partitionKeys / shards / consumer.parallelizationFactor);
    recordBytes = Math.ceil(eventBytes / 3) * 4 + KINESIS_RECORD_OVERHEAD_BYTES;
    // A batch holds what reached the shard (slice) since the last poll, or during the batching window.
    gathered = perSlot * Math.max(POLL_SECONDS, consumer.maxBatchingWindowSeconds) * match;
  } else {
    // A poll returns up to 10 messages, what arrived since the last (a long poll answers as soon as messages
    // wait); more need a window to gather them.
    const polled = Math.min(SQS_MESSAGES_PER_CALL, arrival * POLL_SECONDS);
    gathered =
      (consumer.maxBatchingWindowSeconds > 0 ? Math.max(polled, arrival * consumer.maxBatchingWindowSeconds) : polled) *
      match;
  }
  const payloadCap = Math.floor(LAMBDA_PAYLOAD_BYTES / recordBytes);
  const batch = Math.max(1, Math.min(consumer.batchSize, payloadCap, gathered));

  // A repeat of a key is a duplicate for a consumer keyed by it (not for one keyed by the event's own ID).
  const duplicateShare = profile.repeatsAreDuplicates ? workload.duplicateShare : 0;
  // The repeat arrives `gap` records after its original on the same slot; it shares the batch if the batch is longer.
  const gap = Math.max(1, workload.retryDelaySeconds * perSlot * match);
  const duplicatesInBatch = processing.inBatchDedupe ? Math.max(0, 1 - gap / batch) : 0;
  const fresh = 1 - duplicateShare;
  const sameBatch = duplicateShare * duplicatesInBatch;
  const later = duplicateShare - sameBatch;
  const effect = profile.units(workload);

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
    effectRequests = fresh * effect.requests;
  } else {
    // No store: a later duplicate reaches the effect, whose condition fails (and is billed).
    effectUnitsPerRecord = fresh * effect.applied + later * effect.failed;
    effectRequests = (fresh + later) * effect.requests;
  }

  const sends = consumer.forwardsTo.queueIds.length + consumer.forwardsTo.streamIds.length;
  const cpuScale = Math.max(1, FULL_VCPU_MEMORY_MB / consumer.memoryMB);
  const cpuMs = workload.cpuMsPerRecord * cpuScale;
  const ioMs =
    workload.dynamoDBLatencyMs * (idempotencyWrites + idempotencyReads + effectRequests) +
    workload.publishLatencyMs * sends;
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
    arrivalPerSecond: arrival,
    matchShare: match,
    recordsPerSecondPerSlot: perSlot * match,
    payloadCap,
  };
}

/** SQS event pollers a provisioned-mode mapping keeps at a rate: its minimum, or what the load needs (5 MB/s each). */
export function eventPollers(consumer: ConsumerSettings, arrivalPerSecond: number, recordBytes: number): number {
  const pollers = consumer.provisionedPollers;
  if (!pollers || consumer.source.kind !== 'sqs') return 0;
  const needed = Math.ceil(
    (arrivalPerSecond * (recordBytes + SQS_RECORD_OVERHEAD_BYTES)) / EVENT_POLLER_BYTES_PER_SECOND,
  );
  return Math.min(pollers.maximumPollers, Math.max(pollers.minimumPollers, needed));
}

/** The cost of one million events entering the app through `config` at the workload's steady rate. */
export function estimateCost(config: CostConfig, workload: Workload, prices: Prices): CostEstimate {
  const byLine = emptyLines();
  const byPayer: Record<string, number> = {};
  const byPayerAndLine: Record<string, Record<CostLine, number>> = {};
  const charge = (payer: string, line: CostLine, usd: number) => {
    byLine[line] += usd;
    byPayer[payer] = (byPayer[payer] ?? 0) + usd;
    byPayerAndLine[payer] ??= emptyLines();
    byPayerAndLine[payer][line] += usd;
  };
  const price = (name: PriceName) => unitPrice(prices, name);
  const { settings } = config;
  const perEvent = recordsPerEvent(settings, workload);
  const gbSecondPrice = (architecture: 'arm64' | 'x86_64') =>
    price(architecture === 'arm64' ? 'lambda.arm64.gbSecond' : 'lambda.x86_64.gbSecond');
  const logPrice = price('cloudwatch.logs.ingestGB') / 1024 ** 3;
  const eventBytes = workload.recordBytes;
  const kilobytesPerRecord = Math.ceil(eventBytes / 1024);
  const eventsPerHour = workload.eventsPerSecond * 3600;
  /** A charge by the hour, spread over the hour's events. */
  const hourly = (usdPerHour: number) => (usdPerHour * EVENTS) / eventsPerHour;
  const streamOf = (id: string) => settings.streams.find((s) => s.id === id);
  const shardsByStream = Object.fromEntries(
    settings.streams.map((stream) => [
      stream.id,
      shardCount(stream, workload.eventsPerSecond * (perEvent.get(stream.id) ?? 0), eventBytes),
    ]),
  );
  const sendChunks = Math.ceil(eventBytes / 65_536);
  /** What `records` sends to a queue or puts on a stream cost their publisher. */
  const publish = (payer: string, records: number, queueIds: readonly string[], streamIds: readonly string[]) => {
    for (const queueId of queueIds) {
      const fifo = settings.queues.find((q) => q.id === queueId)?.fifo ?? false;
      charge(payer, 'sqs.requests', records * sendChunks * price(fifo ? 'sqs.fifo.requests' : 'sqs.standard.requests'));
    }
    for (const streamId of streamIds) {
      if (streamOf(streamId)?.mode === 'ON_DEMAND') {
        charge(payer, 'kinesis', ((records * kilobytesPerRecord) / 1024 ** 2) * price('kinesis.onDemand.ingestGB'));
      } else {
        const units = records * Math.ceil(eventBytes / (25 * 1024));
        charge(payer, 'kinesis', units * price('kinesis.provisioned.putPayloadUnits'));
      }
    }
  };

  const consumers = settings.consumers.map((consumer): ConsumerEstimate => {
    const flow = consumerFlow(config, consumer, workload, perEvent);
    const records = EVENTS * (perEvent.get(sourceId(consumer.source)) ?? 0);
    const invoked = records * flow.matchShare;
    const invocations = invoked / flow.recordsPerBatch;
    const payer = consumer.name;
    const before = byPayer[payer] ?? 0;
    charge(payer, 'lambda.requests', invocations * price('lambda.requests'));
    charge(
      payer,
      'lambda.duration',
      invocations * (consumer.memoryMB / 1024) * (flow.billedMs / 1000) * gbSecondPrice(consumer.architecture),
    );
    charge(
      payer,
      'cloudwatch.logs',
      (invocations * workload.logBytesPerInvocation + invoked * workload.logBytesPerRecord) * logPrice,
    );
    let pollers: number | undefined;
    if (consumer.source.kind === 'sqs') {
      // Each ReceiveMessage returns up to 10 messages (billed per 64 KB of them); one DeleteMessageBatch per 10.
      // Messages the filters drop are received and deleted too.
      const polledBatch = flow.recordsPerBatch / flow.matchShare;
      const callsPerMessage = Math.ceil(polledBatch / SQS_MESSAGES_PER_CALL) / polledBatch;
      const receiveChunks = Math.ceil(
        (Math.min(SQS_MESSAGES_PER_CALL, polledBatch) * (eventBytes + SQS_RECORD_OVERHEAD_BYTES)) / 65_536,
      );
      const requestPrice = price(consumer.source.fifo ? 'sqs.fifo.requests' : 'sqs.standard.requests');
      charge(payer, 'sqs.requests', records * callsPerMessage * (receiveChunks + 1) * requestPrice);
      if (consumer.provisionedPollers) {
        pollers = eventPollers(consumer, flow.arrivalPerSecond, eventBytes);
        charge(payer, 'lambda.eventPollers', hourly(pollers * price('lambda.sqsProvisionedMode.eventPollerUnitHour')));
      }
    } else {
      const { streamId, enhancedFanOut } = consumer.source;
      const stream = streamOf(streamId);
      // Every record is read, whether it matches the filters or not.
      const gigabytes = (records * kilobytesPerRecord) / 1024 ** 2;
      if (enhancedFanOut) {
        const onDemand = stream?.mode === 'ON_DEMAND';
        charge(
          payer,
          'kinesis',
          gigabytes * price(onDemand ? 'kinesis.onDemand.efoRetrievalGB' : 'kinesis.provisioned.efoRetrievalGB'),
        );
        if (!onDemand) {
          charge(
            payer,
            'kinesis',
            hourly((shardsByStream[streamId] ?? 1) * price('kinesis.provisioned.efoConsumerShardHour')),
          );
        }
      } else if (stream?.mode === 'ON_DEMAND') {
        charge(payer, 'kinesis', gigabytes * price('kinesis.onDemand.retrievalGB'));
      }
    }
    const writePrice = price('dynamodb.onDemand.writeRequestUnits');
    charge(payer, 'dynamodb.idempotency', invoked * flow.idempotencyWritesPerRecord * writePrice);
    charge(payer, 'dynamodb.effects', invoked * flow.effectUnitsPerRecord * writePrice);
    charge(
      payer,
      'dynamodb.reads',
      invoked * flow.idempotencyReadsPerRecord * price('dynamodb.onDemand.readRequestUnits'),
    );
    publish(payer, invoked, consumer.forwardsTo.queueIds, consumer.forwardsTo.streamIds);
    return {
      id: consumer.id,
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
      ...(pollers !== undefined && { eventPollers: pollers }),
      utilization: (flow.recordsPerSecondPerSlot / flow.recordsPerBatch) * (flow.billedMs / 1000),
      usd: (byPayer[payer] ?? 0) - before,
      byLine: { ...(byPayerAndLine[payer] ?? emptyLines()) },
    };
  });

  for (const producer of settings.producers) {
    // One request per event: parse, validate, then the sends at once.
    const cpuScale = Math.max(1, FULL_VCPU_MEMORY_MB / producer.memoryMB);
    const billedMs = Math.ceil(
      (workload.cpuMsPerInvocation + workload.cpuMsPerRecord) * cpuScale + workload.publishLatencyMs,
    );
    charge(producer.name, 'lambda.requests', EVENTS * price('lambda.requests'));
    charge(
      producer.name,
      'lambda.duration',
      EVENTS * (producer.memoryMB / 1024) * (billedMs / 1000) * gbSecondPrice(producer.architecture),
    );
    charge(producer.name, 'cloudwatch.logs', EVENTS * workload.logBytesPerInvocation * logPrice);
    publish(producer.name, EVENTS, producer.queueIds, producer.streamIds);
  }

  // Queues and streams no function of the app publishes to: every event is sent to them from outside.
  const external = externalSources(settings);
  publish(
    OUTSIDE_THE_APP,
    EVENTS,
    external.filter((id) => settings.queues.some((q) => q.id === id)),
    external.filter((id) => settings.streams.some((s) => s.id === id)),
  );

  // The streams' hourly charges, spread over an hour of events at the workload's rate.
  for (const stream of settings.streams) {
    charge(
      FIXED_CHARGES,
      'kinesis',
      hourly(
        stream.mode === 'ON_DEMAND'
          ? price('kinesis.onDemand.streamHour')
          : (shardsByStream[stream.id] ?? 1) * price('kinesis.provisioned.shardHour'),
      ),
    );
  }
  // Alarms and dashboards: monthly, spread over a month of events at the workload's rate.
  const monthly = (usdPerMonth: number) => hourly(usdPerMonth / HOURS_PER_MONTH);
  const { alarms } = settings;
  charge(
    FIXED_CHARGES,
    'cloudwatch.alarms',
    monthly(
      alarms.standardMetrics * price('cloudwatch.alarms.standardAlarmMonth') +
        alarms.highResolutionMetrics * price('cloudwatch.alarms.highResolutionAlarmMonth') +
        alarms.composite * price('cloudwatch.alarms.compositeAlarmMonth'),
    ),
  );
  charge(
    FIXED_CHARGES,
    'cloudwatch.dashboards',
    monthly(settings.dashboards * price('cloudwatch.dashboards.dashboardMonth')),
  );

  const byService = Object.fromEntries(SERVICES.map((service) => [service, 0])) as Record<Service, number>;
  for (const line of COST_LINES) byService[serviceOf(line)] += byLine[line];
  const usdPerMillionEvents = COST_LINES.reduce((sum, line) => sum + byLine[line], 0);
  return { label: config.label, usdPerMillionEvents, byLine, byService, byPayer, consumers, shardsByStream };
}

/** The payer of what reaches the app's queues and streams from outside it. */
export const OUTSIDE_THE_APP = '(outside the app)';
/** The payer of the app's hourly and monthly charges: streams, alarms, dashboards. */
export const FIXED_CHARGES = '(fixed charges)';
