import { createHash, randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { EmfOutput } from '@aws-lambda-powertools/metrics/types';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamBatchResponse, SQSBatchResponse } from 'aws-lambda';
import * as v from 'valibot';
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { CONSUMER_ENVIRONMENT, IDEMPOTENCY_TABLE_LAYOUT, idempotencyKeyPrefix } from '../../../contract';
import { OrderPlacedSchema } from '../../../lambdas/events/order-placed';
import {
  createQueueConsumer,
  createStreamConsumer,
  DEAD_LETTER_ATTRIBUTES,
  defineEventHandler,
  type IdempotencyKeyField,
  PermanentError,
  putIfAbsent,
  type RecordContext,
  redactPersonalData,
} from '../../../lambdas/runtime';
import { REDACTED } from '../../../lambdas/runtime/observability';
import { createQueue, createTable, emulatorClients } from '../../../local/emulators';
import {
  FIFO_QUEUE_ARN,
  kinesisEvent,
  kinesisRecord,
  lambdaContext,
  orderPlaced,
  sqsEvent,
  sqsRecord,
} from '../../helpers/records';
import { receiveAll } from '../../helpers/reference';

const endpoints = {
  dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
  sqs: process.env.AWS_ENDPOINT_URL_SQS as string,
  kinesis: process.env.AWS_ENDPOINT_URL_KINESIS as string,
};

/**
 * Runs `create` (a consumer factory) with `IDEMPOTENCY_KEY_PREFIX` set to `prefix` as the constructs set it (or
 * absent, for `undefined`), and puts the variable back: a consumer reads it once, when it is created.
 */
function withKeyPrefix<T>(prefix: string | undefined, create: () => T): T {
  const variable = CONSUMER_ENVIRONMENT.idempotencyKeyPrefix;
  const before = process.env[variable];
  if (prefix === undefined) delete process.env[variable];
  else process.env[variable] = prefix;
  try {
    return create();
  } finally {
    if (before === undefined) delete process.env[variable];
    else process.env[variable] = before;
  }
}

/** Runs `create` under a key prefix of its own, so consumers that share a table never share records. */
function withOwnKeyPrefix<T>(name: string, create: () => T): T {
  return withKeyPrefix(idempotencyKeyPrefix(`${name}-${randomUUID()}`), create);
}

/** A DynamoDB client that counts the requests it sends, by command. */
function countingClient(): { client: DynamoDBClient; requests: string[] } {
  const { dynamodb: client } = emulatorClients(endpoints);
  const requests: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      requests.push(context.commandName as string);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return { client, requests };
}

interface Harness {
  readonly tableName: string;
  readonly effectsTable: string;
  readonly deadLetterQueueUrl: string;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
}

/** A queue consumer of OrderPlaced events that does nothing, created with `prefix` as IDEMPOTENCY_KEY_PREFIX. */
function orderConsumerWithKeyPrefix(h: Harness, prefix: string | undefined) {
  const where = { idempotencyTableName: h.tableName, deadLetterQueueUrl: h.deadLetterQueueUrl };
  return withKeyPrefix(prefix, () => doNothingOrderConsumer(where, h.sqs));
}

async function harness(fifo = false): Promise<Harness> {
  const clients = emulatorClients(endpoints);
  const id = randomUUID().slice(0, 8);
  const tableName = `idempotency-${id}`;
  const effectsTable = `effects-${id}`;
  await createTable(clients.dynamodb, tableName, 'id');
  await createTable(clients.dynamodb, effectsTable, 'key');
  const deadLetterQueueUrl = await createQueue(
    clients.sqs,
    fifo ? `dead-letters-${id}.fifo` : `dead-letters-${id}`,
    fifo ? { FifoQueue: 'true' } : {},
  );
  return { tableName, effectsTable, deadLetterQueueUrl, sqs: clients.sqs, dynamodb: clients.dynamodb };
}

const deadLetters = (h: Harness) => receiveAll(h.sqs, h.deadLetterQueueUrl);

async function effects(h: Harness): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await h.dynamodb.send(new ScanCommand({ TableName: h.effectsTable }));
  return Items.map((item) =>
    Object.fromEntries(Object.entries(item).map(([k, value]) => [k, Object.values(value)[0]])),
  );
}

/** An order consumer whose effect is a conditional write keyed by order ID, and which counts its runs. */
function orderConsumer(h: Harness, overrides: { fail?: (orderId: string) => Error | undefined } = {}) {
  const runs: string[] = [];
  const counting = countingClient();
  const events = {
    OrderPlaced: defineEventHandler({
      schema: OrderPlacedSchema,
      idempotencyKey: 'orderId',
      handle: async (order: v.InferOutput<typeof OrderPlacedSchema>, _context: RecordContext) => {
        runs.push(order.orderId);
        const failure = overrides.fail?.(order.orderId);
        if (failure) throw failure;
        await putIfAbsent(h.effectsTable, 'key', { key: order.orderId, eventId: order.eventId });
      },
    }),
  };
  const options = {
    events,
    idempotencyTableName: h.tableName,
    deadLetterQueueUrl: h.deadLetterQueueUrl,
    dynamoDBClient: counting.client,
    sqsClient: h.sqs,
  };
  return {
    runs,
    requests: counting.requests,
    ...withOwnKeyPrefix('orders', () => ({
      queue: createQueueConsumer(options),
      stream: createStreamConsumer(options),
    })),
  };
}

/** A queue consumer of orders whose handler does nothing: for what happens around the handler. */
function idleConsumer(where: { readonly idempotencyTableName: string; readonly deadLetterQueueUrl: string }) {
  return withOwnKeyPrefix('orders', () => doNothingOrderConsumer(where, emulatorClients(endpoints).sqs));
}

/** A queue consumer of OrderPlaced events whose handler does nothing, keeping its records where `where` says. */
function doNothingOrderConsumer(
  where: { readonly idempotencyTableName: string; readonly deadLetterQueueUrl: string },
  sqsClient: SQSClient,
) {
  return createQueueConsumer({
    events: {
      OrderPlaced: defineEventHandler({ schema: OrderPlacedSchema, idempotencyKey: 'orderId', handle: async () => {} }),
    },
    ...where,
    sqsClient,
  });
}

describe('queue consumer idempotency', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });

  test('GIVEN the same payload twice in two invocations THEN the effect runs once and the second is a duplicate', async () => {
    const consumer = orderConsumer(h);
    const order = orderPlaced();
    const body = JSON.stringify(order);

    const first = await consumer.queue(sqsEvent([sqsRecord(body)]), lambdaContext());
    const second = await consumer.queue(sqsEvent([sqsRecord(body)]), lambdaContext());

    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });
    expect(consumer.runs).toEqual([order.orderId]);
    expect((await effects(h)).filter((e) => e.key === order.orderId)).toHaveLength(1);
  });

  test('GIVEN a producer retry (new message ID, new event ID, same order ID) THEN the effect runs once', async () => {
    const consumer = orderConsumer(h);
    const order = orderPlaced();
    const retry = { ...order, eventId: randomUUID() };

    await consumer.queue(sqsEvent([sqsRecord(JSON.stringify(order))]), lambdaContext());
    await consumer.queue(sqsEvent([sqsRecord(JSON.stringify(retry))]), lambdaContext());

    expect(consumer.runs).toEqual([order.orderId]);
    const created = (await effects(h)).filter((e) => e.key === order.orderId);
    expect(created).toEqual([{ key: order.orderId, eventId: order.eventId }]);
  });

  test('GIVEN the same key twice in one batch THEN one run, both succeed, and the duplicate costs no request', async () => {
    const consumer = orderConsumer(h);
    const order = orderPlaced();
    const others = [orderPlaced(), orderPlaced()];
    const batch = [order, others[0], { ...order, eventId: randomUUID() }, others[1], order].map((event) =>
      sqsRecord(JSON.stringify(event)),
    );

    const response = await consumer.queue(sqsEvent(batch), lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(consumer.runs.sort()).toEqual([order.orderId, others[0].orderId, others[1].orderId].sort());
    // 3 new keys x (PutItem + UpdateItem); the two in-batch duplicates add nothing.
    expect(consumer.requests.sort()).toEqual(
      [...Array(3).fill('PutItemCommand'), ...Array(3).fill('UpdateItemCommand')].sort(),
    );
  });

  test('GIVEN two consumers in one process with different keys THEN each keeps its own idempotency records', async () => {
    // Sharing one persistence layer between two idempotent functions silently turns idempotency off: the second
    // configuration overwrites the first. Each consumer (and each event type) must have its own.
    const byOrder = orderConsumer(h);
    const byEvent = withOwnKeyPrefix('audit', () =>
      createQueueConsumer({
        events: {
          OrderPlaced: defineEventHandler({
            schema: OrderPlacedSchema,
            idempotencyKey: 'eventId',
            handle: async (order) => {
              byEventRuns.push(order.eventId);
            },
          }),
        },
        idempotencyTableName: h.tableName,
        deadLetterQueueUrl: h.deadLetterQueueUrl,
        sqsClient: h.sqs,
      }),
    );
    const byEventRuns: string[] = [];
    const order = orderPlaced();
    const event = sqsEvent([sqsRecord(JSON.stringify(order))]);

    for (let round = 0; round < 2; round++) {
      await byOrder.queue(event, lambdaContext());
      await byEvent(event, lambdaContext());
    }

    expect(byOrder.runs).toEqual([order.orderId]);
    expect(byEventRuns).toEqual([order.eventId]);
  });
});

describe('idempotency keys', () => {
  test('GIVEN a key field whose schema outputs neither a string nor a number THEN the handler does not compile', () => {
    const schema = v.object({ type: v.literal('Flagged'), flag: v.boolean(), id: v.string(), count: v.number() });
    // @ts-expect-error: a boolean cannot name one effect among many; `tsc -p .` fails if this compiles.
    const flagged = defineEventHandler({ schema, idempotencyKey: 'flag', handle: async () => {} });
    const counted = defineEventHandler({ schema, idempotencyKey: 'count', handle: async () => {} });
    expect([flagged.idempotencyKey, counted.idempotencyKey]).toEqual(['flag', 'count']);
  });

  /** A consumer of one event type keyed by `field`, whose handler records each run's event. */
  function keyedConsumer<TSchema extends v.GenericSchema>(
    h: Harness,
    schema: TSchema,
    field: IdempotencyKeyField<v.InferOutput<TSchema>>,
  ) {
    const runs: unknown[] = [];
    const consumer = withOwnKeyPrefix('keys', () =>
      createQueueConsumer({
        events: {
          Counted: defineEventHandler({
            schema,
            idempotencyKey: field,
            handle: async (event) => {
              runs.push(event);
            },
          }),
        },
        idempotencyTableName: h.tableName,
        deadLetterQueueUrl: h.deadLetterQueueUrl,
        sqsClient: h.sqs,
        // Every duplicate goes to the table, not the execution environment's memory.
        useLocalCache: false,
      }),
    );
    return { consumer, runs };
  }

  /** The ID of every idempotency record and dead-letter mark in the table. */
  async function keysIn(h: Harness): Promise<string[]> {
    const { Items = [] } = await h.dynamodb.send(new ScanCommand({ TableName: h.tableName }));
    return Items.map((item) => item[IDEMPOTENCY_TABLE_LAYOUT.partitionKey]?.S as string);
  }

  test('GIVEN a key whose value is 0 THEN it is applied once and a redelivery is a duplicate', async () => {
    // Powertools takes a falsy key for a missing one: handed 0, it failed the record on every delivery.
    const h = await harness();
    const { consumer, runs } = keyedConsumer(h, v.object({ type: v.literal('Counted'), n: v.number() }), 'n');
    const record = () => sqsRecord(JSON.stringify({ type: 'Counted', n: 0 }));

    const first = await consumer(sqsEvent([record(), record()]), lambdaContext());
    const redelivery = await consumer(sqsEvent([record()]), lambdaContext());

    expect(first).toEqual({ batchItemFailures: [] });
    expect(redelivery).toEqual({ batchItemFailures: [] });
    expect(runs).toEqual([{ type: 'Counted', n: 0 }]);
    expect(await keysIn(h)).toHaveLength(1);
    expect(await deadLetters(h)).toEqual([]);
  });

  test('GIVEN a key field named order-id THEN valid records are applied once', async () => {
    // Powertools read the field name as a JMESPath expression, and `order-id` does not parse.
    const h = await harness();
    const schema = v.object({ type: v.literal('Counted'), 'order-id': v.string() });
    const { consumer, runs } = keyedConsumer(h, schema, 'order-id');
    const body = JSON.stringify({ type: 'Counted', 'order-id': 'o-1' });

    const first = await consumer(sqsEvent([sqsRecord(body)]), lambdaContext());
    const redelivery = await consumer(sqsEvent([sqsRecord(body)]), lambdaContext());

    expect([first, redelivery]).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(runs).toEqual([{ type: 'Counted', 'order-id': 'o-1' }]);
    expect(await deadLetters(h)).toEqual([]);
  });

  test('GIVEN IDEMPOTENCY_KEY_PREFIX THEN every key the consumer writes starts with it, as before the variable', async () => {
    // The constructs grant `dynamodb:LeadingKeys` on exactly this string, whatever the service name.
    const h = await harness();
    const prefix = `billing-${randomUUID().slice(0, 8)}.`;
    const consumer = orderConsumerWithKeyPrefix(h, prefix);
    const order = orderPlaced();
    const invalid = sqsRecord('not json');

    const response = await consumer(sqsEvent([sqsRecord(JSON.stringify(order)), invalid]), lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    // The same keys the kit wrote when the prefix came from the consumer's name: the hash of the key as JSON text.
    const hash = createHash('md5').update(JSON.stringify(order.orderId)).digest('base64');
    const digest = createHash('sha256').update(`${invalid.eventSourceARN}|${invalid.messageId}`).digest('hex');
    expect((await keysIn(h)).sort()).toEqual([`${prefix}OrderPlaced#${hash}`, `${prefix}dead-letter#${digest}`].sort());
  });

  test('GIVEN no IDEMPOTENCY_KEY_PREFIX THEN the keys start with the service name and a dot', async () => {
    // A function the kit's constructs did not deploy.
    const h = await harness();
    const consumer = orderConsumerWithKeyPrefix(h, undefined);

    await consumer(sqsEvent([sqsRecord(JSON.stringify(orderPlaced()))]), lambdaContext());

    const serviceName = process.env[CONSUMER_ENVIRONMENT.serviceName] ?? 'consumer';
    expect(await keysIn(h)).toEqual([expect.stringMatching(new RegExp(`^${serviceName}\\.OrderPlaced#`))]);
  });
});

describe('queue consumer failures', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });

  test('GIVEN permanent and transient failures THEN permanent ones go to the DLQ at once and only transient ones are retried', async () => {
    const transientOrder = orderPlaced();
    const permanentOrder = orderPlaced();
    const consumer = orderConsumer(h, {
      fail: (orderId) =>
        orderId === transientOrder.orderId
          ? new Error('DynamoDB throttled')
          : orderId === permanentOrder.orderId
            ? new PermanentError('the SKU is discontinued')
            : undefined,
    });
    const valid = orderPlaced();
    const records = {
      valid: sqsRecord(JSON.stringify(valid)),
      malformed: sqsRecord('{"type":"OrderPlaced",'),
      notAnObject: sqsRecord('[1,2,3]'),
      unknownType: sqsRecord(JSON.stringify({ ...orderPlaced(), type: 'OrderShipped' })),
      schema: sqsRecord(JSON.stringify({ ...orderPlaced(), quantity: 'two' })),
      missingKey: sqsRecord(JSON.stringify({ ...orderPlaced(), orderId: undefined })),
      oversize: sqsRecord(JSON.stringify({ ...orderPlaced(), customerId: 'x'.repeat(300 * 1024) })),
      transient: sqsRecord(JSON.stringify(transientOrder)),
      permanent: sqsRecord(JSON.stringify(permanentOrder)),
    };

    const response = (await consumer.queue(sqsEvent(Object.values(records)), lambdaContext())) as SQSBatchResponse;

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records.transient.messageId }]);
    const letters = await deadLetters(h);
    const byRecordId = new Map(
      letters.map((m) => [m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.recordId]?.StringValue, m]),
    );
    const expected: [keyof typeof records, string][] = [
      ['malformed', 'InvalidJsonError'],
      ['notAnObject', 'InvalidJsonError'],
      ['unknownType', 'UnknownEventTypeError'],
      ['schema', 'SchemaViolationError'],
      ['missingKey', 'SchemaViolationError'],
      ['oversize', 'OversizeRecordError'],
      ['permanent', 'PermanentError'],
    ];
    expect(letters).toHaveLength(expected.length);
    for (const [name, errorName] of expected) {
      const letter = byRecordId.get(records[name].messageId);
      expect(letter?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.error]?.StringValue, name).toBe(errorName);
      expect(letter?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.sourceArn]?.StringValue).toBe(
        records[name].eventSourceARN,
      );
      expect(letter?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toMatch(
        new RegExp(`^${errorName}: .+`),
      );
      if (name !== 'oversize') expect(letter?.Body).toBe(records[name].body);
    }
    expect(
      byRecordId.get(records.schema.messageId)?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue,
    ).toMatch(/quantity: Invalid type/);
    expect(consumer.runs.sort()).toEqual([valid.orderId, transientOrder.orderId, permanentOrder.orderId].sort());
  });

  test('GIVEN the dead-letter marks cannot be read THEN the invalid record is reported failed and retried, not sent blind', async () => {
    const own = await harness();
    const consumer = idleConsumer({
      idempotencyTableName: `missing-${randomUUID()}`,
      deadLetterQueueUrl: own.deadLetterQueueUrl,
    });
    const invalid = sqsRecord('{"type":"OrderPlaced",');

    const response = (await consumer(sqsEvent([invalid]), lambdaContext())) as SQSBatchResponse;

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: invalid.messageId }]);
    expect(await deadLetters(own)).toEqual([]);
  });

  test('GIVEN too little time left in the invocation THEN records are not started and are retried later', async () => {
    // Started with no time left, a record's idempotency record would get no in-progress expiry from Powertools,
    // and a timeout would lock its key for the record's whole expiry.
    const consumer = orderConsumer(h);
    const order = orderPlaced();
    const batch = sqsEvent([sqsRecord(JSON.stringify(order))]);

    const late = (await consumer.queue(batch, lambdaContext(400))) as SQSBatchResponse;
    const inTime = (await consumer.queue(batch, lambdaContext())) as SQSBatchResponse;

    expect(late.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[0].messageId }]);
    expect(inTime.batchItemFailures).toEqual([]);
    expect(consumer.runs).toEqual([order.orderId]);
  });

  test('GIVEN invalid records delivered again (their batch retried) THEN each has one dead letter', async () => {
    // An environment that died after dead-lettering, or a stream batch retried from an earlier failed record,
    // delivers the same invalid records again: same message ID, or same shard and sequence number.
    const own = await harness();
    const transientOrder = orderPlaced();
    const consumer = orderConsumer(own, {
      fail: (orderId) => (orderId === transientOrder.orderId ? new Error('DynamoDB throttled') : undefined),
    });
    const queueBatch = sqsEvent([sqsRecord('{"type":"OrderPlaced",'), sqsRecord(JSON.stringify(transientOrder))]);
    const streamBatch = kinesisEvent([
      kinesisRecord(JSON.stringify(transientOrder), { partitionKey: 'k' }),
      kinesisRecord('[1,2,3]', { partitionKey: 'another-key' }),
    ]);

    for (let delivery = 0; delivery < 3; delivery++) {
      await consumer.queue(queueBatch, lambdaContext());
      await consumer.stream(streamBatch, lambdaContext());
    }

    const letters = await deadLetters(own);
    expect(letters.map((m) => m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.recordId]?.StringValue).sort()).toEqual(
      [queueBatch.Records[0].messageId, streamBatch.Records[1].eventID].sort(),
    );
  });

  test('GIVEN a transient failure THEN a later duplicate of it in the batch fails too, without a second run', async () => {
    const order = orderPlaced();
    const consumer = orderConsumer(h, { fail: () => new Error('timeout') });
    const records = [sqsRecord(JSON.stringify(order)), sqsRecord(JSON.stringify(order))];

    const response = await consumer.queue(sqsEvent(records), lambdaContext());

    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      records.map((r) => r.messageId).sort(),
    );
    expect(consumer.runs).toEqual([order.orderId]);
  });

  test('GIVEN a transient failure THEN the redelivery runs the effect again and succeeds', async () => {
    let failNext = true;
    const consumer = orderConsumer(h, {
      fail: () => {
        if (!failNext) return undefined;
        failNext = false;
        return new Error('throttled');
      },
    });
    const order = orderPlaced();
    const record = sqsRecord(JSON.stringify(order));

    const first = await consumer.queue(sqsEvent([record]), lambdaContext());
    const retry = await consumer.queue(sqsEvent([record]), lambdaContext());

    expect(first.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(retry.batchItemFailures).toEqual([]);
    expect(consumer.runs).toEqual([order.orderId, order.orderId]);
    expect((await effects(h)).filter((e) => e.key === order.orderId)).toHaveLength(1);
  });

  test('GIVEN the dead-letter queue cannot be reached THEN the invalid record is reported failed, not lost', async () => {
    const consumer = idleConsumer({
      idempotencyTableName: h.tableName,
      deadLetterQueueUrl: `${endpoints.sqs}/123456789012/does-not-exist-${randomUUID()}`,
    });
    const record = sqsRecord('not json');

    const response = await consumer(sqsEvent([record]), lambdaContext());

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
  });
});

describe('FIFO queue consumer', () => {
  test('GIVEN a failure in one message group THEN that group stops in order and other groups go on', async () => {
    const h = await harness(true);
    const failing = orderPlaced();
    const consumer = orderConsumer(h, {
      fail: (orderId) => (orderId === failing.orderId ? new Error('busy') : undefined),
    });
    const a = [orderPlaced(), failing, orderPlaced()].map((o) =>
      sqsRecord(JSON.stringify(o), { queueArn: FIFO_QUEUE_ARN, messageGroupId: 'A' }),
    );
    const b = [orderPlaced(), orderPlaced()].map((o) =>
      sqsRecord(JSON.stringify(o), { queueArn: FIFO_QUEUE_ARN, messageGroupId: 'B' }),
    );
    const batch = [a[0], b[0], a[1], a[2], b[1]];

    const response = await consumer.queue(sqsEvent(batch), lambdaContext());

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([a[1].messageId, a[2].messageId]);
    const order = (record: (typeof batch)[number]) => JSON.parse(record.body).orderId;
    expect(consumer.runs).toEqual([order(a[0]), order(b[0]), order(a[1]), order(b[1])]);
  });

  test('GIVEN an invalid message in a FIFO queue THEN it goes to the FIFO dead-letter queue with its group', async () => {
    const h = await harness(true);
    const consumer = orderConsumer(h);
    const record = sqsRecord('{broken', { queueArn: FIFO_QUEUE_ARN, messageGroupId: 'G1' });

    const response = await consumer.queue(sqsEvent([record]), lambdaContext());

    expect(response.batchItemFailures).toEqual([]);
    const [letter] = await deadLetters(h);
    expect(letter.Body).toBe('{broken');
  });
});

describe('stream consumer', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });

  test('GIVEN 100 records over 20 partition keys THEN each key runs in arrival order while keys run in parallel', async () => {
    const applied = new Map<string, number[]>();
    let running = 0;
    let maxRunning = 0;
    const consumer = withOwnKeyPrefix('ticks', () =>
      createStreamConsumer({
        events: {
          Tick: defineEventHandler({
            schema: v.object({ type: v.literal('Tick'), id: v.string(), key: v.string(), n: v.number() }),
            idempotencyKey: 'id',
            handle: async (tick) => {
              running++;
              maxRunning = Math.max(maxRunning, running);
              await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
              applied.set(tick.key, [...(applied.get(tick.key) ?? []), tick.n]);
              running--;
            },
          }),
        },
        maxConcurrency: 8,
        idempotencyTableName: h.tableName,
        deadLetterQueueUrl: h.deadLetterQueueUrl,
        sqsClient: h.sqs,
      }),
    );
    const records = Array.from({ length: 100 }, (_, n) => {
      const key = `key-${n % 20}`;
      return kinesisRecord(JSON.stringify({ type: 'Tick', id: randomUUID(), key, n }), { partitionKey: key });
    });

    const response = await consumer(kinesisEvent(records), lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(maxRunning).toBeGreaterThan(1);
    expect(maxRunning).toBeLessThanOrEqual(8);
    for (let key = 0; key < 20; key++) {
      expect(applied.get(`key-${key}`)).toEqual([0, 1, 2, 3, 4].map((i) => key + 20 * i));
    }
  });

  test('GIVEN a failure THEN the rest of that partition key is reported with it and other keys complete', async () => {
    const failing = orderPlaced({ sku: 'SKU-A' });
    const consumer = orderConsumer(h, {
      fail: (orderId) => (orderId === failing.orderId ? new Error('busy') : undefined),
    });
    const a = [orderPlaced({ sku: 'SKU-A' }), failing, orderPlaced({ sku: 'SKU-A' })];
    const b = [orderPlaced({ sku: 'SKU-B' }), orderPlaced({ sku: 'SKU-B' })];
    const records = [a[0], b[0], a[1], a[2], b[1]].map((o) =>
      kinesisRecord(JSON.stringify(o), { partitionKey: o.sku as string }),
    );

    const response = (await consumer.stream(kinesisEvent(records), lambdaContext())) as KinesisStreamBatchResponse;

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      records[2].kinesis.sequenceNumber,
      records[3].kinesis.sequenceNumber,
    ]);
    expect(consumer.runs.sort()).toEqual([a[0], a[1], b[0], b[1]].map((o) => o.orderId).sort());
  });

  test('GIVEN records of one partition key THEN the next takes its idempotency key while the one before applies', async () => {
    const applied: string[] = [];
    const consumer = orderConsumer(h, {
      fail: (orderId) => {
        applied.push(orderId);
        return undefined;
      },
    });
    const orders = [orderPlaced({ sku: 'SKU-A' }), orderPlaced({ sku: 'SKU-A' }), orderPlaced({ sku: 'SKU-A' })];
    const records = orders.map((o) => kinesisRecord(JSON.stringify(o), { partitionKey: 'SKU-A' }));

    const response = await consumer.stream(kinesisEvent(records), lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    // The second record took its key (INPROGRESS) before the first was COMPLETED: it did not wait on the first.
    expect(consumer.requests.slice(0, 3)).toEqual(['PutItemCommand', 'PutItemCommand', 'UpdateItemCommand']);
    expect(consumer.requests.filter((name) => name === 'PutItemCommand')).toHaveLength(3);
    expect(consumer.requests.filter((name) => name === 'UpdateItemCommand')).toHaveLength(3);
    expect(applied).toEqual(orders.map((o) => o.orderId));
  });

  test('GIVEN a failure THEN the records after it leave no idempotency record, so the retry applies them at once', async () => {
    // GIVEN a table of its own, and a key whose first record fails once
    const own = await harness();
    let failing = true;
    const a = [orderPlaced({ sku: 'SKU-A' }), orderPlaced({ sku: 'SKU-A' }), orderPlaced({ sku: 'SKU-A' })];
    const b = orderPlaced({ sku: 'SKU-B' });
    const consumer = orderConsumer(own, {
      fail: (orderId) => (failing && orderId === a[0].orderId ? new Error('busy') : undefined),
    });
    const records = [a[0], b, a[1], a[2]].map((o) =>
      kinesisRecord(JSON.stringify(o), { partitionKey: o.sku as string }),
    );

    // WHEN the batch is processed
    const first = await consumer.stream(kinesisEvent(records), lambdaContext());

    // THEN the key's records are reported from the failure on, and only a[0] and b ran
    expect(first.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
      [records[0], records[2], records[3]].map((r) => r.kinesis.sequenceNumber),
    );
    expect([...consumer.runs].sort()).toEqual([a[0].orderId, b.orderId].sort());
    // AND only b's idempotency record is left: the failed record's and the blocked records' were deleted
    const { Items = [] } = await own.dynamodb.send(new ScanCommand({ TableName: own.tableName }));
    expect(Items.map((item) => item.status?.S)).toEqual(['COMPLETED']);

    // WHEN the platform retries from the first failure, with the fault gone
    failing = false;
    const started = Date.now();
    const retry = await consumer.stream(kinesisEvent([records[0], records[2], records[3]]), lambdaContext());

    // THEN every record applies at once, none waiting for a lock left behind, in order
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(consumer.runs.filter((id) => id !== b.orderId)).toEqual([a[0], a[0], a[1], a[2]].map((o) => o.orderId));
  });

  test('GIVEN a failure THEN a later record of the key applied by an earlier invocation is reported with it', async () => {
    const failing = orderPlaced({ sku: 'SKU-A' });
    const consumer = orderConsumer(h, {
      fail: (orderId) => (orderId === failing.orderId ? new Error('busy') : undefined),
    });
    const done = orderPlaced({ sku: 'SKU-A' });
    const toRecord = (o: Record<string, unknown>) => kinesisRecord(JSON.stringify(o), { partitionKey: 'SKU-A' });
    await consumer.stream(kinesisEvent([toRecord(done)]), lambdaContext());
    const records = [orderPlaced({ sku: 'SKU-A' }), failing, done].map(toRecord);

    const response = await consumer.stream(kinesisEvent(records), lambdaContext());

    // As if it had not been attempted: the retry starts at the failure and finds it done then.
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
      [records[1], records[2]].map((r) => r.kinesis.sequenceNumber),
    );
  });

  test('GIVEN binary data THEN the full record goes to the failure queue, base64, with shard and sequence number', async () => {
    const consumer = orderConsumer(h);
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x10, 0x80]);
    const record = kinesisRecord(bytes, { partitionKey: 'p1' });

    const response = await consumer.stream(kinesisEvent([record]), lambdaContext());

    expect(response.batchItemFailures).toEqual([]);
    const letter = (await deadLetters(h)).find(
      (m) =>
        m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.recordId]?.StringValue ===
        `shardId-000000000000:${record.kinesis.sequenceNumber}`,
    );
    expect(letter?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.bodyEncoding]?.StringValue).toBe('base64');
    expect(Buffer.from(letter?.Body as string, 'base64')).toEqual(bytes);
    expect(letter?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe(
      'InvalidJsonError: the body is not valid UTF-8 text',
    );
    expect(letter?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.partitionKey]?.StringValue).toBe('p1');
  });

  test('GIVEN duplicates under different partition keys THEN the first settles the second without a deadlock', async () => {
    const consumer = orderConsumer(h);
    const order = orderPlaced();
    // A pathological batch: the duplicate sits under another partition key that comes first.
    const records = [
      kinesisRecord(JSON.stringify(orderPlaced()), { partitionKey: 'x' }),
      kinesisRecord(JSON.stringify(order), { partitionKey: 'y' }),
      kinesisRecord(JSON.stringify(order), { partitionKey: 'x' }),
    ];
    const single = withOwnKeyPrefix('single', () =>
      createStreamConsumer({
        events: {
          OrderPlaced: defineEventHandler({
            schema: OrderPlacedSchema,
            idempotencyKey: 'orderId',
            handle: async () => {},
          }),
        },
        maxConcurrency: 1,
        idempotencyTableName: h.tableName,
        deadLetterQueueUrl: h.deadLetterQueueUrl,
        sqsClient: h.sqs,
      }),
    );

    const [response, singleResponse] = await Promise.all([
      consumer.stream(kinesisEvent(records), lambdaContext()),
      single(kinesisEvent(records), lambdaContext()),
    ]);

    expect(response.batchItemFailures).toEqual([]);
    expect(singleResponse.batchItemFailures).toEqual([]);
    expect(consumer.runs.filter((id) => id === order.orderId)).toHaveLength(1);
  });
});

describe('observability', () => {
  test('GIVEN a mixed batch THEN EMF metrics count processed, duplicate, invalid and failed records, and record age', async () => {
    const h = await harness();
    const metrics = new Metrics({ namespace: 'EdaKitTest', serviceName: 'orders' });
    const published: EmfOutput[] = [];
    metrics.publishStoredMetrics = () => {
      published.push(metrics.serializeMetrics());
      metrics.clearMetrics();
      return metrics;
    };
    const failing = orderPlaced();
    const duplicate = orderPlaced();
    const consumer = withOwnKeyPrefix('orders', () =>
      createQueueConsumer({
        events: {
          OrderPlaced: defineEventHandler({
            schema: OrderPlacedSchema,
            idempotencyKey: 'orderId',
            handle: async (order) => {
              if (order.orderId === failing.orderId) throw new Error('throttled');
            },
          }),
        },
        idempotencyTableName: h.tableName,
        deadLetterQueueUrl: h.deadLetterQueueUrl,
        sqsClient: h.sqs,
        metrics,
      }),
    );
    const batch = [orderPlaced(), duplicate, duplicate, failing, 'not json'].map((event) =>
      sqsRecord(typeof event === 'string' ? event : JSON.stringify(event), { sentAtMs: Date.now() - 5_000 }),
    );

    await consumer(sqsEvent(batch), lambdaContext());

    expect(published).toHaveLength(1);
    const [emf] = published;
    const sum = (name: string) => [emf[name as keyof EmfOutput]].flat().reduce((a: number, b) => a + Number(b), 0);
    expect(sum('ProcessedRecords')).toBe(2);
    expect(sum('DuplicateRecords')).toBe(1);
    expect(sum('InvalidRecords')).toBe(1);
    expect(sum('FailedRecords')).toBe(1);
    expect(Math.min(...[emf.RecordAge as unknown as number[]].flat())).toBeGreaterThanOrEqual(5_000);
    expect(emf._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
  });

  test('GIVEN a failing record THEN its log line has the correlation ID and record identity, and no email address', async () => {
    const h = await harness();
    const order = orderPlaced({ customerEmail: 'secret.person@example.com' });
    const lines: string[] = [];
    const capture = (chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    };
    const spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation(capture),
      vi.spyOn(process.stderr, 'write').mockImplementation(capture),
    ];
    try {
      const consumer = withOwnKeyPrefix('orders', () =>
        createQueueConsumer({
          events: {
            OrderPlaced: defineEventHandler({
              schema: OrderPlacedSchema,
              idempotencyKey: 'orderId',
              handle: async (o) => {
                throw new Error(`mail server refused ${o.customerEmail}`);
              },
            }),
          },
          idempotencyTableName: h.tableName,
          deadLetterQueueUrl: h.deadLetterQueueUrl,
          sqsClient: h.sqs,
          logger: new Logger({ logLevel: 'INFO', jsonReplacerFn: redactPersonalData }),
        }),
      );
      const record = sqsRecord(JSON.stringify(order));

      await consumer(sqsEvent([record]), lambdaContext());

      const failure = lines
        .map((line) => JSON.parse(line))
        .find((entry) => entry.message === 'Record failed; the platform will retry it');
      expect(failure).toMatchObject({
        level: 'ERROR',
        correlation_id: order.eventId,
        record: { kind: 'sqs', id: record.messageId, sourceArn: record.eventSourceARN },
      });
      expect(failure.error.message).toBe(`mail server refused ${REDACTED}`);
      expect(lines.join('\n')).not.toContain('secret.person@example.com');
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});
