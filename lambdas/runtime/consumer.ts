import { EventType, processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyKeyError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import type * as v from 'valibot';
import { DeadLetterLedger } from './dead-letter-ledger';
import { DeadLetterWriter } from './dead-letters';
import { DuplicateOfFailedRecordError, OutOfTimeError, PermanentError } from './errors';
import { KeyedBatchProcessor } from './keyed-batch-processor';
import { createLogger, RECORD_METRIC_NAMES } from './observability';
import { type ParsedEvent, parseEvent } from './parse';
import { type RecordBody, type RecordSource, readKinesisRecord, readSqsRecord, recordKey } from './records';

export { RECORD_METRIC_NAMES } from './observability';

/** The environment variable naming the idempotency table (set by the constructs). */
export const IDEMPOTENCY_TABLE_NAME_ENV = 'IDEMPOTENCY_TABLE_NAME';
/** The environment variable naming the consumer's dead-letter (or failure) queue URL (set by the constructs). */
export const DEAD_LETTER_QUEUE_URL_ENV = 'DEAD_LETTER_QUEUE_URL';

/**
 * A record is not started with less time than this left in the invocation: reported failed, it is retried by the
 * platform instead. Powertools gives an idempotency record no in-progress expiry when no time is left, so a
 * record started at the last moment and cut off by the timeout would lock its key until the record expires.
 */
export const MIN_REMAINING_MS_TO_START = 1_000;

/** What an event handler is given besides its event. */
export interface RecordContext {
  /** Where the record came from. */
  readonly source: RecordSource;
  /** A logger whose lines carry the correlation ID and the record's identity. */
  readonly logger: Logger;
  /** The Lambda invocation's context. */
  readonly lambdaContext: Context;
}

/** How one event type is validated, identified and applied. */
export interface EventHandler<TSchema extends v.GenericSchema = v.GenericSchema> {
  /** The schema every event of this type must satisfy. */
  readonly schema: TSchema;
  /**
   * The business field that identifies the event's effect (`orderId`, `eventId`): the idempotency key. Never the
   * message ID: a producer's retry is a new message with a new ID and the same effect.
   */
  readonly idempotencyKey: keyof v.InferOutput<TSchema> & string;
  /** Applies the event's effect. It must itself be safe to repeat: see the effect helpers. */
  readonly handle: (event: v.InferOutput<TSchema>, context: RecordContext) => Promise<void>;
  /**
   * How long a completed key is remembered, in seconds.
   *
   * @default 86400 (one day)
   */
  readonly expiresAfterSeconds?: number;
}

/** Declares an event handler with its event type inferred from the schema. */
export function defineEventHandler<TSchema extends v.GenericSchema>(
  handler: EventHandler<TSchema>,
): EventHandler<TSchema> {
  return handler;
}

/** How a set of event handlers becomes a batch consumer. */
export interface ConsumerOptions {
  /** The handler of each event type, by the value of the event's `type` field. */
  // biome-ignore lint/suspicious/noExplicitAny: each handler has its own schema; defineEventHandler checks each.
  readonly events: Readonly<Record<string, EventHandler<any>>>;
  /**
   * The consumer's name: the start of every idempotency key (`<name>.<event type>#<hash>`), so two consumers never
   * share records, and IAM can limit each function to its own (`dynamodb:LeadingKeys`).
   *
   * @default - `POWERTOOLS_SERVICE_NAME`, else `consumer`
   */
  readonly name?: string;
  /**
   * The largest body accepted; a larger one is a permanent error.
   *
   * @default 262144 (256 KiB)
   */
  readonly maxBodyBytes?: number;
  /**
   * How many keys (SQS: idempotency keys; Kinesis: partition keys) are processed at once.
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
   * The DynamoDB client for idempotency records.
   *
   * @default - a client from the environment's configuration
   */
  readonly dynamoDBClient?: DynamoDBClient;
  /**
   * The SQS client for dead letters.
   *
   * @default - a client from the environment's configuration
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

/** A Lambda handler for SQS events with partial batch responses. */
export type QueueBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
/** A Lambda handler for Kinesis events with partial batch responses. */
export type StreamBatchHandler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

/**
 * Turns event handlers into an SQS batch consumer. Standard queues: records with different idempotency keys run in
 * parallel (bounded). FIFO queues (detected from the queue ARN): Powertools' FIFO processor, in order, a message
 * group stopping at its first failure.
 */
export function createQueueConsumer(options: ConsumerOptions): QueueBatchHandler {
  const consumer = new BatchConsumer(options);
  const standard = new KeyedBatchProcessor(EventType.SQS, consumer.maxConcurrency);
  const fifo = new SqsFifoPartialProcessorAsync();
  return async (event, context) => {
    const isFifo = event.Records[0]?.eventSourceARN.endsWith('.fifo') ?? false;
    return consumer.run(event.Records, readSqsRecord, context, (prepared) => {
      if (isFifo) return { processor: fifo, options: { skipGroupOnError: true } };
      // Records with the same idempotency key run in one group, one after another: a duplicate is settled by the
      // first without touching the store.
      return {
        processor: standard.groupBy((record) => prepared.get(recordKey(record))?.dedupeKey ?? recordKey(record)),
      };
    }) as Promise<SQSBatchResponse>;
  };
}

/**
 * Turns event handlers into a Kinesis batch consumer: records with the same partition key run one after another
 * in arrival order; different partition keys run in parallel (bounded). After a failure, the rest of that key's
 * records are reported failed with it, and the response names the failed sequence numbers.
 */
export function createStreamConsumer(options: ConsumerOptions): StreamBatchHandler {
  const consumer = new BatchConsumer(options);
  const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, consumer.maxConcurrency);
  return async (event, context) =>
    consumer.run(event.Records, readKinesisRecord, context, (prepared) => ({
      processor: processor.groupBy(orderingGroups(event.Records, prepared)),
    })) as Promise<KinesisStreamBatchResponse>;
}

/** A record after the checks that need no I/O. */
interface PreparedRecord {
  readonly body: RecordBody;
  readonly parsed?: ParsedEvent;
  readonly dedupeKey?: string;
  readonly error?: Error;
}

interface IdempotentHandler {
  readonly handler: EventHandler;
  readonly config: IdempotencyConfig;
  /** Applies the event unless its key completed before; resolves to whether the handler ran now. */
  readonly apply: (event: Record<string, unknown>, context: RecordContext) => Promise<boolean>;
}

type BatchRecord = SQSRecord | KinesisStreamRecord;

class BatchConsumer {
  public readonly maxConcurrency: number;
  private readonly maxBodyBytes: number;
  private readonly correlationIdField: string;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly deadLetters: DeadLetterWriter;
  private readonly deadLettered: DeadLetterLedger;
  private readonly handlers = new Map<string, IdempotentHandler>();
  private readonly schemas: Record<string, EventHandler> = {};

  constructor(options: ConsumerOptions) {
    this.maxConcurrency = options.maxConcurrency ?? 10;
    this.maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;
    this.correlationIdField = options.correlationIdField ?? 'eventId';
    this.logger = options.logger ?? createLogger();
    this.metrics = options.metrics ?? new Metrics();
    this.deadLetters = new DeadLetterWriter(
      options.sqsClient ?? new SQSClient({}),
      options.deadLetterQueueUrl ?? requireEnv(DEAD_LETTER_QUEUE_URL_ENV),
    );
    const tableName = options.idempotencyTableName ?? requireEnv(IDEMPOTENCY_TABLE_NAME_ENV);
    const name = options.name ?? process.env.POWERTOOLS_SERVICE_NAME ?? 'consumer';
    // One client for every persistence layer and the ledger (one connection pool), not one each.
    const dynamoDBClient = options.dynamoDBClient ?? new DynamoDBClient({});
    this.deadLettered = new DeadLetterLedger(dynamoDBClient, tableName, name);
    for (const [type, handler] of Object.entries(options.events)) {
      this.handlers.set(type, this.makeIdempotentHandler(type, handler, tableName, name, options, dynamoDBClient));
      this.schemas[type] = handler;
    }
    if (this.handlers.size === 0) throw new Error('A consumer needs at least one event handler in `events`');
  }

  /** Processes one batch and returns its partial batch response. */
  public async run<TRecord extends BatchRecord>(
    records: TRecord[],
    read: (record: TRecord) => RecordBody,
    context: Context,
    choose: (prepared: Map<string, PreparedRecord>) => {
      processor: KeyedBatchProcessor | SqsFifoPartialProcessorAsync;
      options?: object;
    },
  ): Promise<SQSBatchResponse | KinesisStreamBatchResponse> {
    for (const { config } of this.handlers.values()) config.registerLambdaContext(context);
    this.logger.addContext(context);
    const prepared = new Map(records.map((record) => [recordKey(record), this.prepare(read(record))]));
    // Outcome of each idempotency key in this batch: a later duplicate follows the first without a request.
    const settled = new Map<string, 'done' | 'failed'>();
    const { processor, options } = choose(prepared);
    try {
      return await processPartialResponse(
        { Records: records } as SQSEvent,
        (record: BatchRecord) => this.process(prepared.get(recordKey(record)) as PreparedRecord, settled, context),
        processor,
        { context, throwOnFullBatchFailure: false, ...options } as never,
      );
    } finally {
      this.metrics.publishStoredMetrics();
    }
  }

  private prepare(body: RecordBody): PreparedRecord {
    try {
      const parsed = parseEvent(body.bytes, this.schemas, this.maxBodyBytes);
      return { body, parsed, dedupeKey: `${parsed.type}#${parsed.key}` };
    } catch (error) {
      return { body, error: error as Error };
    }
  }

  private async process(
    record: PreparedRecord,
    settled: Map<string, 'done' | 'failed'>,
    lambdaContext: Context,
  ): Promise<void> {
    const { body, parsed, dedupeKey } = record;
    const context = this.recordContext(body.source, parsed, lambdaContext);
    if (!parsed || !dedupeKey) return this.deadLetter(body, record.error as Error, context.logger);

    const earlier = settled.get(dedupeKey);
    if (earlier === 'done') return this.count(RECORD_METRIC_NAMES.duplicate);
    if (earlier === 'failed') throw new DuplicateOfFailedRecordError(parsed.key);

    const idempotent = this.handlers.get(parsed.type) as IdempotentHandler;
    try {
      const remainingMs = lambdaContext.getRemainingTimeInMillis();
      if (remainingMs < MIN_REMAINING_MS_TO_START) throw new OutOfTimeError(remainingMs);
      const ranNow = await this.applyWhenFree(idempotent, parsed.event, context);
      settled.set(dedupeKey, 'done');
      this.count(ranNow ? RECORD_METRIC_NAMES.processed : RECORD_METRIC_NAMES.duplicate);
      if (ranNow) {
        this.metrics.addMetric(
          RECORD_METRIC_NAMES.recordAge,
          MetricUnit.Milliseconds,
          Date.now() - body.source.arrivedAtMs,
        );
      }
    } catch (error) {
      if (isPermanent(error)) {
        settled.set(dedupeKey, 'done');
        return this.deadLetter(body, error as Error, context.logger);
      }
      settled.set(dedupeKey, 'failed');
      this.count(RECORD_METRIC_NAMES.failed);
      context.logger.error('Record failed; the platform will retry it', { error: error as Error });
      throw error;
    }
  }

  /**
   * Applies the event; while another invocation holds its key in progress, waits for it a little (it usually
   * completes within moments) instead of failing at once, which would send the record back for a whole visibility
   * timeout. Gives up, leaving the record to the platform's retry, before the invocation runs short of time.
   */
  private async applyWhenFree(
    idempotent: IdempotentHandler,
    event: Record<string, unknown>,
    context: RecordContext,
  ): Promise<boolean> {
    for (let delayMs = 50; ; delayMs *= 2) {
      try {
        return await idempotent.apply(event, context);
      } catch (error) {
        const timeLeft = context.lambdaContext.getRemainingTimeInMillis();
        if (!(error instanceof IdempotencyAlreadyInProgressError) || delayMs > 1_600 || timeLeft < delayMs + 5_000)
          throw error;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  private async deadLetter(body: RecordBody, reason: Error, logger: Logger): Promise<void> {
    try {
      // A failed lookup fails the record (the platform retries it): sending blind could leave a second dead letter.
      if (await this.deadLettered.has(body.source)) {
        // Delivered again after its dead letter was sent (its batch was retried): one DLQ entry is enough.
        this.count(RECORD_METRIC_NAMES.duplicate);
        logger.info('Record was dead-lettered before; not sent again', { reason: `${reason.name}: ${reason.message}` });
        return;
      }
      await this.deadLetters.send(body.bytes, body.source, reason);
    } catch (sendError) {
      this.count(RECORD_METRIC_NAMES.failed);
      logger.error('Record could not be dead-lettered; the platform will retry it', {
        reason: reason.message,
        error: sendError as Error,
      });
      throw sendError;
    }
    this.count(RECORD_METRIC_NAMES.invalid);
    logger.warn('Record sent to the dead-letter queue', { reason: `${reason.name}: ${reason.message}` });
    // Not marked: a later delivery sends one more dead letter. Better than failing a record that was sent.
    await this.deadLettered
      .mark(body.source)
      .catch((error: Error) =>
        logger.warn('Dead-lettered record could not be marked; a redelivery would dead-letter it again', { error }),
      );
  }

  private recordContext(source: RecordSource, parsed: ParsedEvent | undefined, lambdaContext: Context): RecordContext {
    const correlationId = parsed?.event[this.correlationIdField] ?? source.id;
    let logger: Logger | undefined;
    const parent = this.logger;
    return {
      source,
      lambdaContext,
      // Created on first use: most records never log.
      get logger() {
        logger ??= parent.createChild({
          persistentKeys: { correlation_id: String(correlationId), record: { ...source } },
        });
        return logger;
      },
    };
  }

  private count(metricName: string): void {
    this.metrics.addMetric(metricName, MetricUnit.Count, 1);
  }

  private makeIdempotentHandler(
    type: string,
    handler: EventHandler,
    tableName: string,
    consumerName: string,
    options: ConsumerOptions,
    dynamoDBClient: DynamoDBClient,
  ): IdempotentHandler {
    // One persistence layer per idempotent function: sharing one between functions with different configs
    // silently turns idempotency off.
    const persistenceStore = new DynamoDBPersistenceLayer({
      tableName,
      awsSdkV3Client: dynamoDBClient,
    });
    const config = new IdempotencyConfig({
      eventKeyJmesPath: handler.idempotencyKey,
      throwOnNoIdempotencyKey: true,
      expiresAfterSeconds: handler.expiresAfterSeconds ?? 86_400,
      useLocalCache: options.useLocalCache ?? true,
    });
    const ranNow = new WeakSet<RecordContext>();
    const applyOnce = makeIdempotent(
      async (event: Record<string, unknown>, context: RecordContext) => {
        ranNow.add(context);
        await handler.handle(event, context);
        return true;
      },
      {
        persistenceStore,
        config,
        // The consumer and event type in every key, so two consumers (or types) never share a record; the
        // constructs grant each function only the keys that start with its consumer name.
        keyPrefix: `${consumerName}.${type}`,
      },
    );
    return {
      handler,
      config,
      apply: async (event, context) => {
        await applyOnce(event, context);
        return ranNow.has(context);
      },
    };
  }
}

/**
 * Kinesis ordering groups: records of one partition key stay in one group, in order; and a partition key is
 * merged with every other key that shares an idempotency key with it, so the first of two duplicates always
 * runs before the second in the same group (never in two groups waiting on each other).
 */
function orderingGroups(
  records: KinesisStreamRecord[],
  prepared: Map<string, PreparedRecord>,
): (record: BatchRecord) => string {
  const parent = new Map<string, string>();
  const find = (node: string): string => {
    let root = node;
    while (parent.get(root) !== root) root = parent.get(root) ?? root;
    parent.set(node, root);
    return root;
  };
  const add = (node: string) => {
    if (!parent.has(node)) parent.set(node, node);
  };
  for (const record of records) {
    const partition = `p:${record.kinesis.partitionKey}`;
    add(partition);
    const dedupeKey = prepared.get(recordKey(record))?.dedupeKey;
    if (dedupeKey) {
      add(`k:${dedupeKey}`);
      parent.set(find(`k:${dedupeKey}`), find(partition));
    }
  }
  return (record) => find(`p:${(record as KinesisStreamRecord).kinesis.partitionKey}`);
}

function isPermanent(error: unknown): boolean {
  return (
    error instanceof PermanentError ||
    error instanceof IdempotencyKeyError ||
    (error instanceof Error && error.cause instanceof PermanentError)
  );
}

/** Reads a variable the constructs set, failing loudly at cold start when it is missing. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`The environment variable ${name} is not set`);
  return value;
}
