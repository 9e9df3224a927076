import { processPartialResponse, type SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamRecord,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { CONSUMER_ENVIRONMENT, DEFAULT_METRICS_NAMESPACE } from '../../contract';
import { type ConsumerOptions, resolveConsumerClients, resolveConsumerConfig } from './consumer-config';
import { DeadLetterLedger } from './dead-letter-ledger';
import { type DeadLetterOutcome, DeadLetterRouter } from './dead-letter-routing';
import { DeadLetterWriter } from './dead-letter-writer';
import {
  BlockedByEarlierFailureError,
  DuplicateOfFailedRecordError,
  isPermanentFailure,
  OutOfTimeError,
} from './errors';
import type { RecordContext } from './event-handler';
import { IdempotentHandlers } from './idempotent-handlers';
import { InBatchDedupe } from './in-batch-dedupe';
import { applyWhenKeyFree } from './in-progress-backoff';
import type { KeyedBatchProcessor, Turn } from './keyed-batch-processor';
import { createLogger } from './observability';
import { type ParsedEvent, parseEvent } from './parse';
import { RecordMetrics } from './record-metrics';
import { type RecordBody, type RecordSource, recordKey } from './records';

/**
 * A record is not started with less time than this left in the invocation: reported failed, it is retried by the
 * platform instead. Powertools gives an idempotency record no in-progress expiry when no time is left, so a
 * record started at the last moment and cut off by the timeout would lock its key until the record expires.
 */
export const MIN_REMAINING_MS_TO_START = 1_000;

/** The turn of a record whose processor runs one record of a group at a time: it waits for nothing. */
const NOW: Turn = () => Promise.resolve();

/** A record of an SQS or a Kinesis batch. */
export type BatchRecord = SQSRecord | KinesisStreamRecord;

/** A record after the checks that need no I/O: a parsed event, or the permanent error that stops it. */
export type PreparedRecord =
  | { readonly body: RecordBody; readonly parsed: ParsedEvent; readonly dedupeKey: string }
  | { readonly body: RecordBody; readonly error: Error };

/** The Powertools processor that runs one batch, and the options it needs. */
export interface BatchProcessing {
  /** The processor. */
  readonly processor: KeyedBatchProcessor | SqsFifoPartialProcessorAsync;
  /** Options for `processPartialResponse` (FIFO: `skipGroupOnError`). */
  readonly options?: object;
}

/**
 * One consumer's batches: checks each record, settles in-batch duplicates, applies each new key once through its
 * event type's idempotent handler (waiting a little while another invocation holds it), dead-letters what can never
 * succeed, reports the rest failed for the platform to retry, and counts each record's outcome.
 */
export class BatchConsumer {
  /** How many keys are processed at once. */
  public readonly maxConcurrency: number;
  private readonly maxBodyBytes: number;
  private readonly correlationIdField: string;
  private readonly logger: Logger;
  private readonly metrics: RecordMetrics;
  private readonly deadLetters: DeadLetterRouter;
  private readonly handlers: IdempotentHandlers;

  constructor(options: ConsumerOptions) {
    const config = resolveConsumerConfig(options);
    const clients = resolveConsumerClients(options);
    this.maxConcurrency = config.maxConcurrency;
    this.maxBodyBytes = config.maxBodyBytes;
    this.correlationIdField = config.correlationIdField;
    this.logger = options.logger ?? createLogger();
    // The constructs set the namespace; a function deployed otherwise still lands where the dashboards look.
    this.metrics = new RecordMetrics(
      options.metrics ??
        new Metrics({ namespace: process.env[CONSUMER_ENVIRONMENT.metricsNamespace] || DEFAULT_METRICS_NAMESPACE }),
    );
    this.deadLetters = new DeadLetterRouter(
      // Made on the first dead letter, from what was resolved now: the environment may have changed by then.
      () => new DeadLetterWriter(clients.sqs(), config.deadLetterQueueUrl, config.idempotencyKeyPrefix),
      new DeadLetterLedger(clients.dynamoDB, config.idempotencyTableName, config.idempotencyKeyPrefix),
    );
    this.handlers = new IdempotentHandlers(options.events, {
      tableName: config.idempotencyTableName,
      keyPrefix: config.idempotencyKeyPrefix,
      useLocalCache: config.useLocalCache,
      dynamoDBClient: clients.dynamoDB,
    });
  }

  /**
   * Processes one batch and returns its partial batch response.
   *
   * @param records - the batch's records.
   * @param read - reads a record's body and source.
   * @param context - the invocation's context.
   * @param choose - the processor for this batch, given each record prepared (by `recordKey`).
   */
  public async run<TRecord extends BatchRecord>(
    records: TRecord[],
    read: (record: TRecord) => RecordBody,
    context: Context,
    choose: (prepared: ReadonlyMap<string, PreparedRecord>) => BatchProcessing,
  ): Promise<SQSBatchResponse | KinesisStreamBatchResponse> {
    this.handlers.registerLambdaContext(context);
    this.logger.addContext(context);
    const prepared = new Map(records.map((record) => [recordKey(record), this.prepare(read(record))]));
    const dedupe = new InBatchDedupe(
      [...prepared].flatMap(([key, entry]) => ('dedupeKey' in entry ? [[key, entry.dedupeKey] as const] : [])),
    );
    const { processor, options } = choose(prepared);
    const turnOf = (record: BatchRecord): Turn => ('turnOf' in processor ? processor.turnOf(record) : NOW);
    try {
      return await processPartialResponse(
        { Records: records } as SQSEvent,
        (record: BatchRecord) => {
          const key = recordKey(record);
          return this.process(
            prepared.get(key) as PreparedRecord,
            dedupe.isFirst(key),
            dedupe,
            context,
            turnOf(record),
          );
        },
        processor,
        { context, throwOnFullBatchFailure: false, ...options } as never,
      );
    } finally {
      this.metrics.publish();
    }
  }

  private prepare(body: RecordBody): PreparedRecord {
    try {
      const parsed = parseEvent(body.bytes, this.handlers.schemas, this.maxBodyBytes);
      return { body, parsed, dedupeKey: dedupeKeyOf(parsed) };
    } catch (error) {
      return { body, error: error as Error };
    }
  }

  /**
   * Processes one record. `turn` resolves when the records before it in its ordering group succeeded (at once when
   * the processor runs them one after another): the record takes its idempotency key first, and waits for its turn
   * only to apply its effect, so the requests around effects overlap while the effects keep their order. A record
   * blocked by an earlier failure is reported failed, and neither counted nor logged: the failure it follows was.
   *
   * @param isFirst - whether the record is the first of its dedupe key in the batch; a later one follows its outcome.
   */
  private async process(
    record: PreparedRecord,
    isFirst: boolean,
    dedupe: InBatchDedupe,
    lambdaContext: Context,
    turn: Turn,
  ): Promise<void> {
    const { body } = record;
    if ('error' in record) {
      await turn();
      return this.deadLetter(body, record.error, this.recordContext(body.source, undefined, lambdaContext).logger);
    }
    const { parsed, dedupeKey } = record;
    const context = this.recordContext(body.source, parsed, lambdaContext);

    if (!isFirst) {
      // The first record of the key is in the same ordering group, before this one: settled once this turn comes.
      await turn();
      const earlier = dedupe.earlierOutcome(dedupeKey);
      if (earlier === 'done') return this.metrics.duplicate();
      if (earlier === 'failed') throw new DuplicateOfFailedRecordError(parsed.key);
    }

    try {
      const remainingMs = lambdaContext.getRemainingTimeInMillis();
      if (remainingMs < MIN_REMAINING_MS_TO_START) throw new OutOfTimeError(remainingMs);
      const ranNow = await applyWhenKeyFree(
        () => this.handlers.apply(parsed, context, turn),
        () => lambdaContext.getRemainingTimeInMillis(),
      );
      // Applied by an earlier invocation, it did not wait in its handler: it is reported in its turn all the same.
      if (!ranNow) await turn();
      dedupe.settle(dedupeKey, 'done');
      if (ranNow) this.metrics.processed(body.source.arrivedAtMs);
      else this.metrics.duplicate();
    } catch (error) {
      if (error instanceof BlockedByEarlierFailureError) {
        dedupe.settle(dedupeKey, 'failed');
        throw error;
      }
      if (isPermanentFailure(error)) {
        dedupe.settle(dedupeKey, 'done');
        return this.deadLetter(body, error as Error, context.logger);
      }
      dedupe.settle(dedupeKey, 'failed');
      this.metrics.failed();
      context.logger.error('Record failed; the platform will retry it', { error: error as Error });
      throw error;
    }
  }

  private async deadLetter(body: RecordBody, reason: Error, logger: Logger): Promise<void> {
    let outcome: DeadLetterOutcome;
    try {
      outcome = await this.deadLetters.route(body, reason, logger);
    } catch (error) {
      this.metrics.failed();
      throw error;
    }
    if (outcome === 'sent-before') this.metrics.duplicate();
    else this.metrics.invalid();
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
}

/** The key of a record's effect within a batch: its event type and idempotency key. */
function dedupeKeyOf(parsed: ParsedEvent): string {
  return `${parsed.type}#${parsed.key}`;
}
