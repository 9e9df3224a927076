import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { FAILURE_BUCKET_METRICS_FILTER } from '../../contract';
import { emulatorClients } from '../../ops/endpoint-clients';
import type { FunctionOutput } from '../function-runtime';
import { KinesisPoller } from '../kinesis-poller';
import type { LocalCloud, LocalCloudPlugin } from '../local-cloud';
import { mappingRef } from './dashboard-model';
import { type MetricIdentity, MetricStore, metricKey } from './metric-store';

/** Where a metric comes from locally, or why it has no local source. */
export interface MetricSource {
  /** Whether the local cloud produces this metric. */
  readonly local: boolean;
  /** How it is derived, when that differs from AWS (shown under the graph). */
  readonly note?: string;
}

/** Why the AWS metrics the local cloud cannot produce have no source, by namespace and metric name. */
const NO_SOURCE_REASONS: Readonly<Record<string, string>> = {
  'AWS/Kinesis ReadProvisionedThroughputExceeded': 'kinesalite does not enforce shard throughput',
  'AWS/Kinesis WriteProvisionedThroughputExceeded': 'kinesalite does not enforce shard throughput',
  'AWS/DynamoDB ReadThrottleEvents': 'dynalite does not throttle',
  'AWS/DynamoDB WriteThrottleEvents': 'dynalite does not throttle',
};

/** Why a metric has no local source, for the page: what CloudWatch would chart, and why it is not here. */
export function noSourceReason(metric: MetricIdentity): string {
  const why = NO_SOURCE_REASONS[`${metric.namespace} ${metric.metricName}`];
  return `no local source for ${metric.namespace} ${metric.metricName}${why ? ` (${why})` : ''}`;
}

/** The SQS metrics of one queue, as sampled and as its mappings' calls show them. */
interface QueueState {
  readonly name: string;
  readonly url: string;
  /** Whether an event source mapping polls it (then its receives are seen). */
  polled: boolean;
  /** Messages in the queue at the last sample: visible, in flight and delayed. */
  lastTotal?: number;
  /** Since when it holds messages without a break, as far as the samples saw. */
  nonEmptySince?: number;
  /** Messages the mappings received and have not deleted: by message ID, when each was sent and its receipt. */
  readonly received: Map<string, { sentAt: number; receipt: string }>;
  readonly receiptToMessage: Map<string, string>;
  /** When the newest message the mappings received was sent. */
  lastReceivedSentAt?: number;
  /** Counts since the last sample. */
  receivedCount: number;
  deletedCount: number;
  emptyReceives: number;
}

/** What the mappings' GetRecords calls showed of one stream. */
interface StreamState {
  /** By shard, the highest sequence number read so far: records above it are new to the stream. */
  readonly highest: Map<string, bigint>;
}

/** A counter sampled from the local cloud's own statistics: the metric gets the difference since the last sample. */
interface Counter {
  readonly key: string;
  readonly read: () => number;
  last: number;
}

/** Options of {@link LocalMetrics}. */
export interface LocalMetricsOptions {
  /**
   * How long datapoints are kept.
   *
   * @default 1_800_000 - 30 minutes: the dashboard's 3 hours at a period scale of 6
   */
  readonly retentionMs?: number;
}

/**
 * The local cloud's CloudWatch metrics, from its own data: the functions' EMF lines (any namespace and dimensions),
 * each function's invocations, errors, duration and concurrency, each event source mapping's event counts (from
 * its poller's statistics), each queue's messages (sampled with `GetQueueAttributes`, and seen in the mappings'
 * SQS calls), and each stream's incoming records and iterator age (seen in the mappings' `GetRecords` calls).
 *
 * Give {@link plugin} and {@link collect} to the local cloud when starting it, then {@link attach} it to the cloud
 * and call {@link sample} every few seconds.
 */
export class LocalMetrics {
  /** The datapoints. */
  public readonly store: MetricStore;
  private readonly sources = new Map<string, string | undefined>();
  private readonly queuesByUrl = new Map<string, QueueState>();
  private readonly streams = new Map<string, StreamState>();
  private readonly iteratorOwners = new Map<string, { stream: string; shard: string }>();
  private readonly counters: Counter[] = [];
  private readonly gauges: { key: string; read: () => number }[] = [];
  private sqs?: SQSClient;

  constructor(options: LocalMetricsOptions = {}) {
    this.store = new MetricStore({ retentionMs: options.retentionMs ?? 1_800_000 });
  }

  /** The plugin that lets the metrics see the event source mappings' SQS and Kinesis calls. */
  public readonly plugin: LocalCloudPlugin = {
    configurePollerClients: (clients) => {
      this.watchSqs(clients.sqs);
      this.watchKinesis(clients.kinesis);
    },
  };

  /** Reads a line a function printed: an EMF line becomes observations of its metrics. */
  public readonly collect = (output: FunctionOutput): void => {
    const json = output.json;
    const emf = json?._aws as
      | { CloudWatchMetrics?: { Namespace?: string; Dimensions?: string[][]; Metrics?: { Name: string }[] }[] }
      | undefined;
    if (!json || !emf?.CloudWatchMetrics) return;
    for (const directive of emf.CloudWatchMetrics) {
      const dimensionSets = directive.Dimensions?.length ? directive.Dimensions : [[]];
      for (const { Name } of directive.Metrics ?? []) {
        const values = [json[Name]].flat().map(Number);
        for (const set of dimensionSets) {
          const dimensions = Object.fromEntries(set.map((name) => [name, String(json[name] ?? '')]));
          const key = metricKey({ namespace: directive.Namespace ?? '', metricName: Name, dimensions });
          for (const value of values) this.store.observe(key, value);
        }
      }
    }
  };

  /** Where `metric` comes from locally: a source the local cloud has, a custom metric (EMF), or none. */
  public source(metric: MetricIdentity): MetricSource {
    const key = metricKey(metric);
    if (this.sources.has(key)) return { local: true, note: this.sources.get(key) };
    // Any namespace of the app's own is what its functions print as EMF: it has data once they print it.
    if (!metric.namespace.startsWith('AWS/')) return { local: true };
    return { local: false };
  }

  /** Starts sourcing the metrics of `cloud`'s queues, functions, mappings and streams. */
  public attach(cloud: LocalCloud): void {
    this.sqs = emulatorClients(cloud.endpoints).sqs;
    this.attachQueues(cloud);
    this.attachFunctions(cloud);
    this.attachMappings(cloud);
  }

  /** Samples what is sampled (queue attributes, counters, concurrency) and closes the interval at `now`. */
  public async sample(now = Date.now()): Promise<void> {
    await Promise.all([...this.queuesByUrl.values()].map((queue) => this.sampleQueue(queue, now)));
    for (const counter of this.counters) {
      const value = counter.read();
      this.store.observe(counter.key, value - counter.last);
      counter.last = value;
    }
    for (const gauge of this.gauges) this.store.observe(gauge.key, gauge.read());
    this.store.tick(now);
  }

  private declare(metric: MetricIdentity, note?: string): string {
    const key = metricKey(metric);
    this.sources.set(key, note);
    return key;
  }

  private counter(metric: MetricIdentity, read: () => number, note?: string): void {
    this.counters.push({ key: this.declare(metric, note), read, last: read() });
  }

  private attachQueues(cloud: LocalCloud): void {
    const polledUrls = new Set(
      cloud.pollers.flatMap(({ poller }) => (poller instanceof KinesisPoller ? [] : [poller.config.queueUrl])),
    );
    for (const stack of cloud.stacks) {
      for (const local of stack.resources.values()) {
        if (local.type !== 'AWS::SQS::Queue') continue;
        const state: QueueState = {
          name: local.attributes.QueueName,
          url: local.attributes.QueueUrl,
          polled: polledUrls.has(local.attributes.QueueUrl),
          received: new Map(),
          receiptToMessage: new Map(),
          receivedCount: 0,
          deletedCount: 0,
          emptyReceives: 0,
        };
        this.queuesByUrl.set(state.url, state);
        const sqs = (metricName: string, note?: string) =>
          this.declare({ namespace: 'AWS/SQS', metricName, dimensions: { QueueName: state.name } }, note);
        sqs('ApproximateNumberOfMessagesVisible');
        sqs('ApproximateNumberOfMessagesNotVisible');
        sqs('ApproximateNumberOfMessagesDelayed');
        sqs(
          'ApproximateAgeOfOldestMessage',
          state.polled
            ? 'the oldest message its mapping received and did not delete, or, with a backlog, the last one received'
            : 'time since the queue was last seen empty',
        );
        sqs('NumberOfMessagesSent', 'the change in messages held, plus those deleted, per sample');
        if (state.polled) {
          sqs('NumberOfMessagesReceived', 'received by its event source mapping');
          sqs('NumberOfMessagesDeleted', 'deleted by its event source mapping');
          sqs('NumberOfEmptyReceives', 'empty receives of its event source mapping');
        }
      }
    }
  }

  private attachFunctions(cloud: LocalCloud): void {
    for (const fn of cloud.functions) {
      const lambda = (metricName: string) => ({
        namespace: 'AWS/Lambda',
        metricName,
        dimensions: { FunctionName: fn.name },
      });
      const { stats } = fn.runtime;
      this.counter(lambda('Invocations'), () => stats.invocations);
      this.counter(lambda('Errors'), () => stats.errors + stats.timeouts);
      this.counter(
        lambda('Throttles'),
        () => 0,
        'never throttled locally: an invocation waits for a free execution environment',
      );
      this.gauges.push({
        key: this.declare(lambda('ConcurrentExecutions'), 'invocations running at each sample'),
        read: () => fn.runtime.inFlight,
      });
      const duration = this.declare(lambda('Duration'));
      const iteratorAge = this.declare(lambda('IteratorAge'));
      fn.runtime.onInvoked = ({ event, startedAt, durationMs }) => {
        this.store.observe(duration, durationMs);
        // Lambda's IteratorAge: the age of the batch's last record when the function was invoked with it.
        const records = (event as { Records?: { kinesis?: { approximateArrivalTimestamp?: number } }[] } | null)
          ?.Records;
        const arrival = records?.[records.length - 1]?.kinesis?.approximateArrivalTimestamp;
        if (typeof arrival === 'number') this.store.observe(iteratorAge, Math.max(0, startedAt - arrival * 1000));
      };
    }
  }

  private attachMappings(cloud: LocalCloud): void {
    for (const { logicalId, poller } of cloud.pollers) {
      const stack = cloud.stacks.find(
        (candidate) => candidate.stack.resources[logicalId]?.Type === 'AWS::Lambda::EventSourceMapping',
      );
      if (!stack) continue;
      const uuid = mappingRef(stack, logicalId);
      const mapping = (metricName: string) => ({
        namespace: 'AWS/Lambda',
        metricName,
        dimensions: { EventSourceMappingUUID: uuid },
      });
      const { stats } = poller;
      const retriesCount = 'a record retried counts again';
      this.counter(mapping('PolledEventCount'), () => stats.records + stats.filteredOut, retriesCount);
      this.counter(mapping('FilteredOutEventCount'), () => stats.filteredOut);
      this.counter(mapping('InvokedEventCount'), () => stats.records, retriesCount);
      this.counter(mapping('FailedInvokeEventCount'), () => stats.failedRecords, 'failed and reported-failed records');
      if (poller instanceof KinesisPoller) {
        const discarded = poller.stats;
        const bucket = poller.config.onFailureBucket;
        const hasDestination = poller.config.onFailureQueueUrl !== undefined || bucket !== undefined;
        if (bucket) {
          // The bucket's request metrics: one PutObject per failed batch written.
          this.counter(
            {
              namespace: 'AWS/S3',
              metricName: 'PutRequests',
              dimensions: { BucketName: bucket.bucketName, FilterId: FAILURE_BUCKET_METRICS_FILTER },
            },
            () => discarded.discardedBatches,
          );
          this.declare(
            {
              namespace: 'AWS/S3',
              metricName: 'NumberOfObjects',
              dimensions: { BucketName: bucket.bucketName, StorageType: 'AllStorageTypes' },
            },
            'S3 reports it once a day; see the batches written',
          );
        }
        this.counter(mapping('DroppedEventCount'), () => (hasDestination ? 0 : discarded.discardedRecords));
        this.counter(mapping('OnFailureDestinationDeliveredEventCount'), () =>
          hasDestination ? discarded.discardedRecords : 0,
        );
        this.counter(mapping('DeletedEventCount'), () => 0);
        this.declareStream(poller.config.streamName);
      } else {
        this.counter(mapping('DroppedEventCount'), () => 0);
        this.counter(mapping('OnFailureDestinationDeliveredEventCount'), () => 0);
        this.counter(mapping('DeletedEventCount'), () => stats.succeededRecords);
      }
    }
  }

  private declareStream(streamName: string): void {
    if (this.streams.has(streamName)) return;
    this.streams.set(streamName, { highest: new Map() });
    const kinesis = (metricName: string, note?: string) =>
      this.declare({ namespace: 'AWS/Kinesis', metricName, dimensions: { StreamName: streamName } }, note);
    const firstRead = 'counted when a mapping first reads them (within a poll interval of their arrival)';
    kinesis('IncomingRecords', firstRead);
    kinesis('IncomingBytes', firstRead);
    kinesis('GetRecords.IteratorAgeMilliseconds', "the mappings' GetRecords calls");
    kinesis('GetRecords.Records', "the mappings' GetRecords calls");
    kinesis('GetRecords.Bytes', "the mappings' GetRecords calls");
  }

  private observe(metric: MetricIdentity, value: number): void {
    this.store.observe(metricKey(metric), value);
  }

  private async sampleQueue(queue: QueueState, now: number): Promise<void> {
    let attributes: Record<string, string>;
    try {
      const response = await (this.sqs as SQSClient).send(
        new GetQueueAttributesCommand({
          QueueUrl: queue.url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      attributes = response.Attributes ?? {};
    } catch {
      return; // The emulator is stopping, or busy: this sample has no datapoint for the queue, as CloudWatch may not.
    }
    const notVisible = Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    const delayed = Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0);
    // local-aws-sqs counts the messages in flight in ApproximateNumberOfMessages too; SQS does not.
    const notDelayed = Number(attributes.ApproximateNumberOfMessages ?? 0);
    const visible = Math.max(0, notDelayed - notVisible);
    const total = notDelayed + delayed;
    const sqs = (metricName: string, value: number) =>
      this.observe({ namespace: 'AWS/SQS', metricName, dimensions: { QueueName: queue.name } }, value);
    sqs('ApproximateNumberOfMessagesVisible', visible);
    sqs('ApproximateNumberOfMessagesNotVisible', notVisible);
    sqs('ApproximateNumberOfMessagesDelayed', delayed);
    sqs('NumberOfMessagesSent', Math.max(0, total - (queue.lastTotal ?? 0) + queue.deletedCount));
    if (queue.polled) {
      sqs('NumberOfMessagesReceived', queue.receivedCount);
      sqs('NumberOfMessagesDeleted', queue.deletedCount);
      sqs('NumberOfEmptyReceives', queue.emptyReceives);
    }
    queue.lastTotal = total;
    queue.receivedCount = 0;
    queue.deletedCount = 0;
    queue.emptyReceives = 0;

    if (total === 0) {
      queue.nonEmptySince = undefined;
      queue.received.clear();
      queue.receiptToMessage.clear();
      sqs('ApproximateAgeOfOldestMessage', 0);
      return;
    }
    queue.nonEmptySince ??= now;
    // Messages received and never deleted that are no longer there (moved to the DLQ by the redrive policy): the
    // oldest go first, as the queue holds no more than `total`.
    const excess = queue.received.size - total;
    if (excess > 0) {
      const oldest = [...queue.received.entries()].sort(([, a], [, b]) => a.sentAt - b.sentAt).slice(0, excess);
      for (const [messageId, { receipt }] of oldest) {
        queue.received.delete(messageId);
        queue.receiptToMessage.delete(receipt);
      }
    }
    const ages: number[] = [];
    for (const { sentAt } of queue.received.values()) ages.push(now - sentAt);
    if (visible > 0) {
      // Messages not yet received: local-aws-sqs hands them out in the order they came, so they came after the last
      // one its mapping received (an upper bound); without a mapping, after the queue was last seen empty.
      const after =
        queue.polled && queue.lastReceivedSentAt !== undefined && queue.lastReceivedSentAt >= queue.nonEmptySince
          ? queue.lastReceivedSentAt
          : queue.nonEmptySince;
      ages.push(now - after);
    }
    sqs('ApproximateAgeOfOldestMessage', Math.max(0, ...ages) / 1000);
  }

  /** Sees the mappings' receives and deletes: received and deleted counts, and the age of what is in flight. */
  private watchSqs(client: SQSClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        this.onSqsCall(
          context.commandName ?? '',
          args.input as Record<string, unknown>,
          result.output as unknown as Record<string, unknown>,
        );
        return result;
      },
      { step: 'initialize', name: 'edaKitLocalMetrics' },
    );
  }

  private onSqsCall(command: string, input: Record<string, unknown>, output: Record<string, unknown>): void {
    const queue = this.queuesByUrl.get(String(input.QueueUrl));
    if (!queue) return;
    if (command === 'ReceiveMessageCommand') {
      const messages =
        (output.Messages as
          | { MessageId?: string; ReceiptHandle?: string; Attributes?: Record<string, string> }[]
          | undefined) ?? [];
      if (messages.length === 0) queue.emptyReceives++;
      queue.receivedCount += messages.length;
      for (const message of messages) {
        if (!message.MessageId || !message.ReceiptHandle) continue;
        const sentAt = Number(message.Attributes?.SentTimestamp ?? Date.now());
        const before = queue.received.get(message.MessageId);
        if (before) queue.receiptToMessage.delete(before.receipt);
        queue.received.set(message.MessageId, { sentAt, receipt: message.ReceiptHandle });
        queue.receiptToMessage.set(message.ReceiptHandle, message.MessageId);
        queue.lastReceivedSentAt = Math.max(queue.lastReceivedSentAt ?? 0, sentAt);
      }
    } else if (command === 'DeleteMessageBatchCommand') {
      const entries = (input.Entries as { Id: string; ReceiptHandle: string }[] | undefined) ?? [];
      const deleted = new Set(((output.Successful as { Id: string }[] | undefined) ?? []).map((entry) => entry.Id));
      for (const entry of entries) if (deleted.has(entry.Id)) this.forget(queue, entry.ReceiptHandle);
      queue.deletedCount += deleted.size;
    } else if (command === 'DeleteMessageCommand') {
      this.forget(queue, String(input.ReceiptHandle));
      queue.deletedCount++;
    }
  }

  private forget(queue: QueueState, receipt: string): void {
    const messageId = queue.receiptToMessage.get(receipt);
    queue.receiptToMessage.delete(receipt);
    if (messageId !== undefined) queue.received.delete(messageId);
  }

  /** Sees the mappings' GetRecords calls: records new to the stream, and the iterator age of each call. */
  private watchKinesis(client: KinesisClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        this.onKinesisCall(
          context.commandName ?? '',
          args.input as Record<string, unknown>,
          result.output as unknown as Record<string, unknown>,
        );
        return result;
      },
      { step: 'initialize', name: 'edaKitLocalMetrics' },
    );
  }

  private onKinesisCall(command: string, input: Record<string, unknown>, output: Record<string, unknown>): void {
    if (command === 'GetShardIteratorCommand') {
      const stream = String(input.StreamName ?? String(input.StreamARN ?? '').replace(/^.*:stream\//, ''));
      if (typeof output.ShardIterator === 'string')
        this.own(output.ShardIterator, { stream, shard: String(input.ShardId) });
      return;
    }
    if (command !== 'GetRecordsCommand') return;
    const owner = this.iteratorOwners.get(String(input.ShardIterator));
    if (!owner) return;
    this.iteratorOwners.delete(String(input.ShardIterator));
    if (typeof output.NextShardIterator === 'string') this.own(output.NextShardIterator, owner);
    const state = this.streams.get(owner.stream);
    if (!state) return;
    const records =
      (output.Records as { SequenceNumber?: string; Data?: Uint8Array; ApproximateArrivalTimestamp?: Date }[]) ?? [];
    const kinesis = (metricName: string, value: number) =>
      this.observe({ namespace: 'AWS/Kinesis', metricName, dimensions: { StreamName: owner.stream } }, value);
    let incoming = 0;
    let incomingBytes = 0;
    let bytes = 0;
    let highest = state.highest.get(owner.shard) ?? -1n;
    for (const record of records) {
      const size = record.Data?.byteLength ?? 0;
      bytes += size;
      const sequence = BigInt(record.SequenceNumber ?? '0');
      if (sequence > highest) {
        highest = sequence;
        incoming++;
        incomingBytes += size;
      }
    }
    state.highest.set(owner.shard, highest);
    // The age of the last record the call returned; 0 when it returned none: the reader is at the tip. (kinesalite's
    // MillisBehindLatest is always 0.)
    const last = records[records.length - 1]?.ApproximateArrivalTimestamp;
    kinesis('GetRecords.IteratorAgeMilliseconds', last ? Math.max(0, Date.now() - last.getTime()) : 0);
    kinesis('GetRecords.Records', records.length);
    kinesis('GetRecords.Bytes', bytes);
    kinesis('IncomingRecords', incoming);
    kinesis('IncomingBytes', incomingBytes);
  }

  /** Remembers which stream and shard an iterator reads; abandoned iterators are forgotten past 10,000. */
  private own(iterator: string, owner: { stream: string; shard: string }): void {
    this.iteratorOwners.set(iterator, owner);
    if (this.iteratorOwners.size > 10_000) {
      const oldest = this.iteratorOwners.keys().next().value;
      if (oldest !== undefined) this.iteratorOwners.delete(oldest);
    }
  }
}
