import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { CONSUMER_ENVIRONMENT, idempotencyKeyPrefix } from '../../contract';
import { environmentDynamoDBClient, environmentSqsClient } from './environment-clients';
import type { EventHandler } from './event-handler';

/** How a set of event handlers becomes a batch consumer. */
export interface ConsumerOptions {
  /** The handler of each event type, by the value of the event's `type` field. */
  // biome-ignore lint/suspicious/noExplicitAny: each handler has its own schema; defineEventHandler checks each.
  readonly events: Readonly<Record<string, EventHandler<any>>>;
  /**
   * The largest body accepted; a larger one is a permanent error.
   *
   * @default 262144 (256 KiB)
   */
  readonly maxBodyBytes?: number;
  /**
   * How many keys (SQS: idempotency keys; Kinesis: partition keys) are processed at once. An integer of 1 or more.
   *
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * The event field whose value is logged as the correlation ID.
   *
   * @default 'eventId'
   */
  readonly correlationIdField?: string;
  /**
   * The idempotency table.
   *
   * @default - the `IDEMPOTENCY_TABLE_NAME` environment variable
   */
  readonly idempotencyTableName?: string;
  /**
   * The queue that receives records that can never succeed.
   *
   * @default - the `DEAD_LETTER_QUEUE_URL` environment variable
   */
  readonly deadLetterQueueUrl?: string;
  /**
   * Keep completed idempotency records of this execution environment in memory, so a duplicate in a later
   * invocation costs no DynamoDB request.
   *
   * @default true
   */
  readonly useLocalCache?: boolean;
  /**
   * The DynamoDB client for idempotency records and dead-letter marks.
   *
   * @default - the execution environment's client, from its configuration: one client shared by every consumer
   *   and effect helper given none
   */
  readonly dynamoDBClient?: DynamoDBClient;
  /**
   * The SQS client for dead letters.
   *
   * @default - the execution environment's client, from its configuration, created on the first dead letter
   */
  readonly sqsClient?: SQSClient;
  /**
   * The logger.
   *
   * @default - a Powertools logger that redacts personal data
   */
  readonly logger?: Logger;
  /**
   * The metrics publisher.
   *
   * @default - Powertools metrics (namespace and service from the environment)
   */
  readonly metrics?: Metrics;
}

/** A consumer's options and environment, resolved once when the consumer is created (at cold start). */
export interface ConsumerConfig {
  /** The table of idempotency records and dead-letter marks. */
  readonly idempotencyTableName: string;
  /**
   * The start of every key the consumer writes in the table: the string its IAM policy allows in
   * `dynamodb:LeadingKeys`.
   */
  readonly idempotencyKeyPrefix: string;
  /** The queue that receives records that can never succeed. */
  readonly deadLetterQueueUrl: string;
  /** The largest body accepted. */
  readonly maxBodyBytes: number;
  /** How many keys are processed at once. */
  readonly maxConcurrency: number;
  /** The event field logged as the correlation ID. */
  readonly correlationIdField: string;
  /** Whether completed idempotency records are kept in memory. */
  readonly useLocalCache: boolean;
}

/** The largest body accepted unless the options say otherwise. */
const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
/** How many keys are processed at once unless the options say otherwise. */
const DEFAULT_MAX_CONCURRENCY = 10;
/** The key prefix's consumer name in a function the kit's constructs did not deploy and that has no service name. */
const DEFAULT_CONSUMER_NAME = 'consumer';

/**
 * Resolves what a consumer needs from its options, then its environment. Throws, naming the variable, when the
 * environment lacks one the constructs set: a function that cannot work fails at cold start, not per record.
 */
export function resolveConsumerConfig(options: ConsumerOptions, env: NodeJS.ProcessEnv = process.env): ConsumerConfig {
  return {
    deadLetterQueueUrl: options.deadLetterQueueUrl ?? requiredIn(env, CONSUMER_ENVIRONMENT.deadLetterQueueUrl),
    idempotencyTableName: options.idempotencyTableName ?? requiredIn(env, CONSUMER_ENVIRONMENT.idempotencyTableName),
    idempotencyKeyPrefix: resolveKeyPrefix(env),
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxConcurrency: options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
    correlationIdField: options.correlationIdField ?? 'eventId',
    useLocalCache: options.useLocalCache ?? true,
  };
}

/**
 * The key prefix has one source, the environment, so the keys the runtime writes are the keys IAM allows: the
 * constructs set `IDEMPOTENCY_KEY_PREFIX` to exactly the string they grant in `dynamodb:LeadingKeys`. Only a
 * function they did not deploy (the variable is not set at all) falls back to its service name.
 */
function resolveKeyPrefix(env: NodeJS.ProcessEnv): string {
  const prefix =
    env[CONSUMER_ENVIRONMENT.idempotencyKeyPrefix] ??
    idempotencyKeyPrefix(env[CONSUMER_ENVIRONMENT.serviceName] ?? DEFAULT_CONSUMER_NAME);
  // Powertools trims its key prefix: a leading space would be cut, and every key would fall outside the grant.
  if (prefix !== prefix.trimStart()) {
    throw new Error(
      `The idempotency key prefix ${JSON.stringify(prefix)} starts with white space; set ${CONSUMER_ENVIRONMENT.idempotencyKeyPrefix} without it`,
    );
  }
  return prefix;
}

/** The AWS clients of one consumer. */
export interface ConsumerClients {
  /** For idempotency records and dead-letter marks: one client, so one connection pool, for all of them. */
  readonly dynamoDB: DynamoDBClient;
  /** For dead letters: the client, loaded and made on the first call when the options give none. */
  readonly sqs: () => SQSClient | Promise<SQSClient>;
}

/**
 * The clients the options give, or else the execution environment's: its DynamoDB client, and its SQS client once
 * the first dead letter needs it.
 */
export function resolveConsumerClients(options: ConsumerOptions): ConsumerClients {
  const { sqsClient } = options;
  return {
    dynamoDB: options.dynamoDBClient ?? environmentDynamoDBClient(),
    sqs: sqsClient ? () => sqsClient : environmentSqsClient,
  };
}

/**
 * Reads an environment variable the function cannot work without, failing loudly when it is missing or empty.
 * Call it at module scope (cold start), as the reference functions do for their tables.
 *
 * @param name - the variable's name.
 * @returns the variable's value.
 */
export function requireEnv(name: string): string {
  return requiredIn(process.env, name);
}

function requiredIn(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`The environment variable ${name} is not set`);
  return value;
}
