import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type {
  Context,
  KinesisStreamEvent,
  KinesisStreamRecord,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import * as v from 'valibot';
import { InvalidRecordError } from './errors';

/** The environment variable naming the idempotency table (set by the constructs). */
export const IDEMPOTENCY_TABLE_NAME_ENV = 'IDEMPOTENCY_TABLE_NAME';

/** The business metrics every consumer emits; the constructs' dashboards read the same names. */
export const RECORD_METRIC_NAMES = {
  processed: 'ProcessedRecords',
  duplicate: 'DuplicateRecords',
  invalid: 'InvalidRecords',
  failed: 'FailedRecords',
  recordAge: 'RecordAge',
} as const;

/** Where a record came from: what a log line or a dead letter needs to find it again. */
export interface RecordSource {
  readonly kind: 'sqs' | 'kinesis';
  /** SQS message ID, or Kinesis `shardId:sequenceNumber`. */
  readonly id: string;
  /** Kinesis sequence number. */
  readonly sequenceNumber?: string;
  /** Kinesis shard ID, from the event ID. */
  readonly shardId?: string;
  /** Kinesis partition key. */
  readonly partitionKey?: string;
  /** When the record reached the queue or stream, in epoch milliseconds. */
  readonly arrivedAtMs: number;
}

/** How a per-record function becomes a batch consumer. */
export interface ConsumerOptions<TSchema extends v.GenericSchema> {
  /** The schema every record's body must satisfy. */
  readonly schema: TSchema;
  /** The business field that identifies an effect (`orderId`, `eventId`): the idempotency key. */
  readonly idempotencyKey: keyof v.InferOutput<TSchema> & string;
  /** Applies the record's effect. Runs at most once per key while its idempotency record lives. */
  readonly handleRecord: (event: v.InferOutput<TSchema>, source: RecordSource) => Promise<void>;
  /**
   * How long a completed key is remembered, in seconds.
   *
   * @default 86400 (one day)
   */
  readonly expiresAfterSeconds?: number;
}

/** A Lambda handler for a batch event with partial batch responses. */
export type BatchHandler<TEvent> = (event: TEvent, context: Context) => Promise<SQSBatchResponse>;

/** Turns a per-record function into an idempotent, validated, observable SQS batch consumer. */
export function createQueueConsumer<TSchema extends v.GenericSchema>(
  options: ConsumerOptions<TSchema>,
): BatchHandler<SQSEvent> {
  return createConsumer(EventType.SQS, options, (record: SQSRecord) => ({
    body: record.body,
    source: {
      kind: 'sqs',
      id: record.messageId,
      arrivedAtMs: Number(record.attributes.SentTimestamp),
    },
  }));
}

/** Turns a per-record function into an idempotent, validated, observable Kinesis batch consumer. */
export function createStreamConsumer<TSchema extends v.GenericSchema>(
  options: ConsumerOptions<TSchema>,
): BatchHandler<KinesisStreamEvent> {
  return createConsumer(EventType.KinesisDataStreams, options, (record: KinesisStreamRecord) => {
    const shardId = record.eventID.split(':')[0];
    return {
      body: Buffer.from(record.kinesis.data, 'base64').toString('utf8'),
      source: {
        kind: 'kinesis',
        id: `${shardId}:${record.kinesis.sequenceNumber}`,
        shardId,
        sequenceNumber: record.kinesis.sequenceNumber,
        partitionKey: record.kinesis.partitionKey,
        arrivedAtMs: record.kinesis.approximateArrivalTimestamp * 1000,
      },
    };
  });
}

function createConsumer<TSchema extends v.GenericSchema, TRecord, TEvent extends { Records: TRecord[] }>(
  eventType: (typeof EventType)[keyof typeof EventType],
  options: ConsumerOptions<TSchema>,
  read: (record: TRecord) => { body: string; source: RecordSource },
): BatchHandler<TEvent> {
  const logger = new Logger();
  const metrics = new Metrics();
  const processor = new BatchProcessor(eventType);
  // One persistence layer per function: sharing one between functions silently turns idempotency off.
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName: requireEnv(IDEMPOTENCY_TABLE_NAME_ENV) });
  const config = new IdempotencyConfig({
    eventKeyJmesPath: options.idempotencyKey,
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: options.expiresAfterSeconds ?? 86_400,
  });
  let applied = false;
  const applyOnce = makeIdempotent(
    async (event: v.InferOutput<TSchema>, source: RecordSource) => {
      applied = true;
      await options.handleRecord(event, source);
      return { applied: true };
    },
    { persistenceStore, config },
  );

  const handleRecord = async (record: TRecord) => {
    const { body, source } = read(record);
    try {
      const event = parseBody(options.schema, body);
      applied = false;
      await applyOnce(event, source);
      metrics.addMetric(applied ? RECORD_METRIC_NAMES.processed : RECORD_METRIC_NAMES.duplicate, MetricUnit.Count, 1);
      metrics.addMetric(RECORD_METRIC_NAMES.recordAge, MetricUnit.Milliseconds, Date.now() - source.arrivedAtMs);
    } catch (error) {
      const invalid = error instanceof InvalidRecordError;
      metrics.addMetric(invalid ? RECORD_METRIC_NAMES.invalid : RECORD_METRIC_NAMES.failed, MetricUnit.Count, 1);
      logger.error('Record failed', { record: source, error });
      throw error;
    }
  };

  return async (event: TEvent, context: Context) => {
    config.registerLambdaContext(context);
    logger.addContext(context);
    try {
      // Sequential: records of one batch keep their order, and two records with one key never race.
      return await processPartialResponse(event as never, handleRecord as never, processor, {
        context,
        processInParallel: false,
        throwOnFullBatchFailure: false,
      });
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

function parseBody<TSchema extends v.GenericSchema>(schema: TSchema, body: string): v.InferOutput<TSchema> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new InvalidRecordError('the body is not valid JSON');
  }
  const result = v.safeParse(schema, json);
  if (!result.success) {
    const issues = result.issues.map((issue) => `${v.getDotPath(issue) ?? '(root)'}: ${issue.message}`);
    throw new InvalidRecordError(`the body does not match the schema: ${issues.join('; ')}`);
  }
  return result.output;
}

/** Reads a variable the constructs set, failing loudly at cold start when it is missing. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`The environment variable ${name} is not set`);
  return value;
}
