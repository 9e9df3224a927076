import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record as KinesisRecord,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
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
        const streamName = info.streamArn.slice(info.streamArn.indexOf('/') + 1);
        for (let i = 0; i < records.length; i += 500) {
          const { FailedRecordCount } = await kinesis.send(
            new PutRecordsCommand({
              StreamName: streamName,
              Records: records
                .slice(i, i + 500)
                .map((record) => ({ Data: record.Data, PartitionKey: record.PartitionKey })),
            }),
          );
          if (FailedRecordCount)
            throw new Error(`${FailedRecordCount} records were not published; the batch stays in the failure queue`);
        }
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: options.failureQueueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        held.delete(message.MessageId as string);
      }
    }
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
