import { createHash, randomUUID } from 'node:crypto';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record as KinesisRecord,
} from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamBatchResponse, KinesisStreamRecord } from 'aws-lambda';
import type { FilterCriteria } from './filter-criteria';
import type { FunctionRuntime } from './function-runtime';
import { LOCAL_REGION } from './intrinsics';
import { newPollerStats, type PollerStats } from './sqs-poller';

/** A Kinesis event source mapping, as the template configures it. */
export interface KinesisMappingConfig {
  readonly streamName: string;
  readonly streamArn: string;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
  readonly bisectBatchOnFunctionError: boolean;
  /** -1: until the records expire. */
  readonly maximumRetryAttempts: number;
  /** -1: no limit. */
  readonly maximumRecordAgeSeconds: number;
  readonly parallelizationFactor: number;
  /** The on-failure destination queue, if any. */
  readonly onFailureQueueUrl?: string;
  /**
   * The on-failure destination bucket, if any, and the mapping's ID, which the object keys start with. Lambda
   * writes the whole invocation record there, the batch's records included.
   */
  readonly onFailureBucket?: { readonly bucketName: string; readonly mappingId: string };
  /** The mapping's `FilterCriteria`: a record whose data passes none is skipped, as on AWS. */
  readonly filter?: FilterCriteria;
  /**
   * `TumblingWindowInSeconds`: batches never span a window (by arrival time, aligned to the epoch), each invocation
   * gets the state the last one returned, and the end of a window gets a final invocation. 0: no windows.
   */
  readonly tumblingWindowSeconds?: number;
  readonly functionArn: string;
}

/** Kinesis allows 5 GetRecords calls per second per shard. */
const GET_RECORDS_INTERVAL_MS = 200;
/** Records read ahead per lane before the reader waits. */
const LANE_BUFFER = 2_000;

/**
 * Polls every shard of a stream for a function with Lambda's Kinesis semantics. Per shard, `ParallelizationFactor`
 * lanes each take the records of their partition keys (by hash), so one key stays in order. A lane sends one
 * batch at a time and moves on only when it succeeds: with `ReportBatchItemFailures` it retries from the lowest
 * failed sequence number; on a function error it bisects the batch (if configured) to isolate a poison record.
 * A batch that fails `MaximumRetryAttempts` times, or records older than `MaximumRecordAgeInSeconds`, are
 * skipped and described in an AWS-shaped message to the on-failure destination: a queue gets the batch's location
 * only, a bucket the whole invocation record, data included.
 */
export class KinesisPoller {
  public readonly stats: PollerStats & { discardedBatches: number; discardedRecords: number } = {
    ...newPollerStats(),
    discardedBatches: 0,
    discardedRecords: 0,
  };
  private running = false;
  private tasks: Promise<void>[] = [];
  private readonly shardIds: string[] = [];
  private readonly lanes: Lane[] = [];
  /** Shards whose last GetRecords call returned records: there may be more to read. */
  private readonly shardsBehind = new Set<string>();
  /**
   * By shard, when the last GetRecords call that found nothing more to read was sent: every record that arrived
   * before then has been read. A tumbling window closes only once this is past its end.
   */
  private readonly caughtUpAt = new Map<string, number>();

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly sqs: SQSClient,
    /** The mapping's settings, as the template configures them. */
    public readonly config: KinesisMappingConfig,
    private readonly runtime: FunctionRuntime,
    private readonly onError: (error: Error) => void,
    /** Needed only with an on-failure bucket. */
    private readonly s3?: S3Client,
  ) {}

  public async start(): Promise<void> {
    this.running = true;
    const { StreamDescription } = await this.describeStream();
    for (const shard of StreamDescription?.Shards ?? []) {
      const lanes = Array.from({ length: this.config.parallelizationFactor }, () => new Lane());
      this.lanes.push(...lanes);
      this.shardsBehind.add(shard.ShardId as string);
      this.shardIds.push(shard.ShardId as string);
      this.tasks.push(this.readShard(shard.ShardId as string, lanes));
      for (const lane of lanes) this.tasks.push(this.drainLane(shard.ShardId as string, lane));
    }
  }

  public async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.tasks);
  }

  /** Describes the stream, retrying failed calls as Lambda's pollers do (a flaky network must not stop a start). */
  private async describeStream() {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.kinesis.send(new DescribeStreamCommand({ StreamName: this.config.streamName }));
      } catch (error) {
        if (attempt >= 20 || (error as Error).name === 'ResourceNotFoundException') throw error;
        this.onError(error as Error);
        await sleep(GET_RECORDS_INTERVAL_MS);
      }
    }
  }

  /**
   * Whether every record of the stream has been read and every batch is done with (handled, or given up on and
   * described on the failure queue), and no tumbling window waits for its final invocation. An operator's view of
   * "the mapping has caught up".
   */
  public get idle(): boolean {
    return (
      this.shardsBehind.size === 0 &&
      this.lanes.every((lane) => lane.records.length === 0 && lane.batches.length === 0 && lane.window === undefined)
    );
  }

  /**
   * Whether the mapping is {@link idle} and a GetRecords call sent at or after `sinceMs` found nothing more to read
   * on every shard: every record put before `sinceMs` has been read and is done with.
   */
  public caughtUpSince(sinceMs: number): boolean {
    return (
      this.idle &&
      this.shardIds.length > 0 &&
      this.shardIds.every((shardId) => (this.caughtUpAt.get(shardId) ?? Number.NEGATIVE_INFINITY) >= sinceMs)
    );
  }

  private async readShard(shardId: string, lanes: Lane[]): Promise<void> {
    let iterator: string | undefined;
    // The last record read: after a failed call the reader resumes right after it, not at the starting position.
    let lastSequence: string | undefined;
    while (this.running) {
      try {
        iterator ??= (
          await this.kinesis.send(
            new GetShardIteratorCommand({
              StreamName: this.config.streamName,
              ShardId: shardId,
              ...(lastSequence
                ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: lastSequence }
                : { ShardIteratorType: this.config.startingPosition }),
            }),
          )
        ).ShardIterator;
        if (lanes.some((lane) => lane.records.length >= LANE_BUFFER)) {
          await sleep(GET_RECORDS_INTERVAL_MS);
          continue;
        }
        const calledAt = Date.now();
        const { Records = [], NextShardIterator } = await this.kinesis.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(10_000, this.config.batchSize * 4) }),
        );
        iterator = NextShardIterator;
        for (const record of Records) {
          lastSequence = record.SequenceNumber;
          // Filtered out: never sent, and the shard moves past it as if it had been processed.
          if (this.config.filter && !this.config.filter.matchesKinesisData(record.Data ?? new Uint8Array())) {
            this.stats.filteredOut++;
            continue;
          }
          lanes[laneOf(record.PartitionKey as string, lanes.length)].records.push(record);
        }
        if (Records.length === 0) {
          this.shardsBehind.delete(shardId);
          this.caughtUpAt.set(shardId, calledAt);
          await sleep(GET_RECORDS_INTERVAL_MS);
        } else this.shardsBehind.add(shardId);
      } catch (error) {
        if (this.running) this.onError(error as Error);
        iterator = undefined;
        this.shardsBehind.add(shardId);
        await sleep(GET_RECORDS_INTERVAL_MS);
      }
    }
  }

  private async drainLane(shardId: string, lane: Lane): Promise<void> {
    // Batches waiting their turn: a bisected batch becomes two, first half first.
    const queue = lane.batches;
    let retries = 0;
    while (this.running) {
      if (queue.length === 0) {
        const batch = await this.takeBatch(shardId, lane);
        if (batch.length === 0) {
          if (this.windowDue(shardId, lane)) await this.closeWindow(shardId, lane);
          continue;
        }
        queue.push(batch);
        retries = 0;
      }
      const batch = queue[0];
      const fresh = await this.dropExpired(shardId, batch);
      if (fresh.length === 0) {
        queue.shift();
        continue;
      }
      queue[0] = fresh;
      if (this.windowMs > 0) {
        const startMs = this.windowStartOf(fresh[0]);
        if (lane.window && lane.window.startMs !== startMs) await this.closeWindow(shardId, lane);
        lane.window ??= { startMs, endMs: startMs + this.windowMs, state: {} };
      }
      const outcome = await this.invoke(shardId, fresh, lane);
      if (outcome.kind === 'success') {
        queue.shift();
        retries = 0;
        continue;
      }
      if (outcome.kind === 'partial') {
        // Retry from the lowest failed sequence number: everything before it is checkpointed.
        queue[0] = fresh.slice(outcome.retryFrom);
      } else if (this.config.bisectBatchOnFunctionError && fresh.length > 1) {
        const half = Math.ceil(fresh.length / 2);
        queue.splice(0, 1, fresh.slice(0, half), fresh.slice(half));
        continue;
      }
      retries++;
      if (this.config.maximumRetryAttempts >= 0 && retries > this.config.maximumRetryAttempts) {
        await this.discard(shardId, queue[0], 'RetryAttemptsExhausted', retries);
        queue.shift();
        retries = 0;
      }
    }
  }

  /**
   * Waits for records, then gathers up to `batchSize` for at most the batching window. With tumbling windows a batch
   * holds records of one window only, and the wait ends when the lane's open window is due to close.
   */
  private async takeBatch(shardId: string, lane: Lane): Promise<KinesisRecord[]> {
    const windowEnds = Date.now() + this.config.maxBatchingWindowSeconds * 1000;
    while (this.running && lane.records.length === 0) {
      if (this.windowDue(shardId, lane)) return [];
      await sleep(20);
    }
    while (this.running && lane.records.length < this.config.batchSize && Date.now() < windowEnds) await sleep(20);
    let size = Math.min(this.config.batchSize, lane.records.length);
    if (this.windowMs > 0 && size > 0) {
      const startMs = this.windowStartOf(lane.records[0]);
      const outside = lane.records.slice(0, size).findIndex((record) => this.windowStartOf(record) !== startMs);
      if (outside > 0) size = outside;
    }
    return lane.records.splice(0, size);
  }

  private get windowMs(): number {
    return (this.config.tumblingWindowSeconds ?? 0) * 1000;
  }

  /** The start of the tumbling window a record falls in, by its arrival time. */
  private windowStartOf(record: KinesisRecord): number {
    const arrivedMs = record.ApproximateArrivalTimestamp?.getTime() ?? Date.now();
    return Math.floor(arrivedMs / this.windowMs) * this.windowMs;
  }

  /** Whether the lane's open window has ended and the shard has been read past its end: no record of it can come. */
  private windowDue(shardId: string, lane: Lane): boolean {
    return lane.window !== undefined && (this.caughtUpAt.get(shardId) ?? 0) >= lane.window.endMs;
  }

  /**
   * The final invocation of the lane's window, with no records and the window's last state, as Lambda makes when a
   * window ends; then the window is gone and the next batch opens a new one with an empty state. Like Lambda, the
   * lane goes no further until it succeeds: it is retried, with a growing pause.
   */
  private async closeWindow(shardId: string, lane: Lane): Promise<void> {
    if (!lane.window) return;
    for (let attempt = 0; this.running; attempt++) {
      const outcome = await this.invoke(shardId, [], lane, true);
      if (outcome.kind === 'success') break;
      await sleep(Math.min(5_000, 100 * 2 ** attempt));
    }
    lane.window = undefined;
  }

  private async dropExpired(shardId: string, batch: KinesisRecord[]): Promise<KinesisRecord[]> {
    if (this.config.maximumRecordAgeSeconds < 0) return batch;
    const oldest = Date.now() - this.config.maximumRecordAgeSeconds * 1000;
    const expired = batch.filter((record) => (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) < oldest);
    if (expired.length > 0) await this.discard(shardId, expired, 'RecordAgeExceeded', 0);
    return batch.filter((record) => !expired.includes(record));
  }

  private async invoke(
    shardId: string,
    batch: KinesisRecord[],
    lane: Lane,
    isFinalInvokeForWindow = false,
  ): Promise<{ kind: 'success' } | { kind: 'partial'; retryFrom: number } | { kind: 'error' }> {
    if (!isFinalInvokeForWindow) this.stats.batches++;
    this.stats.records += batch.length;
    const window = lane.window;
    try {
      const response = (await this.runtime.invoke({
        Records: batch.map((record) => this.toRecord(shardId, record)),
        // Lambda's tumbling window fields: the window, the state the last invocation returned, and whether this
        // is the window's final invocation.
        ...(window && {
          window: { start: new Date(window.startMs).toISOString(), end: new Date(window.endMs).toISOString() },
          state: window.state,
          shardId,
          eventSourceARN: this.config.streamArn,
          isFinalInvokeForWindow,
          isWindowTerminatedEarly: false,
        }),
      })) as (KinesisStreamBatchResponse & { state?: Record<string, unknown> }) | undefined;
      // With a window, a response without state is a failed invocation, as on AWS; a response with failed records
      // still carries the state of the records before them, which are checkpointed.
      if (window && response?.state === undefined)
        throw new Error('the response of a windowed invocation has no state');
      if (window && response?.state !== undefined) window.state = response.state;
      const failures = this.config.reportBatchItemFailures ? (response?.batchItemFailures ?? []) : [];
      if (failures.length === 0) {
        this.stats.succeededRecords += batch.length;
        return { kind: 'success' };
      }
      const failed = new Set(failures.map((failure) => failure.itemIdentifier));
      const retryFrom = batch.findIndex((record) => failed.has(record.SequenceNumber as string));
      // An identifier that names no record of the batch fails the whole batch, as on AWS.
      this.stats.failedRecords += batch.length - Math.max(0, retryFrom);
      this.stats.succeededRecords += Math.max(0, retryFrom);
      return { kind: 'partial', retryFrom: Math.max(0, retryFrom) };
    } catch {
      this.stats.functionErrors++;
      this.stats.failedRecords += batch.length;
      return { kind: 'error' };
    }
  }

  /** Sends AWS's on-failure record for `batch` (to a queue: its location; to a bucket: all of it) and moves on. */
  private async discard(
    shardId: string,
    batch: KinesisRecord[],
    condition: string,
    invokeCount: number,
  ): Promise<void> {
    this.stats.discardedBatches++;
    this.stats.discardedRecords += batch.length;
    const bucket = this.config.onFailureBucket;
    if (!this.config.onFailureQueueUrl && !bucket) return;
    const first = batch[0];
    const last = batch[batch.length - 1];
    const message = {
      requestContext: {
        requestId: randomUUID(),
        functionArn: this.config.functionArn,
        condition,
        approximateInvokeCount: invokeCount,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      KinesisBatchInfo: {
        shardId,
        startSequenceNumber: first.SequenceNumber,
        endSequenceNumber: last.SequenceNumber,
        approximateArrivalOfFirstRecord: first.ApproximateArrivalTimestamp?.toISOString(),
        approximateArrivalOfLastRecord: last.ApproximateArrivalTimestamp?.toISOString(),
        batchSize: batch.length,
        streamArn: this.config.streamArn,
      },
    };
    const failedAt = new Date(message.timestamp);
    const send = bucket
      ? async () => {
          const { PutObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
          await (this.s3 as S3Client).send(
            new PutObjectCommand({
              Bucket: bucket.bucketName,
              Key: failureObjectKey(bucket.mappingId, shardId, failedAt),
              Body: JSON.stringify({
                ...message,
                payload: { Records: batch.map((record) => this.toRecord(shardId, record)) },
              }),
              ContentType: 'application/json',
            }),
          );
        }
      : () =>
          this.sqs.send(
            new SendMessageCommand({ QueueUrl: this.config.onFailureQueueUrl, MessageBody: JSON.stringify(message) }),
          );
    // The record is the only trace of the skipped batch: keep trying until the destination takes it, as the lane
    // does not move on before. (Stopping the local cloud is the one way out.)
    for (let attempt = 0; ; attempt++) {
      try {
        await send();
        return;
      } catch (error) {
        this.onError(error as Error);
        if (!this.running) return;
        await sleep(Math.min(5_000, 100 * 2 ** attempt));
      }
    }
  }

  private toRecord(shardId: string, record: KinesisRecord): KinesisStreamRecord {
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: record.PartitionKey as string,
        sequenceNumber: record.SequenceNumber as string,
        data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
        approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardId}:${record.SequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: `${this.config.functionArn}-role`,
      awsRegion: LOCAL_REGION,
      eventSourceARN: this.config.streamArn,
    };
  }
}

class Lane {
  /** Read from the shard, not yet in a batch. */
  public readonly records: KinesisRecord[] = [];
  /** Batches taken and not yet done with, the first one in flight. */
  public readonly batches: KinesisRecord[][] = [];
  /** The open tumbling window, with the state its last invocation returned. */
  public window?: { readonly startMs: number; readonly endMs: number; state: Record<string, unknown> };
}

/**
 * The key Lambda gives a failed batch's object in an on-failure bucket:
 * `aws/lambda/<mapping ID>/<shard ID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>`, in UTC.
 */
export function failureObjectKey(mappingId: string, shardId: string, failedAt: Date): string {
  const iso = failedAt.toISOString();
  const day = iso.slice(0, 10);
  const time = iso.slice(11, 19).replaceAll(':', '.');
  return `aws/lambda/${mappingId}/${shardId}/${day.replaceAll('-', '/')}/${day}T${time}-${randomUUID()}`;
}

function laneOf(partitionKey: string, lanes: number): number {
  if (lanes === 1) return 0;
  return createHash('md5').update(partitionKey).digest().readUInt32BE(0) % lanes;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
