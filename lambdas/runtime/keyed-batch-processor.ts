import { BatchProcessor, type EventType } from '@aws-lambda-powertools/batch';
import type { FailureResponse, SuccessResponse } from '@aws-lambda-powertools/batch/types';
import type { KinesisStreamRecord, SQSRecord } from 'aws-lambda';
import { BlockedByEarlierFailureError } from './errors';

type BatchRecord = SQSRecord | KinesisStreamRecord;
type RecordResult = SuccessResponse | FailureResponse;

/**
 * A record's turn in its group: resolves once every earlier record of the group succeeded, and rejects with
 * `BlockedByEarlierFailureError` as soon as one of them failed.
 */
export type Turn = () => Promise<void>;

/** The turn of a record not in the batch being processed: it waits for nothing. */
const NOW: Turn = () => Promise.resolve();

/** How the next batch is grouped. */
export interface GroupingOptions {
  /**
   * How many records of one group are started at once. With 1, a record starts when the one before it settled,
   * and the handler needs to know nothing of order. With more, the next records start early: their handler must
   * await its `turnOf(record)` before it applies the record's effect, and may do what needs no order before
   * (such as taking the record's idempotency lock). An integer of 1 or more.
   *
   * @default 1
   */
  readonly recordsInFlight?: number;
}

/**
 * A Powertools batch processor that keeps order where it matters and runs everything else in parallel: records
 * with the same group key apply their effects one after another in arrival order; groups run in parallel, at most
 * `maxConcurrency` at a time. After a record fails, no later record of its group applies its effect, and each is
 * reported failed with `BlockedByEarlierFailureError`, so a retry never applies a later record of a key before an
 * earlier one. Failures are reported in arrival order.
 *
 * Powertools offers all-parallel (which breaks per-key order) or all-sequential (which waits on every record);
 * this sits between them.
 */
export class KeyedBatchProcessor extends BatchProcessor {
  private groupOf: (record: BatchRecord) => string = () => '';
  private recordsInFlight = 1;
  private turns = new WeakMap<BatchRecord, Turn>();

  constructor(
    eventType: keyof typeof EventType,
    private readonly maxConcurrency: number,
  ) {
    super(eventType);
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
      throw new Error(`maxConcurrency must be an integer of 1 or more, got ${maxConcurrency}`);
    }
  }

  /** Sets how the next batch is grouped. Call before `processPartialResponse`. */
  public groupBy(groupOf: (record: BatchRecord) => string, options: GroupingOptions = {}): this {
    const recordsInFlight = options.recordsInFlight ?? 1;
    if (!Number.isInteger(recordsInFlight) || recordsInFlight < 1) {
      throw new Error(`recordsInFlight must be an integer of 1 or more, got ${recordsInFlight}`);
    }
    this.groupOf = groupOf;
    this.recordsInFlight = recordsInFlight;
    return this;
  }

  /** The turn of a record of the batch being processed: what its handler awaits before the record's effect. */
  public turnOf(record: BatchRecord): Turn {
    return this.turns.get(record) ?? NOW;
  }

  public override async process(): Promise<RecordResult[]> {
    this.prepare();
    const records = this.records as BatchRecord[];
    const groups = new Map<string, number[]>();
    records.forEach((record, index) => {
      const key = this.groupOf(record);
      const group = groups.get(key);
      if (group) group.push(index);
      else groups.set(key, [index]);
    });

    this.turns = new WeakMap();
    const results: RecordResult[] = new Array(records.length);
    await forEachConcurrently([...groups], this.maxConcurrency, ([key, indexes]) =>
      this.processGroup(key, indexes, records, results),
    );
    this.reportInArrivalOrder(records);
    this.clean();
    return results;
  }

  /**
   * Up to `recordsInFlight` records at once, started in arrival order, each given a turn that opens when every
   * record before it succeeded: the requests around an effect (its idempotency lock before, for one) overlap the
   * effects of the records before it, and only the effects wait on each other. A record not yet started when an
   * earlier one has failed is not attempted at all. With one record in flight, each starts when the one before it
   * settled, and its turn is open from the start.
   */
  private async processGroup(
    key: string,
    indexes: readonly number[],
    records: readonly BatchRecord[],
    results: RecordResult[],
  ): Promise<void> {
    const turns = new GroupTurns(key, indexes.length);
    for (const [position, index] of indexes.entries()) this.turns.set(records[index], () => turns.turn(position));
    await forEachConcurrently([...indexes.keys()], this.recordsInFlight, async (position) => {
      const index = indexes[position];
      const record = records[index];
      const result = turns.failedBefore(position)
        ? this.failureHandler(record, new BlockedByEarlierFailureError(key))
        : await this.processRecord(record);
      results[index] = result;
      turns.settle(position, result[0] === 'success');
    });
  }

  /** Orders the failures (and their errors) as their records arrived, whatever order they settled in. */
  private reportInArrivalOrder(records: readonly BatchRecord[]): void {
    const failures = this.failureMessages;
    if (failures.length < 2) return;
    const position = new Map<BatchRecord, number>(records.map((record, index) => [record, index]));
    const errors = this.errors;
    const pairs = failures.map((record, i) => ({ record: record as BatchRecord, error: errors[i] }));
    pairs.sort((a, b) => (position.get(a.record) ?? 0) - (position.get(b.record) ?? 0));
    this.failureMessages = pairs.map((pair) => pair.record) as typeof failures;
    this.errors = pairs.map((pair) => pair.error);
  }
}

/** Runs `task` over `items` with at most `limit` running at once; rejects with the first error. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The turns of one group's records, by position in the group: a record's turn opens once every record before it
 * succeeded, and fails as soon as one of them failed. One pending promise per waiting record, no chain per record.
 */
class GroupTurns {
  /** How many records from the start of the group succeeded without a gap: every turn up to this one is open. */
  private open = 0;
  /** The position of the earliest failure so far. */
  private firstFailure = Number.POSITIVE_INFINITY;
  private readonly succeeded: boolean[];
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  constructor(
    private readonly key: string,
    size: number,
  ) {
    this.succeeded = new Array(size).fill(false);
  }

  /** Resolves when every record before `position` succeeded; rejects when one of them failed. */
  public turn(position: number): Promise<void> {
    if (this.firstFailure < position) return Promise.reject(new BlockedByEarlierFailureError(this.key));
    if (this.open >= position) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiting.set(position, { resolve, reject }));
  }

  /** Whether a record before `position` failed. */
  public failedBefore(position: number): boolean {
    return this.firstFailure < position;
  }

  /** Records how the record at `position` ended, and opens or fails the turns that waited on it. */
  public settle(position: number, success: boolean): void {
    if (!success) {
      if (position >= this.firstFailure) return;
      this.firstFailure = position;
      for (const [waiter, { reject }] of this.waiting) {
        if (waiter <= position) continue;
        this.waiting.delete(waiter);
        reject(new BlockedByEarlierFailureError(this.key));
      }
      return;
    }
    this.succeeded[position] = true;
    while (this.open < this.succeeded.length && this.succeeded[this.open]) this.open++;
    // Only the turn at `open` can have waited on this: every one before it already opened.
    const next = this.waiting.get(this.open);
    if (next && this.firstFailure > this.open) {
      this.waiting.delete(this.open);
      next.resolve();
    }
  }
}
