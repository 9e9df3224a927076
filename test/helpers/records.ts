import { randomUUID } from 'node:crypto';
import type { Context, KinesisStreamEvent, KinesisStreamRecord, SQSEvent, SQSRecord } from 'aws-lambda';

export const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:orders';
export const FIFO_QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:orders.fifo';
export const STREAM_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/order-events';

/** An SQS record as the event source mapping delivers it. */
export function sqsRecord(
  body: string,
  options: { messageId?: string; queueArn?: string; messageGroupId?: string; sentAtMs?: number } = {},
): SQSRecord {
  return {
    messageId: options.messageId ?? randomUUID(),
    receiptHandle: randomUUID(),
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(options.sentAtMs ?? Date.now()),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      ...(options.messageGroupId && { MessageGroupId: options.messageGroupId, SequenceNumber: '1' }),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn ?? QUEUE_ARN,
    awsRegion: 'us-east-1',
  };
}

/** An SQS event of `records`. */
export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

let nextSequence = 49_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;

/** A Kinesis record as the event source mapping delivers it; data as bytes or text. */
export function kinesisRecord(
  data: string | Buffer,
  options: { partitionKey?: string; sequenceNumber?: string; shardId?: string; arrivedAtMs?: number } = {},
): KinesisStreamRecord {
  const shardId = options.shardId ?? 'shardId-000000000000';
  const sequenceNumber = options.sequenceNumber ?? String(nextSequence++);
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: options.partitionKey ?? 'key',
      sequenceNumber,
      data: (typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64'),
      approximateArrivalTimestamp: (options.arrivedAtMs ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/consumer',
    awsRegion: 'us-east-1',
    eventSourceARN: STREAM_ARN,
  };
}

/** A Kinesis event of `records`. */
export function kinesisEvent(records: KinesisStreamRecord[]): KinesisStreamEvent {
  return { Records: records };
}

/** A Lambda context with `remainingMs` left at creation. */
export function lambdaContext(remainingMs = 30_000, functionName = 'test-function'): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A valid `OrderPlaced` event; override any field. */
export function orderPlaced(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'OrderPlaced',
    eventId: randomUUID(),
    orderId: `o-${randomUUID()}`,
    customerId: 'c-1',
    customerEmail: 'ana@example.com',
    sku: 'SKU-1',
    quantity: 2,
    unitPriceCents: 1250,
    currency: 'EUR',
    placedAt: new Date().toISOString(),
    ...overrides,
  };
}
