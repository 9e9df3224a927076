import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record as KinesisRecord,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** The part of a Kinesis event source mapping's on-failure record that locates the failed batch. */
export interface KinesisBatchInfo {
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly batchSize: number;
  readonly streamArn: string;
}

/** What a replay did, or (dry run) would do. */
export interface ReplayResult {
  readonly batches: number;
  readonly records: number;
  /** Batches whose records are no longer in the stream (past its retention). */
  readonly expired: number;
  /** Messages that are not on-failure records (the kit's own dead letters): left in the queue. */
  readonly skipped: number;
  /** Batches whose re-delivery failed (`deliver` threw): left in the queue for the next replay. */
  readonly failed: number;
}

/** How to replay. */
export interface ReplayOptions {
  readonly failureQueueUrl: string;
  readonly dryRun?: boolean;
  readonly maxBatches?: number;
  /**
   * Deliver the records to this function instead of publishing them to the stream again: a re-invocation of the
   * one consumer that failed, which the other consumers of the stream do not see. Rejecting keeps the batch in
   * the failure queue.
   *
   * @default - re-publish to the stream
   */
  readonly deliver?: (records: KinesisRecord[], info: KinesisBatchInfo) => Promise<void>;
}

/**
 * Replays what a Kinesis consumer gave up on: reads the on-failure records in its failure queue (shard and
 * sequence range, no data), reads those records back from the stream within its retention, and publishes them to
 * the stream again with their partition keys. The consumer's idempotency makes a replay safe: what was applied
 * before is not applied twice. A failure-queue message is deleted only after its records are published.
 */
export async function replay(sqs: SQSClient, kinesis: KinesisClient, options: ReplayOptions): Promise<ReplayResult> {
  const result = { batches: 0, records: 0, expired: 0, skipped: 0, failed: 0 };
  const seen = new Set<string>();
  // Messages taken and not deleted (listed, expired, failed again): hidden for the run, shown again at its end.
  const held = new Map<string, string>();
  try {
    await replayMessages();
  } finally {
    for (const ReceiptHandle of held.values()) {
      await sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: options.failureQueueUrl,
            ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        )
        .catch(() => {}); // it shows again after its visibility timeout anyway
    }
  }
  return result;

  async function replayMessages(): Promise<void> {
    while (options.maxBatches === undefined || result.batches < options.maxBatches) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.failureQueueUrl,
          // Re-delivering a batch may take a while (retries, timeouts): one at a time, so none waits out its 60 s.
          MaxNumberOfMessages: options.deliver ? 1 : 10,
          MessageAttributeNames: ['All'],
          VisibilityTimeout: 60,
        }),
      );
      const fresh = Messages.filter((message) => !seen.has(message.MessageId as string));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        seen.add(message.MessageId as string);
        held.set(message.MessageId as string, message.ReceiptHandle as string);
        const info = kinesisBatchInfo(message.Body);
        if (!info) {
          result.skipped++;
          continue;
        }
        const records = await readBatch(kinesis, info);
        result.batches++;
        if (records.length === 0) {
          result.expired++;
          continue;
        }
        result.records += records.length;
        if (options.dryRun) continue;
        if (options.deliver) {
          try {
            await options.deliver(records, info);
          } catch {
            result.failed++;
            continue;
          }
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: options.failureQueueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
          held.delete(message.MessageId as string);
          continue;
        }
        await publish(kinesis, info.streamArn, records);
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: options.failureQueueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        held.delete(message.MessageId as string);
      }
    }
  }
}

/** How to replay from a failure bucket. */
export interface BucketReplayOptions {
  /** The consumer's failure bucket (`failureBucket` of a stream consumer). */
  readonly bucketName: string;
  /**
   * Only the objects under this prefix: `aws/lambda/<mapping ID>/` for one consumer of a shared bucket, or a
   * shard or day below it.
   *
   * @default 'aws/lambda/'
   */
  readonly prefix?: string;
  readonly dryRun?: boolean;
  readonly maxBatches?: number;
  /**
   * Deliver the records to this function instead of publishing them to the stream again (see
   * {@link ReplayOptions.deliver}). Rejecting keeps the object in the bucket.
   *
   * @default - re-publish to the stream
   */
  readonly deliver?: (records: KinesisRecord[], info: KinesisBatchInfo) => Promise<void>;
}

/** One record of a Kinesis event, as Lambda gives it to a function and writes it to a failure bucket. */
interface KinesisEventRecord {
  readonly kinesis: {
    readonly partitionKey: string;
    readonly sequenceNumber: string;
    readonly data: string;
    readonly approximateArrivalTimestamp?: number;
  };
  readonly eventSourceARN?: string;
}

/**
 * Replays what a Kinesis consumer gave up on from its failure bucket, where Lambda keeps each failed batch whole
 * (`failureBucket` of a stream consumer): for each object, in key order (oldest first within a shard), publishes
 * its records to the stream again with their partition keys, then deletes the object. Unlike a replay from the
 * failure queue it needs nothing from the stream but a place to publish: it works after the stream's retention has
 * dropped the records. The consumer's idempotency makes it safe to replay a batch that was partly applied.
 */
export async function replayFromBucket(
  s3: S3Client,
  kinesis: KinesisClient,
  options: BucketReplayOptions,
): Promise<ReplayResult> {
  const { DeleteObjectCommand, GetObjectCommand, paginateListObjectsV2 } =
    require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
  const result = { batches: 0, records: 0, expired: 0, skipped: 0, failed: 0 };
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2(
    { client: s3 },
    { Bucket: options.bucketName, Prefix: options.prefix ?? 'aws/lambda/' },
  )) {
    for (const object of page.Contents ?? []) keys.push(object.Key as string);
  }
  for (const key of keys) {
    if (options.maxBatches !== undefined && result.batches >= options.maxBatches) break;
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: options.bucketName, Key: key }));
    const batch = failedBatch((await Body?.transformToString('utf8')) ?? '');
    if (!batch) {
      result.skipped++;
      continue;
    }
    result.batches++;
    result.records += batch.records.length;
    if (options.dryRun) continue;
    try {
      if (options.deliver) await options.deliver(batch.records, batch.info);
      else await publish(kinesis, batch.info.streamArn, batch.records);
    } catch (error) {
      if (!options.deliver) throw error;
      result.failed++;
      continue;
    }
    await s3.send(new DeleteObjectCommand({ Bucket: options.bucketName, Key: key }));
  }
  return result;
}

/**
 * The batch an on-failure bucket's object holds: its `KinesisBatchInfo` and the records of its `payload` (an
 * object, or the same as a JSON string), as stream records; undefined when `body` is not such an object.
 */
export function failedBatch(body: string): { info: KinesisBatchInfo; records: KinesisRecord[] } | undefined {
  let parsed: { KinesisBatchInfo?: KinesisBatchInfo; payload?: unknown };
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const payload = typeof parsed.payload === 'string' ? safeParse(parsed.payload) : parsed.payload;
  const events = (payload as { Records?: KinesisEventRecord[] } | undefined)?.Records;
  if (!parsed.KinesisBatchInfo || !Array.isArray(events)) return undefined;
  const records = events.map(
    (event): KinesisRecord => ({
      Data: Buffer.from(event.kinesis.data, 'base64'),
      PartitionKey: event.kinesis.partitionKey,
      SequenceNumber: event.kinesis.sequenceNumber,
      ApproximateArrivalTimestamp:
        event.kinesis.approximateArrivalTimestamp === undefined
          ? undefined
          : new Date(event.kinesis.approximateArrivalTimestamp * 1000),
    }),
  );
  return { info: parsed.KinesisBatchInfo, records };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Publishes records to the stream of `streamArn` again, with their partition keys, 500 to a call. */
async function publish(kinesis: KinesisClient, streamArn: string, records: KinesisRecord[]): Promise<void> {
  const streamName = streamArn.slice(streamArn.indexOf('/') + 1);
  for (let i = 0; i < records.length; i += 500) {
    const { FailedRecordCount } = await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: records.slice(i, i + 500).map((record) => ({ Data: record.Data, PartitionKey: record.PartitionKey })),
      }),
    );
    if (FailedRecordCount)
      throw new Error(`${FailedRecordCount} records were not published; the batch stays where it was kept`);
  }
}

/** The batch a Kinesis event source's on-failure record locates, or undefined when `body` is not one. */
export function kinesisBatchInfo(body: string | undefined): KinesisBatchInfo | undefined {
  try {
    return (JSON.parse(body ?? '') as { KinesisBatchInfo?: KinesisBatchInfo }).KinesisBatchInfo;
  } catch {
    return undefined;
  }
}

/** Reads the records of one shard from `startSequenceNumber` through `endSequenceNumber`. */
async function readBatch(kinesis: KinesisClient, info: KinesisBatchInfo): Promise<KinesisRecord[]> {
  const streamName = info.streamArn.slice(info.streamArn.indexOf('/') + 1);
  let iterator: string | undefined;
  try {
    ({ ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: info.shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: info.startSequenceNumber,
      }),
    ));
  } catch (error) {
    // The start is past the stream's retention: nothing left to replay.
    if ((error as Error).name === 'InvalidArgumentException') return [];
    throw error;
  }
  const end = BigInt(info.endSequenceNumber);
  const records: KinesisRecord[] = [];
  for (let calls = 0; iterator && calls < 100; calls++) {
    const {
      Records = [],
      NextShardIterator,
      MillisBehindLatest,
    } = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
    for (const record of Records) {
      if (BigInt(record.SequenceNumber as string) > end) return records;
      records.push(record);
    }
    if (Records.length === 0 && MillisBehindLatest === 0) break;
    iterator = NextShardIterator;
  }
  return records;
}
