/**
 * The contract between the constructs, the runtime kit, the operations CLI and the local cloud: the names one side
 * writes and the other reads. Every side imports them from here, so they cannot drift apart.
 *
 * This module imports nothing: the runtime bundles it into every function, and infrastructure code loads it at synth.
 *
 * @module
 */

/** The environment variables the constructs set on a consumer function and the runtime kit reads. */
export const CONSUMER_ENVIRONMENT = {
  /** The name of the DynamoDB table that holds the idempotency records. */
  idempotencyTableName: 'IDEMPOTENCY_TABLE_NAME',
  /**
   * The start of every idempotency key the function may write: the same string the function's IAM policy allows
   * in `dynamodb:LeadingKeys`.
   */
  idempotencyKeyPrefix: 'IDEMPOTENCY_KEY_PREFIX',
  /** The URL of the queue that receives the records that can never succeed (dead-letter or failure queue). */
  deadLetterQueueUrl: 'DEAD_LETTER_QUEUE_URL',
  /** The service name in logs and the `service` dimension of the business metrics (read by Powertools). */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  /** The CloudWatch namespace of the business metrics (read by Powertools). */
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

/** The CloudWatch namespace of the business metrics unless a function says otherwise. */
export const DEFAULT_METRICS_NAMESPACE = 'EdaKit';

/** The dimension of every business metric: the consumer's service name. */
export const SERVICE_DIMENSION = 'service';

/** The business metrics every consumer emits (EMF) and the dashboards and alarms read. */
export const RECORD_METRIC_NAMES = {
  /** Records whose effect was applied by this delivery. */
  processed: 'ProcessedRecords',
  /** Records whose effect had been applied before (a redelivery or a producer's retry): skipped. */
  duplicate: 'DuplicateRecords',
  /** Records that can never succeed, sent to the dead-letter queue with their reason. */
  invalid: 'InvalidRecords',
  /** Records reported failed in the batch response: the platform retries them. */
  failed: 'FailedRecords',
  /** Milliseconds from a record's arrival in its queue or stream to its effect. */
  recordAge: 'RecordAge',
} as const;

/** The prefix of every message attribute the runtime kit writes on a dead letter. */
export const DEAD_LETTER_ATTRIBUTE_PREFIX = 'eda-kit.';

/** The message attributes of a dead letter the runtime kit writes; its body is the record's original body. */
export const DEAD_LETTER_ATTRIBUTES = {
  /** Why the record can never succeed: the error's name and message. */
  reason: 'eda-kit.reason',
  /** The error class, e.g. `SchemaViolationError`. */
  error: 'eda-kit.error',
  /** The ARN of the queue or stream the record was read from. */
  sourceArn: 'eda-kit.source-arn',
  /** SQS message ID, or Kinesis `shardId:sequenceNumber`. */
  recordId: 'eda-kit.record-id',
  /** Kinesis partition key. */
  partitionKey: 'eda-kit.partition-key',
  /** `utf8` when the body is the original text; `base64` when the original bytes could not travel as SQS text. */
  bodyEncoding: 'eda-kit.body-encoding',
  /** Present when the body had to be cut to fit in a message; the full record stays in its stream. */
  truncatedFromBytes: 'eda-kit.truncated-from-bytes',
  /**
   * The dead letter's identity: the key of its record's dead-letter mark in the consumer's idempotency table,
   * `<consumer>.dead-letter#<digest>` of the source and the record. Every copy of one record's dead letter from one
   * consumer carries the same value, so the operations tools count, alarm and redrive by it.
   */
  identity: 'eda-kit.dead-letter-id',
} as const;

/** The layout of an idempotency table: the attribute names the Powertools DynamoDB persistence layer uses. */
export const IDEMPOTENCY_TABLE_LAYOUT = {
  /** The partition key (string). */
  partitionKey: 'id',
  /** The time-to-live attribute (epoch seconds). */
  timeToLiveAttribute: 'expiration',
} as const;

/**
 * The start of every idempotency key of the consumer called `consumerName`. Keys are
 * `<consumer name>.<event type>#<hash>` for effects and `<consumer name>.dead-letter#<digest>` for the marks of
 * dead-lettered records, and IAM holds each function to its own keys (`<consumer name>.*`). The constructs refuse a
 * consumer name with a dot, `*` or `?`, and two consumers with one name on one table, so no two consumers' keys meet.
 */
export function idempotencyKeyPrefix(consumerName: string): string {
  return `${consumerName}.`;
}

/** The Powertools key prefix of one event type's records, under the consumer's key prefix. */
export function eventTypeKeyPrefix(keyPrefix: string, eventType: string): string {
  return `${keyPrefix}${eventType}`;
}

/** The key that marks one source record as dead-lettered, under the consumer's key prefix. */
export function deadLetterMarkKey(keyPrefix: string, recordDigest: string): string {
  return `${keyPrefix}dead-letter#${recordDigest}`;
}

/**
 * The `FilterId` of the request metrics a stream consumer's own failure bucket publishes (`AWS/S3` `PutRequests`:
 * failed batches written), which the alarm reads and the local dashboard emulates.
 */
export const FAILURE_BUCKET_METRICS_FILTER = 'FailedBatches';
