import { BatchProcessor, type EventType } from '@aws-lambda-powertools/batch';
import type { FailureResponse, SuccessResponse } from '@aws-lambda-powertools/batch/types';
import type { KinesisStreamRecord, SQSRecord } from 'aws-lambda';
import { BlockedByEarlierFailureError } from './errors';

type BatchRecord = SQSRecord | KinesisStreamRecord;

/**
 * A Powertools batch processor that keeps order where it matters and runs everything else in parallel: records
 * with the same group key run one after another in arrival order; groups run in parallel, at most
 * `maxConcurrency` at a time. After a record fails, the rest of its group is not attempted and is reported failed,
 * so a retry never applies a later record of a key before an earlier one.
 *
 * Powertools offers all-parallel (which breaks per-key order) or all-sequential (which waits on every record);
 * this sits between them.
 */
export class KeyedBatchProcessor extends BatchProcessor {
  private groupOf: (record: BatchRecord) => string = () => '';

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
  public groupBy(groupOf: (record: BatchRecord) => string): this {
    this.groupOf = groupOf;
    return this;
  }

  public override async process(): Promise<(SuccessResponse | FailureResponse)[]> {
    this.prepare();
    const records = this.records as BatchRecord[];
    const groups = new Map<string, number[]>();
    records.forEach((record, index) => {
      const key = this.groupOf(record);
      const group = groups.get(key);
      if (group) group.push(index);
      else groups.set(key, [index]);
    });

    const results: (SuccessResponse | FailureResponse)[] = new Array(records.length);
    await forEachConcurrently([...groups], this.maxConcurrency, async ([key, indexes]) => {
      let failed = false;
      for (const index of indexes) {
        const record = records[index];
        if (failed) {
          results[index] = this.failureHandler(record, new BlockedByEarlierFailureError(key));
          continue;
        }
        results[index] = await this.processRecord(record);
        failed = results[index][0] === 'fail';
      }
    });
    this.clean();
    return results;
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
