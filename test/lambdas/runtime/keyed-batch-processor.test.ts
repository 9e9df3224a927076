import { setTimeout as delay } from 'node:timers/promises';
import { EventType, FullBatchFailureError, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { KinesisStreamRecord, SQSRecord } from 'aws-lambda';
import { describe, expect, test } from 'vitest';
import { BlockedByEarlierFailureError } from '../../../lambdas/runtime/errors';
import { forEachConcurrently, KeyedBatchProcessor, type Turn } from '../../../lambdas/runtime/keyed-batch-processor';
import { kinesisEvent, kinesisRecord, lambdaContext, sqsEvent, sqsRecord } from '../../helpers/records';

/** Records what a record handler does: each call's start and end, and how many ran at once. */
class HandlerLog {
  public readonly events: string[] = [];
  public readonly calls: string[] = [];
  public maxRunning = 0;
  private running = 0;

  /** A handler that takes `ms` (in small async steps) for each record and fails the ones `fails` names. */
  public handler<T>(idOf: (record: T) => string, ms = 10, fails: (id: string) => boolean = () => false) {
    return async (record: T) => {
      const id = idOf(record);
      this.calls.push(id);
      this.events.push(`start ${id}`);
      this.running++;
      this.maxRunning = Math.max(this.maxRunning, this.running);
      try {
        await delay(ms);
        if (fails(id)) throw new Error(`handler failed on ${id}`);
      } finally {
        this.running--;
        this.events.push(`end ${id}`);
      }
    };
  }

  /** The calls of one group, in call order. */
  public callsOf(prefix: string): string[] {
    return this.calls.filter((id) => id.startsWith(prefix));
  }

  /** Whether `later` started only after `earlier` ended. */
  public startedAfterEnd(earlier: string, later: string): boolean {
    const end = this.events.indexOf(`end ${earlier}`);
    const start = this.events.indexOf(`start ${later}`);
    return end >= 0 && start > end;
  }
}

/** A Kinesis record whose data is its id, e.g. `A2`; its partition key is the letter. */
function keyed(id: string): KinesisStreamRecord {
  return kinesisRecord(id, { partitionKey: id[0] });
}

const dataOf = (record: KinesisStreamRecord) => Buffer.from(record.kinesis.data, 'base64').toString('utf8');
const byPartitionKey = (record: SQSRecord | KinesisStreamRecord) =>
  'kinesis' in record ? record.kinesis.partitionKey : '';

/** Arrival order of three groups, interleaved as a shard delivers them. */
const INTERLEAVED = ['A1', 'B1', 'C1', 'A2', 'B2', 'A3', 'C2', 'B3', 'C3'];

/** Checks that the calls of the group `prefix` are `group`, each started after the one before it ended. */
function expectGroupOrder(log: HandlerLog, prefix: string, group: string[]) {
  expect(log.callsOf(prefix)).toEqual(group);
  for (let i = 1; i < group.length; i++) {
    expect(log.startedAfterEnd(group[i - 1], group[i]), `${group[i]} started after ${group[i - 1]} ended`).toBe(true);
  }
}

describe('KeyedBatchProcessor over a Kinesis batch', () => {
  test('runs the records of one group in arrival order while groups overlap, up to maxConcurrency', async () => {
    // GIVEN three partition keys interleaved in one batch, and at most 2 groups at a time
    const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, 2).groupBy(byPartitionKey);
    const log = new HandlerLog();

    // WHEN the batch is processed
    const response = await processPartialResponse(
      kinesisEvent(INTERLEAVED.map(keyed)),
      log.handler(dataOf),
      processor,
      { context: lambdaContext() },
    );

    // THEN every record ran once, each group in arrival order, one record of a group at a time
    expect(response).toEqual({ batchItemFailures: [] });
    expect([...log.calls].sort()).toEqual([...INTERLEAVED].sort());
    expectGroupOrder(log, 'A', ['A1', 'A2', 'A3']);
    expectGroupOrder(log, 'B', ['B1', 'B2', 'B3']);
    expectGroupOrder(log, 'C', ['C1', 'C2', 'C3']);
    // AND groups overlapped in time, never more than two at once
    expect(log.maxRunning).toBe(2);
  });

  test('never runs more groups at once than maxConcurrency, however many groups there are', async () => {
    // GIVEN 8 groups of 2 records and a limit of 3
    const ids = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'].flatMap((key) => [`${key}1`, `${key}2`]);
    const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, 3).groupBy(byPartitionKey);
    const log = new HandlerLog();

    // WHEN processed
    await processPartialResponse(kinesisEvent(ids.map(keyed)), log.handler(dataOf, 5), processor);

    // THEN exactly 3 ran at once at the peak
    expect(log.calls).toHaveLength(16);
    expect(log.maxRunning).toBe(3);
  });

  test('after a record fails, skips the rest of its group and reports them by sequence number', async () => {
    // GIVEN a batch where A2 fails
    const records = INTERLEAVED.map(keyed);
    const sequenceOf = (id: string) => records[INTERLEAVED.indexOf(id)].kinesis.sequenceNumber;
    const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, 3).groupBy(byPartitionKey);
    const log = new HandlerLog();

    // WHEN processed
    const response = await processPartialResponse(
      kinesisEvent(records),
      log.handler(dataOf, 5, (id) => id === 'A2'),
      processor,
    );

    // THEN A3 was never called, A2 and A3 are reported failed, and the other groups completed
    expect(log.callsOf('A')).toEqual(['A1', 'A2']);
    expect(log.callsOf('B')).toEqual(['B1', 'B2', 'B3']);
    expect(log.callsOf('C')).toEqual(['C1', 'C2', 'C3']);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      [sequenceOf('A2'), sequenceOf('A3')].sort(),
    );
    // AND A3 failed because A2 did, not by itself
    expect(processor.errors.map((error) => error.message).sort()).toEqual([
      'handler failed on A2',
      new BlockedByEarlierFailureError('A').message,
    ]);
    expect(processor.errors.some((error) => error instanceof BlockedByEarlierFailureError)).toBe(true);
  });

  test('reports every record of a group whose first record fails, and runs none after it', async () => {
    // GIVEN one group whose first record fails
    const ids = ['A1', 'A2', 'A3', 'A4'];
    const records = ids.map(keyed);
    const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, 4).groupBy(byPartitionKey);
    const log = new HandlerLog();

    // WHEN processed, asking Powertools not to throw on a batch that failed entirely
    const response = await processPartialResponse(
      kinesisEvent(records),
      log.handler(dataOf, 1, (id) => id === 'A1'),
      processor,
      { throwOnFullBatchFailure: false },
    );

    // THEN only A1 ran and all four are reported
    expect(log.calls).toEqual(['A1']);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      records.map((record) => record.kinesis.sequenceNumber).sort(),
    );
  });

  test('lets Powertools throw when every record failed, by default', async () => {
    // GIVEN one group whose first record fails, WHEN processed with the default options
    const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, 2).groupBy(byPartitionKey);
    const log = new HandlerLog();
    const processing = processPartialResponse(
      kinesisEvent(['A1', 'A2'].map(keyed)),
      log.handler(dataOf, 1, () => true),
      processor,
    );

    // THEN the whole batch fails, and A2 was still not attempted
    await expect(processing).rejects.toBeInstanceOf(FullBatchFailureError);
    expect(log.calls).toEqual(['A1']);
  });

  test('with maxConcurrency 1 runs everything sequentially, group after group', async () => {
    // GIVEN a limit of one
    const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, 1).groupBy(byPartitionKey);
    const log = new HandlerLog();

    // WHEN the interleaved batch is processed
    await processPartialResponse(kinesisEvent(INTERLEAVED.map(keyed)), log.handler(dataOf, 2), processor);

    // THEN one record ran at a time: each group in full, in the order groups first appear
    expect(log.maxRunning).toBe(1);
    const expected = ['A1', 'A2', 'A3', 'B1', 'B2', 'B3', 'C1', 'C2', 'C3'];
    expect(log.calls).toEqual(expected);
    for (let i = 1; i < expected.length; i++) expect(log.startedAfterEnd(expected[i - 1], expected[i])).toBe(true);
  });

  test('runs the next batch afresh: a failure in one batch does not block the same group in the next', async () => {
    // GIVEN a processor reused across invocations, as at module scope
    const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, 2).groupBy(byPartitionKey);
    const first = new HandlerLog();
    await processPartialResponse(
      kinesisEvent(['A1', 'A2', 'B1'].map(keyed)),
      first.handler(dataOf, 1, (id) => id === 'A1'),
      processor,
    );

    // WHEN the next batch holds the same group
    const second = new HandlerLog();
    const response = await processPartialResponse(
      kinesisEvent(['A1', 'A2', 'B1'].map(keyed)),
      second.handler(dataOf, 1),
      processor,
    );

    // THEN it runs in full
    expect(second.calls).toHaveLength(3);
    expect(response).toEqual({ batchItemFailures: [] });
  });
});

describe('KeyedBatchProcessor over an SQS batch', () => {
  test('reports the failed record and the rest of its group by message ID; other groups complete', async () => {
    // GIVEN SQS records of two customers, the second record of customer 1 failing
    const ids = ['c1-1', 'c2-1', 'c1-2', 'c2-2', 'c1-3', 'c2-3'];
    const records = ids.map((id) => sqsRecord(id, { messageId: `m-${id}` }));
    const processor = new KeyedBatchProcessor(EventType.SQS, 4).groupBy((record) =>
      'body' in record ? record.body.split('-')[0] : '',
    );
    const log = new HandlerLog();

    // WHEN processed
    const response = await processPartialResponse(
      sqsEvent(records),
      log.handler(
        (record: SQSRecord) => record.body,
        5,
        (id) => id === 'c1-2',
      ),
      processor,
    );

    // THEN c1-3 was not called, c1-2 and c1-3 are reported by message ID, and customer 2 completed in order
    expect(log.callsOf('c1')).toEqual(['c1-1', 'c1-2']);
    expectGroupOrder(log, 'c2', ['c2-1', 'c2-2', 'c2-3']);
    expect(log.maxRunning).toBe(2);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(['m-c1-2', 'm-c1-3']);
  });

  test('without groupBy runs the whole batch as one group, in arrival order', async () => {
    // GIVEN a processor never told how to group
    const processor = new KeyedBatchProcessor(EventType.SQS, 4);
    const log = new HandlerLog();
    const ids = ['x', 'y', 'z'];

    // WHEN processed
    await processPartialResponse(
      sqsEvent(ids.map((id) => sqsRecord(id))),
      log.handler((record: SQSRecord) => record.body, 2),
      processor,
    );

    // THEN one at a time, in order
    expect(log.calls).toEqual(ids);
    expect(log.maxRunning).toBe(1);
  });
});

/**
 * A handler for a processor with records in flight, in two steps as the consumers' are: `before` (an idempotency
 * lock: no order needed) for `beforeMs`, then its turn, then `effect` for `effectMs`, failing where `fails` says.
 */
function turnTakingHandler(
  processor: KeyedBatchProcessor,
  log: string[],
  options: { beforeMs?: number | ((id: string) => number); effectMs?: number; fails?: (id: string) => boolean } = {},
) {
  let effectsRunning = 0;
  const state = { maxEffectsRunning: 0, inHandler: 0, maxInHandler: 0 };
  const handler = async (record: KinesisStreamRecord) => {
    const id = dataOf(record);
    const turn: Turn = processor.turnOf(record);
    state.inHandler++;
    state.maxInHandler = Math.max(state.maxInHandler, state.inHandler);
    try {
      log.push(`before ${id}`);
      const beforeMs = typeof options.beforeMs === 'function' ? options.beforeMs(id) : (options.beforeMs ?? 5);
      await delay(beforeMs);
      await turn();
      log.push(`effect ${id}`);
      effectsRunning++;
      state.maxEffectsRunning = Math.max(state.maxEffectsRunning, effectsRunning);
      await delay(options.effectMs ?? 5);
      effectsRunning--;
      if (options.fails?.(id)) throw new Error(`handler failed on ${id}`);
      log.push(`done ${id}`);
    } finally {
      state.inHandler--;
    }
  };
  return { handler, state };
}

describe('KeyedBatchProcessor with records in flight', () => {
  test('starts the next records of a group early, and applies their effects in arrival order', async () => {
    // GIVEN one group of four records, all in flight at once, whose first step takes longest for the first record
    const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, 2).groupBy(byPartitionKey, {
      recordsInFlight: 4,
    });
    const log: string[] = [];
    const { handler, state } = turnTakingHandler(processor, log, { beforeMs: (id) => (id === 'A1' ? 30 : 1) });

    // WHEN processed
    const response = await processPartialResponse(
      kinesisEvent(['A1', 'A2', 'A3', 'A4'].map(keyed)),
      handler,
      processor,
    );

    // THEN every record began its first step before A1 finished its own
    expect(response).toEqual({ batchItemFailures: [] });
    expect(log.slice(0, 4)).toEqual(['before A1', 'before A2', 'before A3', 'before A4']);
    // AND the effects ran one at a time, each after the one before it was done
    expect(log.filter((line) => !line.startsWith('before'))).toEqual(
      ['A1', 'A2', 'A3', 'A4'].flatMap((id) => [`effect ${id}`, `done ${id}`]),
    );
    expect(state.maxEffectsRunning).toBe(1);
  });

  test('never has more records of a group under way than recordsInFlight', async () => {
    // GIVEN one group of six records, two in flight
    const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, 1).groupBy(byPartitionKey, {
      recordsInFlight: 2,
    });
    const log: string[] = [];
    const ids = ['A1', 'A2', 'A3', 'A4', 'A5', 'A6'];
    const { handler, state } = turnTakingHandler(processor, log);

    // WHEN processed
    await processPartialResponse(kinesisEvent(ids.map(keyed)), handler, processor);

    // THEN at most two were in the handler at once, and the effects kept their order
    expect(state.maxInHandler).toBe(2);
    expect(log.filter((line) => line.startsWith('effect'))).toEqual(ids.map((id) => `effect ${id}`));
  });

  test('after a failure, applies no later effect of the group and reports the rest blocked, in arrival order', async () => {
    // GIVEN two interleaved groups, A2 failing, three records of a group in flight
    const ids = ['A1', 'B1', 'A2', 'B2', 'A3', 'B3', 'A4', 'A5'];
    const records = ids.map(keyed);
    const sequenceOf = (id: string) => records[ids.indexOf(id)].kinesis.sequenceNumber;
    const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, 2).groupBy(byPartitionKey, {
      recordsInFlight: 3,
    });
    const log: string[] = [];
    const { handler } = turnTakingHandler(processor, log, { fails: (id) => id === 'A2' });

    // WHEN processed
    const response = await processPartialResponse(kinesisEvent(records), handler, processor);

    // THEN no effect of A after A2's, B complete
    expect(log.filter((line) => line.startsWith('effect A'))).toEqual(['effect A1', 'effect A2']);
    expect(log.filter((line) => line.startsWith('done B'))).toEqual(['done B1', 'done B2', 'done B3']);
    // AND A2 to A5 are reported, in arrival order, A3 to A5 as blocked by A2
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(
      ['A2', 'A3', 'A4', 'A5'].map(sequenceOf),
    );
    expect(processor.errors.map((error) => error.message)).toEqual([
      'handler failed on A2',
      ...Array.from({ length: 3 }, () => new BlockedByEarlierFailureError('A').message),
    ]);
    // AND A5, not yet started when A2 failed, never reached the handler
    expect(log).not.toContain('before A5');
  });

  test('reports a record that fails before its turn, and blocks the records after it', async () => {
    // GIVEN A3 failing in its first step (as a failed idempotency lock would), while A1 takes long
    const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, 1).groupBy(byPartitionKey, {
      recordsInFlight: 4,
    });
    const log: string[] = [];
    const handler = async (record: KinesisStreamRecord) => {
      const id = dataOf(record);
      if (id === 'A3') throw new Error('lock failed on A3');
      await delay(id === 'A1' ? 20 : 1);
      await processor.turnOf(record)();
      log.push(`effect ${id}`);
    };

    // WHEN processed
    const response = await processPartialResponse(
      kinesisEvent(['A1', 'A2', 'A3', 'A4'].map(keyed)),
      handler,
      processor,
    );

    // THEN A1 and A2 applied, in order; A3 failed and A4 was blocked by it
    expect(log).toEqual(['effect A1', 'effect A2']);
    expect(response.batchItemFailures).toHaveLength(2);
    expect(processor.errors.map((error) => error.message)).toEqual([
      'lock failed on A3',
      new BlockedByEarlierFailureError('A').message,
    ]);
  });

  test('gives a record processed one at a time a turn that is already open', async () => {
    // GIVEN the default, one record of a group at a time
    const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, 1).groupBy(byPartitionKey);
    const log: string[] = [];
    const { handler } = turnTakingHandler(processor, log);

    // WHEN processed, THEN every turn opened at once and the records ran in order
    await processPartialResponse(kinesisEvent(['A1', 'A2'].map(keyed)), handler, processor);
    expect(log).toEqual(['before A1', 'effect A1', 'done A1', 'before A2', 'effect A2', 'done A2']);
  });

  test.each([0, -1, 2.5, Number.NaN])('fails when recordsInFlight is %s', (recordsInFlight) => {
    const processor = new KeyedBatchProcessor(EventType.KinesisDataStreams, 1);
    expect(() => processor.groupBy(byPartitionKey, { recordsInFlight })).toThrow(
      new Error(`recordsInFlight must be an integer of 1 or more, got ${recordsInFlight}`),
    );
  });
});

describe('KeyedBatchProcessor constructor', () => {
  test.each([0, -1, 1.5, Number.NaN])('fails when maxConcurrency is %s', (maxConcurrency) => {
    expect(() => new KeyedBatchProcessor(EventType.SQS, maxConcurrency)).toThrow(
      new Error(`maxConcurrency must be an integer of 1 or more, got ${maxConcurrency}`),
    );
  });

  test('fails with the exact message for 0', () => {
    expect(() => new KeyedBatchProcessor(EventType.KinesisDataStreams, 0)).toThrowError(
      /^maxConcurrency must be an integer of 1 or more, got 0$/,
    );
  });
});

describe('forEachConcurrently', () => {
  test('runs every item once and never more than the limit at a time', async () => {
    // GIVEN 10 items and a limit of 3
    const items = Array.from({ length: 10 }, (_, i) => i);
    const log = new HandlerLog();

    // WHEN run
    await forEachConcurrently(
      items,
      3,
      log.handler((item: number) => String(item), 5),
    );

    // THEN each item ran once, with exactly 3 at the peak
    expect(log.calls).toEqual(items.map(String));
    expect(log.maxRunning).toBe(3);
  });

  test('runs all items at once when the limit exceeds their number', async () => {
    const log = new HandlerLog();
    await forEachConcurrently(
      [1, 2],
      10,
      log.handler((item: number) => String(item), 5),
    );
    expect(log.maxRunning).toBe(2);
  });

  test('resolves at once for no items', async () => {
    const log = new HandlerLog();
    await forEachConcurrently(
      [],
      2,
      log.handler((item: number) => String(item)),
    );
    expect(log.calls).toEqual([]);
  });

  test('rejects with the first error to happen', async () => {
    // GIVEN two items that fail, the second one sooner
    const task = async (item: { id: string; ms: number }) => {
      await delay(item.ms);
      throw new Error(`failed ${item.id}`);
    };

    // WHEN run side by side, THEN the earlier failure is the one reported
    await expect(
      forEachConcurrently(
        [
          { id: 'slow', ms: 30 },
          { id: 'fast', ms: 1 },
        ],
        2,
        task,
      ),
    ).rejects.toThrow('failed fast');
  });

  test('stops taking items in the worker whose task failed', async () => {
    // GIVEN a limit of 1 and a failing first item
    const started: number[] = [];
    const task = async (item: number) => {
      started.push(item);
      if (item === 1) throw new Error('failed 1');
    };

    // WHEN run, THEN it rejects and no later item started
    await expect(forEachConcurrently([1, 2, 3], 1, task)).rejects.toThrow('failed 1');
    expect(started).toEqual([1]);
  });
});
