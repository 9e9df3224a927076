import { randomUUID } from 'node:crypto';
import { waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import * as v from 'valibot';
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { addOnce, applyIfNewer, pinFirst, putIfAbsent } from '../../../lambdas/runtime/effects';
import { createTable, emulatorClients } from '../../../local/emulators';
import { kinesisEvent, kinesisRecord, lambdaContext } from '../../helpers/records';

// Unless given a client, the effects module builds one from the environment, which global-setup points at dynalite.
const clients = emulatorClients({
  dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
  sqs: process.env.AWS_ENDPOINT_URL_SQS as string,
  kinesis: process.env.AWS_ENDPOINT_URL_KINESIS as string,
});
const documents = DynamoDBDocumentClient.from(clients.dynamodb);

/** A 56-digit Kinesis sequence number, as the service hands them out. */
const KINESIS_SEQUENCE = '49590338271490256608559692538361571095921575989136588898';

async function readItem(tableName: string, key: Record<string, unknown>) {
  const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
  return Item;
}

/**
 * Creates a table and waits until it is ACTIVE: dynalite answers CreateTable with CREATING and switches a tick
 * later, so under load a write right after it gets ResourceNotFoundException.
 */
async function createActiveTable(tableName: string, partitionKey: string) {
  await createTable(clients.dynamodb, tableName, partitionKey);
  await waitUntilTableExists(
    { client: clients.dynamodb, maxWaitTime: 30, minDelay: 1, maxDelay: 1 },
    { TableName: tableName },
  );
}

/**
 * Counts the DynamoDB and SQS clients and the loggers a fresh copy of the runtime kit creates: `importKit` imports
 * the copy, `restore` puts the real modules back.
 */
function countingCreations() {
  vi.resetModules();
  const created = { DynamoDBClient: 0, SQSClient: 0, Logger: 0 };
  const counted = <T extends new (...args: any[]) => object>(name: keyof typeof created, Original: T) =>
    class extends Original {
      constructor(...args: any[]) {
        super(...args);
        created[name]++;
      }
    };
  vi.doMock('@aws-sdk/client-dynamodb', async (importOriginal) => {
    const original = await importOriginal<typeof import('@aws-sdk/client-dynamodb')>();
    return { ...original, DynamoDBClient: counted('DynamoDBClient', original.DynamoDBClient) };
  });
  vi.doMock('@aws-sdk/client-sqs', async (importOriginal) => {
    const original = await importOriginal<typeof import('@aws-sdk/client-sqs')>();
    return { ...original, SQSClient: counted('SQSClient', original.SQSClient) };
  });
  vi.doMock('@aws-lambda-powertools/logger', async (importOriginal) => {
    const original = await importOriginal<typeof import('@aws-lambda-powertools/logger')>();
    return { ...original, Logger: counted('Logger', original.Logger) };
  });
  return {
    created,
    importKit: () => import('../../../lambdas/runtime/index.js'),
    restore: () => {
      for (const module of ['@aws-sdk/client-dynamodb', '@aws-sdk/client-sqs', '@aws-lambda-powertools/logger']) {
        vi.doUnmock(module);
      }
      vi.resetModules();
    },
  };
}

function padded(sequence: string): string {
  return sequence.padStart(64, '0');
}

describe('putIfAbsent', () => {
  const tableName = `orders-${randomUUID()}`;

  beforeAll(async () => {
    await createActiveTable(tableName, 'orderId');
  });

  test('creates the item once and returns true, then returns false and leaves the first item untouched', async () => {
    // GIVEN an order that is not in the table
    const orderId = `o-${randomUUID()}`;

    // WHEN it is put twice, the second time with other values
    const first = await putIfAbsent(tableName, 'orderId', { orderId, status: 'PLACED', quantity: 2 });
    const second = await putIfAbsent(tableName, 'orderId', { orderId, status: 'CANCELLED', note: 'replayed' });

    // THEN only the first call wrote, and the item is the first one
    expect(first).toBe(true);
    expect(second).toBe(false);
    expect(await readItem(tableName, { orderId })).toEqual({ orderId, status: 'PLACED', quantity: 2 });
  });

  test('writes items of different keys independently', async () => {
    // GIVEN two new orders
    const [a, b] = [`o-${randomUUID()}`, `o-${randomUUID()}`];

    // WHEN each is put
    const results = [
      await putIfAbsent(tableName, 'orderId', { orderId: a, status: 'A' }),
      await putIfAbsent(tableName, 'orderId', { orderId: b, status: 'B' }),
    ];

    // THEN both were created
    expect(results).toEqual([true, true]);
    expect(await readItem(tableName, { orderId: b })).toEqual({ orderId: b, status: 'B' });
  });
});

describe('applyIfNewer', () => {
  const tableName = `inventory-${randomUUID()}`;

  beforeAll(async () => {
    await createActiveTable(tableName, 'sku');
  });

  function apply(sku: string, sequence: string, delta: number) {
    return applyIfNewer({
      tableName,
      key: { sku },
      sequence,
      update: 'ADD stock :delta',
      values: { ':delta': delta },
    });
  }

  test('applies to a new key and records the zero-padded sequence', async () => {
    // GIVEN a SKU with no item yet
    const sku = `SKU-${randomUUID()}`;

    // WHEN an update is applied
    const applied = await apply(sku, KINESIS_SEQUENCE, -3);

    // THEN the item exists with the update and the sequence padded to 64 digits
    expect(applied).toBe(true);
    expect(await readItem(tableName, { sku })).toEqual({ sku, stock: -3, lastSequence: padded(KINESIS_SEQUENCE) });
  });

  test('applies a higher sequence', async () => {
    // GIVEN a SKU updated at one sequence
    const sku = `SKU-${randomUUID()}`;
    await apply(sku, KINESIS_SEQUENCE, 10);
    const higher = (BigInt(KINESIS_SEQUENCE) + 1n).toString();

    // WHEN a higher sequence arrives
    const applied = await apply(sku, higher, -4);

    // THEN it is applied and becomes the last sequence
    expect(applied).toBe(true);
    expect(await readItem(tableName, { sku })).toEqual({ sku, stock: 6, lastSequence: padded(higher) });
  });

  test('ignores an equal sequence: returns false and leaves the item unchanged', async () => {
    // GIVEN a SKU updated at one sequence
    const sku = `SKU-${randomUUID()}`;
    await apply(sku, KINESIS_SEQUENCE, 10);

    // WHEN the same sequence is applied again (a redelivered record)
    const applied = await apply(sku, KINESIS_SEQUENCE, 10);

    // THEN nothing changes
    expect(applied).toBe(false);
    expect(await readItem(tableName, { sku })).toEqual({ sku, stock: 10, lastSequence: padded(KINESIS_SEQUENCE) });
  });

  test('ignores a lower sequence: returns false and leaves the item unchanged', async () => {
    // GIVEN a SKU updated at one sequence
    const sku = `SKU-${randomUUID()}`;
    await apply(sku, KINESIS_SEQUENCE, 10);
    const lower = (BigInt(KINESIS_SEQUENCE) - 1n).toString();

    // WHEN an older sequence arrives late
    const applied = await apply(sku, lower, 99);

    // THEN it is ignored
    expect(applied).toBe(false);
    expect(await readItem(tableName, { sku })).toEqual({ sku, stock: 10, lastSequence: padded(KINESIS_SEQUENCE) });
  });

  test('compares sequences of different lengths as numbers, not as strings', async () => {
    // GIVEN a SKU updated at sequence 9
    const sku = `SKU-${randomUUID()}`;
    await apply(sku, '9', 1);

    // WHEN 10 arrives ('10' < '9' as plain strings), then 100, then 99
    const results = [await apply(sku, '10', 1), await apply(sku, '100', 1), await apply(sku, '99', 1)];

    // THEN 10 and 100 are applied and 99 is not
    expect(results).toEqual([true, true, false]);
    expect(await readItem(tableName, { sku })).toEqual({ sku, stock: 3, lastSequence: padded('100') });
  });

  test('compares a 56-digit sequence with a 57-digit one correctly', async () => {
    // GIVEN a SKU updated at a 57-digit sequence
    const sku = `SKU-${randomUUID()}`;
    const longer = `1${KINESIS_SEQUENCE}`;
    await apply(sku, longer, 1);

    // WHEN a 56-digit sequence (numerically lower, lexically higher: it starts with 4) arrives
    const applied = await apply(sku, KINESIS_SEQUENCE, 1);

    // THEN it is ignored
    expect(applied).toBe(false);
    expect(await readItem(tableName, { sku })).toMatchObject({ stock: 1, lastSequence: padded(longer) });
  });

  test('keeps keys apart: a sequence applied to one key does not block another key', async () => {
    // GIVEN one SKU updated at a high sequence
    const [first, second] = [`SKU-${randomUUID()}`, `SKU-${randomUUID()}`];
    await apply(first, '1000', 1);

    // WHEN a lower sequence is applied to another SKU
    const applied = await apply(second, '5', 1);

    // THEN it is applied
    expect(applied).toBe(true);
  });
});

describe('addOnce', () => {
  const tableName = `analytics-${randomUUID()}`;

  beforeAll(async () => {
    await createActiveTable(tableName, 'minute');
  });

  function add(minute: string, marker: string, counters: Record<string, number>) {
    return addOnce({ tableName, key: { minute }, markerAttribute: 'countedOrders', marker, counters });
  }

  test('counts the same marker once', async () => {
    // GIVEN an empty counter row
    const minute = `2026-01-01T00:00-${randomUUID()}`;

    // WHEN the same order is counted twice
    const first = await add(minute, 'o-1', { orders: 1, revenueCents: 2500 });
    const second = await add(minute, 'o-1', { orders: 1, revenueCents: 2500 });

    // THEN the counters moved once
    expect([first, second]).toEqual([true, false]);
    expect(await readItem(tableName, { minute })).toEqual({
      minute,
      orders: 1,
      revenueCents: 2500,
      countedOrders: new Set(['o-1']),
    });
  });

  test('counts two markers twice, several counters at once', async () => {
    // GIVEN an empty counter row
    const minute = `2026-01-01T00:01-${randomUUID()}`;

    // WHEN two orders are counted, then the first one again
    const results = [
      await add(minute, 'o-1', { orders: 1, revenueCents: 2500, units: 2 }),
      await add(minute, 'o-2', { orders: 1, revenueCents: 1000, units: 5 }),
      await add(minute, 'o-1', { orders: 1, revenueCents: 2500, units: 2 }),
    ];

    // THEN each counter holds the sum of the two orders
    expect(results).toEqual([true, true, false]);
    expect(await readItem(tableName, { minute })).toEqual({
      minute,
      orders: 2,
      revenueCents: 3500,
      units: 7,
      countedOrders: new Set(['o-1', 'o-2']),
    });
  });
});

describe('pinFirst', () => {
  const tableName = `pins-${randomUUID()}`;
  beforeAll(() => createActiveTable(tableName, 'id'));

  test('GIVEN a later event of the same entity with another value THEN the first value is kept and returned', async () => {
    // An order's first event counts in minute 10:15; the producer's retry says 10:16.
    const key = { id: `order#${randomUUID()}` };

    const first = await pinFirst({ tableName, key, value: { minute: '2026-11-27T10:15' } });
    const retry = await pinFirst({ tableName, key, value: { minute: '2026-11-27T10:16' } });

    expect(first).toEqual({ minute: '2026-11-27T10:15' });
    expect(retry).toEqual({ minute: '2026-11-27T10:15' });
    expect(await readItem(tableName, key)).toMatchObject({ ...key, pinned: { minute: '2026-11-27T10:15' } });
  });

  test('GIVEN two events of one entity at once THEN both get the same value', async () => {
    const key = { id: `order#${randomUUID()}` };

    const [a, b] = await Promise.all([
      pinFirst({ tableName, key, value: { slot: 1 } }),
      pinFirst({ tableName, key, value: { slot: 2 } }),
    ]);

    expect(a).toEqual(b);
  });
});

describe('effects on a DynamoDB error that is not a failed condition', () => {
  // GIVEN a table that does not exist
  const missingTable = `missing-${randomUUID()}`;

  test('putIfAbsent throws it', async () => {
    await expect(putIfAbsent(missingTable, 'id', { id: 'a' })).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  test('applyIfNewer throws it', async () => {
    await expect(
      applyIfNewer({ tableName: missingTable, key: { id: 'a' }, sequence: '1', update: '', values: {} }),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  test('addOnce throws it', async () => {
    await expect(
      addOnce({ tableName: missingTable, key: { id: 'a' }, markerAttribute: 'm', marker: 'x', counters: { n: 1 } }),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  test('putIfAbsent throws a validation error (item without its key)', async () => {
    // GIVEN an existing table, WHEN an item lacks the key attribute, THEN the ValidationException is thrown
    const tableName = `orders-${randomUUID()}`;
    await createActiveTable(tableName, 'orderId');
    await expect(putIfAbsent(tableName, 'orderId', { status: 'PLACED' })).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });
});

describe('the client an effect writes through', () => {
  test('GIVEN a client in the options THEN every helper writes through it', async () => {
    // GIVEN a client that notes each command it sends
    const { dynamodb: dynamoDBClient } = emulatorClients({
      dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
      sqs: '',
      kinesis: '',
    });
    const sent: string[] = [];
    dynamoDBClient.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(context.commandName as string);
        return next(args);
      },
      { step: 'initialize', name: 'noteCommands' },
    );
    const tableName = `injected-${randomUUID()}`;
    await createActiveTable(tableName, 'id');
    const id = `e-${randomUUID()}`;

    // WHEN each helper is called with it
    await putIfAbsent(tableName, 'id', { id, note: undefined }, { dynamoDBClient });
    await applyIfNewer({ tableName, key: { id }, sequence: '1', update: '', values: {}, dynamoDBClient });
    await addOnce({ tableName, key: { id }, markerAttribute: 'm', marker: 'x', counters: { n: 1 }, dynamoDBClient });
    await pinFirst({ tableName, key: { id: `pin-${id}` }, value: { slot: 1 }, dynamoDBClient });
    await pinFirst({ tableName, key: { id: `pin-${id}` }, value: { slot: 2 }, dynamoDBClient });

    // THEN each request went through it (undefined attributes left out, not an error)
    expect(sent).toEqual([
      'PutItemCommand',
      'UpdateItemCommand',
      'UpdateItemCommand',
      'PutItemCommand',
      'PutItemCommand',
      'GetItemCommand',
    ]);
  });

  test('GIVEN the runtime kit is imported THEN it creates no client and no logger; the first write creates one client', async () => {
    // GIVEN a fresh copy of the kit, with DynamoDB and SQS clients and loggers counted as they are created
    const { created, importKit, restore } = countingCreations();
    try {
      // WHEN it is imported
      const kit = await importKit();

      // THEN nothing was created; the first write creates one DynamoDB client, and later writes reuse it
      expect(created).toEqual({ DynamoDBClient: 0, SQSClient: 0, Logger: 0 });
      const tableName = `lazy-${randomUUID()}`;
      await createActiveTable(tableName, 'id');
      await kit.putIfAbsent(tableName, 'id', { id: 'a' });
      await kit.putIfAbsent(tableName, 'id', { id: 'b' });
      expect(created).toEqual({ DynamoDBClient: 1, SQSClient: 0, Logger: 0 });
    } finally {
      restore();
    }
  });

  test('GIVEN consumers given no clients THEN they share one DynamoDB client with the effect helpers, and make the SQS client on the first dead letter', async () => {
    // GIVEN a fresh copy of the kit, clients counted as they are created
    const { created, importKit, restore } = countingCreations();
    try {
      const kit = await importKit();
      const tableName = `shared-${randomUUID()}`;
      await createActiveTable(tableName, 'id');
      const events = {
        Tick: kit.defineEventHandler({
          schema: v.object({ type: v.literal('Tick'), id: v.string() }),
          idempotencyKey: 'id',
          handle: async (tick) => {
            await kit.putIfAbsent(tableName, 'id', { id: tick.id });
          },
        }),
      };

      // WHEN two consumers are created (from the environment's table and dead-letter queue) and one applies an event
      const stream = kit.createStreamConsumer({ events });
      kit.createQueueConsumer({ events });
      const tick = kinesisRecord(JSON.stringify({ type: 'Tick', id: randomUUID() }), { partitionKey: 'p' });
      expect(await stream(kinesisEvent([tick]), lambdaContext())).toEqual({ batchItemFailures: [] });

      // THEN one DynamoDB client served the idempotency records and the effect, and no SQS client was made
      expect(created.DynamoDBClient).toBe(1);
      expect(created.SQSClient).toBe(0);

      // WHEN a record must be dead-lettered, THEN the SQS client is made then, once
      const invalid = kinesisRecord('not JSON', { partitionKey: 'p' });
      expect(await stream(kinesisEvent([invalid]), lambdaContext())).toEqual({ batchItemFailures: [] });
      expect(await stream(kinesisEvent([kinesisRecord('{', { partitionKey: 'p' })]), lambdaContext())).toEqual({
        batchItemFailures: [],
      });
      expect(created).toMatchObject({ DynamoDBClient: 1, SQSClient: 1 });
    } finally {
      restore();
    }
  });
});
