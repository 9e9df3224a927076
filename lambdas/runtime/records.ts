import { createHash } from 'node:crypto';
import type { KinesisStreamRecord, SQSRecord } from 'aws-lambda';

/** Where a record came from: what a log line or a dead letter needs to find it again. */
export interface RecordSource {
  /** The service the record came from: an SQS queue or a Kinesis data stream. */
  readonly kind: 'sqs' | 'kinesis';
  /** The queue or stream ARN. */
  readonly sourceArn: string;
  /** SQS message ID, or Kinesis `shardId:sequenceNumber`. */
  readonly id: string;
  /** SQS FIFO message group. */
  readonly messageGroupId?: string;
  /** Kinesis shard ID. */
  readonly shardId?: string;
  /** Kinesis sequence number. */
  readonly sequenceNumber?: string;
  /** Kinesis partition key. */
  readonly partitionKey?: string;
  /** When the record reached the queue or stream, in epoch milliseconds. */
  readonly arrivedAtMs: number;
}

/** A record's body as bytes and as its source. */
export interface RecordBody {
  /** The body: SQS text as UTF-8, or Kinesis data as delivered. */
  readonly bytes: Buffer;
  /** Where the record came from. */
  readonly source: RecordSource;
}

/** Reads an SQS record: its body (UTF-8 text by SQS's rules) and where it came from. */
export function readSqsRecord(record: SQSRecord): RecordBody {
  return {
    bytes: Buffer.from(record.body, 'utf8'),
    source: {
      kind: 'sqs',
      sourceArn: record.eventSourceARN,
      id: record.messageId,
      ...(record.attributes.MessageGroupId !== undefined && { messageGroupId: record.attributes.MessageGroupId }),
      arrivedAtMs: Number(record.attributes.SentTimestamp),
    },
  };
}

/** Reads a Kinesis record: its data (any bytes) and where it came from. */
export function readKinesisRecord(record: KinesisStreamRecord): RecordBody {
  // The event ID is `shardId-000000000000:sequenceNumber`.
  const shardId = record.eventID.slice(0, record.eventID.lastIndexOf(':'));
  return {
    bytes: Buffer.from(record.kinesis.data, 'base64'),
    source: {
      kind: 'kinesis',
      sourceArn: record.eventSourceARN,
      id: `${shardId}:${record.kinesis.sequenceNumber}`,
      shardId,
      sequenceNumber: record.kinesis.sequenceNumber,
      partitionKey: record.kinesis.partitionKey,
      arrivedAtMs: Math.round(record.kinesis.approximateArrivalTimestamp * 1000),
    },
  };
}

/** A digest of a record's identity (its queue or stream, and its message ID or shard and sequence number). */
export function sourceDigest(source: RecordSource): string {
  return createHash('sha256').update(`${source.sourceArn}|${source.id}`).digest('hex');
}

/** A key that identifies a record within its batch. */
export function recordKey(record: SQSRecord | KinesisStreamRecord): string {
  return 'messageId' in record ? record.messageId : record.eventID;
}
