import { EventType, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { BatchConsumer, type BatchRecord, type PreparedRecord } from './batch-consumer';
import type { ConsumerOptions } from './consumer-config';
import { KeyedBatchProcessor } from './keyed-batch-processor';
import { readKinesisRecord, readSqsRecord, recordKey } from './records';

/**
 * How many records of one key are under way at once: the next record takes its idempotency key while the one before
 * it applies its effect and completes; effects still apply one after another. Two measured fastest: records further
 * ahead queue their keys' writes in front of the effects the key is waiting for.
 */
const RECORDS_IN_FLIGHT_PER_KEY = 2;

/** A Lambda handler for SQS events with partial batch responses. */
export type QueueBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
/** A Lambda handler for Kinesis events with partial batch responses. */
export type StreamBatchHandler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

/**
 * Turns event handlers into an SQS batch consumer. Standard queues: records with different idempotency keys run in
 * parallel (bounded). FIFO queues (detected from the queue ARN): Powertools' FIFO processor, in order, a message
 * group stopping at its first failure.
 *
 * Call it at module scope: it reads the environment (idempotency table, key prefix, dead-letter queue) once, and
 * throws there when a variable is missing.
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
        processor: standard.groupBy((record) => dedupeKeyIn(prepared, record) ?? recordKey(record), {
          recordsInFlight: RECORDS_IN_FLIGHT_PER_KEY,
        }),
      };
    }) as Promise<SQSBatchResponse>;
  };
}

/**
 * Turns event handlers into a Kinesis batch consumer: records with the same partition key apply their effects one
 * after another in arrival order (the next one taking its idempotency key meanwhile); different partition keys run
 * in parallel (bounded). After a failure, the rest of that key's records apply nothing and are reported failed
 * with it, and the response names the failed sequence numbers.
 *
 * Call it at module scope: it reads the environment (idempotency table, key prefix, failure queue) once, and
 * throws there when a variable is missing.
 */
export function createStreamConsumer(options: ConsumerOptions): StreamBatchHandler {
  const consumer = new BatchConsumer(options);
  const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, consumer.maxConcurrency);
  return async (event, context) =>
    consumer.run(event.Records, readKinesisRecord, context, (prepared) => ({
      processor: processor.groupBy(orderingGroups(event.Records, prepared), {
        recordsInFlight: RECORDS_IN_FLIGHT_PER_KEY,
      }),
    })) as Promise<KinesisStreamBatchResponse>;
}

/** The in-batch dedupe key of a record that passed its checks. */
function dedupeKeyIn(prepared: ReadonlyMap<string, PreparedRecord>, record: BatchRecord): string | undefined {
  const entry = prepared.get(recordKey(record));
  return entry && 'dedupeKey' in entry ? entry.dedupeKey : undefined;
}

/**
 * Kinesis ordering groups: records of one partition key stay in one group, in order; and a partition key is
 * merged with every other key that shares an idempotency key with it, so the first of two duplicates always
 * runs before the second in the same group (never in two groups waiting on each other).
 */
function orderingGroups(
  records: KinesisStreamRecord[],
  prepared: ReadonlyMap<string, PreparedRecord>,
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
    const dedupeKey = dedupeKeyIn(prepared, record);
    if (dedupeKey) {
      add(`k:${dedupeKey}`);
      parent.set(find(`k:${dedupeKey}`), find(partition));
    }
  }
  return (record) => find(`p:${(record as KinesisStreamRecord).kinesis.partitionKey}`);
}
