import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeleteItemCommand, GetItemCommand, PutItemCommand, paginateScan } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  PutRecordCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-kinesis';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { type Message, SendMessageCommand } from '@aws-sdk/client-sqs';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, type TestContext, test } from 'vitest';
import { DEAD_LETTER_ATTRIBUTES } from '../../contract';
import { listMessages } from '../../ops/dead-letters';
import { replay, replayFromBucket } from '../../ops/replay';
import { clientConfig, connectTarget, type E2eTarget } from './target';

/**
 * The reference app end to end, on the target `EDA_KIT_E2E_TARGET` names (see target.ts): the embedded local cloud
 * by default, LocalStack, or an AWS account. Everything is found through the stack's outputs and reached with stock
 * SDK clients, so the same tests serve every target.
 */
describe(`the reference app end to end (${process.env.EDA_KIT_E2E_TARGET ?? 'local'})`, () => {
  let target: E2eTarget | undefined;
  let skipReason: string | undefined;
  /** One SKU per run: the inventory's reservations for it belong to this run's orders only. */
  const sku = `SKU-E2E-${randomUUID().slice(0, 8).toUpperCase()}`;

  beforeAll(async () => {
    const connected = await connectTarget();
    if ('skipReason' in connected) {
      skipReason = `${connected.name}: ${connected.skipReason}`;
      console.warn(`Skipping the end-to-end tests on ${skipReason}`);
    } else target = connected;
  }, 120_000);

  afterAll(async () => {
    await target?.stop();
  });

  /** The target, or the test is skipped with the reason the target cannot be reached. */
  const on = (context: TestContext): E2eTarget => {
    if (!target) context.skip(skipReason);
    return target as E2eTarget;
  };
  const output = (t: E2eTarget, key: string) => {
    const value = t.outputs[key];
    if (!value) throw new Error(`the stack has no output ${key}`);
    return value;
  };
  const poll = { interval: 250 };

  const order = (overrides: Record<string, unknown> = {}) => ({
    orderId: `e2e-${randomUUID()}`,
    customerId: 'c-e2e',
    customerEmail: 'e2e@example.com',
    sku,
    quantity: 3,
    unitPriceCents: 1_250,
    currency: 'EUR',
    ...overrides,
  });

  /** Places an order through the order API (Lambda Invoke, as its function URL would): 202 and the event ID. */
  async function placeOrder(t: E2eTarget, request: Record<string, unknown>): Promise<string> {
    const { Payload, FunctionError } = await t.lambda.send(
      new InvokeCommand({
        FunctionName: output(t, 'OrderApiFunctionName'),
        Payload: JSON.stringify({ body: JSON.stringify(request), isBase64Encoded: false }),
      }),
    );
    const response = JSON.parse(Buffer.from(Payload ?? new Uint8Array()).toString('utf8'));
    expect(FunctionError, JSON.stringify(response)).toBeUndefined();
    expect(response.statusCode, response.body).toBe(202);
    return JSON.parse(response.body).eventId;
  }

  async function scan(t: E2eTarget, tableOutput: string): Promise<Record<string, any>[]> {
    const items: Record<string, any>[] = [];
    for await (const page of paginateScan({ client: t.dynamodb }, { TableName: output(t, tableOutput) })) {
      items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
    }
    return items;
  }

  async function item(t: E2eTarget, tableOutput: string, key: Record<string, string | number>) {
    const { Item } = await t.dynamodb.send(
      new GetItemCommand({
        TableName: output(t, tableOutput),
        Key: Object.fromEntries(
          Object.entries(key).map(([name, value]) => [
            name,
            typeof value === 'number' ? { N: String(value) } : { S: value },
          ]),
        ),
        ConsistentRead: true,
      }),
    );
    return Item && unmarshall(Item);
  }

  async function putItem(t: E2eTarget, tableOutput: string, value: Record<string, unknown>): Promise<void> {
    await t.dynamodb.send(new PutItemCommand({ TableName: output(t, tableOutput), Item: marshall(value) }));
  }

  async function deleteItem(t: E2eTarget, tableOutput: string, key: Record<string, unknown>): Promise<void> {
    await t.dynamodb.send(new DeleteItemCommand({ TableName: output(t, tableOutput), Key: marshall(key) }));
  }

  /** Units reserved for a SKU (by default this run's), over every reservation item of it. */
  const reservedUnits = async (t: E2eTarget, ofSku = sku) =>
    (await scan(t, 'InventoryTableName'))
      .filter((entry) => entry.sku === ofSku)
      .reduce((sum, entry) => sum + Number(entry.reserved ?? 0), 0);

  test('an order placed through the order API takes effect once in every use case, its producer retry included', async (context) => {
    const t = on(context);
    const placed = order();
    // GIVEN a producer that retries: the same order twice, two events with two event IDs
    const eventIds = [await placeOrder(t, placed), await placeOrder(t, placed)];

    // THEN every consumer applies it, once
    await expect
      .poll(() => item(t, 'OrdersTableName', { orderId: placed.orderId }), { ...poll, timeout: t.settleMs })
      .toMatchObject({
        orderId: placed.orderId,
        quantity: 3,
      });
    await expect
      .poll(() => item(t, 'SentEmailsTableName', { messageId: `order-confirmation#${placed.orderId}` }), {
        ...poll,
        timeout: t.settleMs,
      })
      .toBeDefined();
    // The audit log keeps every event: both.
    await expect
      .poll(
        async () =>
          (await scan(t, 'AuditLogTableName'))
            .filter((entry) => entry.orderId === placed.orderId)
            .map((entry) => entry.eventId)
            .sort(),
        {
          ...poll,
          timeout: t.settleMs,
        },
      )
      .toEqual([...eventIds].sort());
    await expect
      .poll(() => item(t, 'AnalyticsTableName', { minute: `order#${placed.orderId}`, slot: 0 }), {
        ...poll,
        timeout: t.settleMs,
      })
      .toBeDefined();
    // Reserved once, not twice: a later order on the same SKU (the same shard, after both events) lands only once
    // both events of the first were handled, and the total is then the two orders' units, 3 + 1.
    await placeOrder(t, order({ quantity: 1 }));
    await expect.poll(() => reservedUnits(t), { ...poll, timeout: t.settleMs }).toBe(4);
    const counted = (await scan(t, 'AnalyticsTableName')).filter((entry) => entry.orderIds?.has?.(placed.orderId));
    expect(counted).toHaveLength(1);
  }, 240_000);

  test('bad events land in each consumer’s dead-letter queue once, with their reason, and block nothing', async (context) => {
    const t = on(context);
    const valid = { ...order(), type: 'OrderPlaced', eventId: randomUUID(), placedAt: new Date().toISOString() };
    const marker = randomUUID();
    // Each bad event, the reason it must be given, and whether SQS can carry it (SQS bodies are text).
    const catalogue: [string, Buffer, string, boolean][] = [
      ['malformed JSON', Buffer.from(`{"type":"OrderPlaced","marker":"${marker}",`), 'InvalidJsonError', true],
      ['wrong types', Buffer.from(JSON.stringify({ ...valid, quantity: 'one', marker })), 'SchemaViolationError', true],
      [
        'missing idempotency key',
        Buffer.from(JSON.stringify({ ...valid, orderId: undefined, marker })),
        'SchemaViolationError',
        true,
      ],
      [
        'unknown event type',
        Buffer.from(JSON.stringify({ ...valid, type: 'OrderTeleported', marker })),
        'UnknownEventTypeError',
        true,
      ],
      ['valid JSON, not an object', Buffer.from(JSON.stringify(`OrderPlaced ${marker}`)), 'InvalidJsonError', true],
      [
        'binary data',
        Buffer.concat([Buffer.from([0x00, 0x01, 0x80, 0x90]), Buffer.from(marker)]),
        'InvalidJsonError',
        false,
      ],
    ];
    for (const [, bytes, , sqsCarries] of catalogue) {
      if (sqsCarries) {
        for (const queue of ['OrdersQueueUrl', 'NotificationsQueueUrl']) {
          await t.sqs.send(new SendMessageCommand({ QueueUrl: output(t, queue), MessageBody: bytes.toString('utf8') }));
        }
      }
      await t.kinesis.send(
        new PutRecordCommand({ StreamName: output(t, 'OrderEventsStreamName'), PartitionKey: sku, Data: bytes }),
      );
    }
    // AND a valid order after the bad ones, on the same queues and the same partition key
    const after = order();
    await placeOrder(t, after);

    // THEN the valid order gets through every consumer
    await expect
      .poll(() => item(t, 'OrdersTableName', { orderId: after.orderId }), { ...poll, timeout: t.settleMs })
      .toBeDefined();
    await expect
      .poll(() => item(t, 'SentEmailsTableName', { messageId: `order-confirmation#${after.orderId}` }), {
        ...poll,
        timeout: t.settleMs,
      })
      .toBeDefined();
    await expect
      .poll(async () => (await scan(t, 'AuditLogTableName')).some((entry) => entry.orderId === after.orderId), {
        ...poll,
        timeout: t.settleMs,
      })
      .toBe(true);
    // AND each bad event sits in each consumer's dead-letter or failure queue once, with its reason
    const deadLetterQueues: Record<string, typeof catalogue> = {
      OrdersDeadLetterQueueUrl: catalogue.filter(([, , , sqsCarries]) => sqsCarries),
      NotificationsDeadLetterQueueUrl: catalogue.filter(([, , , sqsCarries]) => sqsCarries),
      InventoryUpdaterFailureQueueUrl: catalogue,
      AuditLogWriterFailureQueueUrl: catalogue,
      AnalyticsAggregatorFailureQueueUrl: catalogue,
    };
    const bodyOf = (letter: Message) =>
      letter.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.bodyEncoding]?.StringValue === 'base64'
        ? Buffer.from(letter.Body ?? '', 'base64')
        : Buffer.from(letter.Body ?? '', 'utf8');
    for (const [queue, expected] of Object.entries(deadLetterQueues)) {
      // Each listing hides what it read for a second: the next one waits longer than that.
      let letters: Message[] = [];
      await expect
        .poll(
          async () => {
            letters = (await listMessages(t.sqs, output(t, queue), { visibilityTimeoutSeconds: 1 })).filter((letter) =>
              bodyOf(letter).includes(marker),
            );
            return letters.length;
          },
          { interval: 1_500, timeout: t.settleMs },
        )
        .toBe(expected.length);
      for (const [name, bytes, reason] of expected) {
        const found = letters.filter((letter) => bodyOf(letter).equals(bytes));
        expect(found.length, `${queue}: ${name}`).toBe(1);
        expect(found[0].MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.error]?.StringValue, `${queue}: ${name}`).toBe(
          reason,
        );
      }
    }
  }, 240_000);

  test('records a stream consumer gave up on, replayed from the stream, are applied once', async (context) => {
    const t = on(context);
    // GIVEN an order whose effects exist, on a SKU of its own
    const replaySku = `${sku}-R`;
    const first = order({ sku: replaySku, quantity: 5 });
    await placeOrder(t, first);
    await expect.poll(() => reservedUnits(t, replaySku), { ...poll, timeout: t.settleMs }).toBe(5);
    // AND an on-failure record, as the event source mapping writes it, naming that order's record in the stream
    const record = await findRecord(t.kinesis, output(t, 'OrderEventsStreamName'), first.orderId);
    await t.sqs.send(
      new SendMessageCommand({
        QueueUrl: output(t, 'AuditLogWriterFailureQueueUrl'),
        MessageBody: JSON.stringify({
          requestContext: { condition: 'RetryAttemptsExhausted' },
          KinesisBatchInfo: {
            shardId: record.shardId,
            startSequenceNumber: record.record.SequenceNumber,
            endSequenceNumber: record.record.SequenceNumber,
            batchSize: 1,
            streamArn: record.streamArn,
          },
        }),
      }),
    );

    // WHEN it is replayed
    const result = await replay(t.sqs, t.kinesis, { failureQueueUrl: output(t, 'AuditLogWriterFailureQueueUrl') });

    // THEN the record is published again, and once a later order on the same partition key (processed after it) is
    // in the audit log, the first order is in it once
    expect(result).toMatchObject({ batches: 1, records: 1, expired: 0 });
    const later = order({ sku: replaySku, quantity: 2 });
    await placeOrder(t, later);
    const auditEntries = async (orderId: string) =>
      (await scan(t, 'AuditLogTableName')).filter((entry) => entry.orderId === orderId).length;
    await expect.poll(() => auditEntries(later.orderId), { ...poll, timeout: t.settleMs }).toBe(1);
    expect(await auditEntries(first.orderId)).toBe(1);
    expect(await reservedUnits(t, replaySku)).toBe(7);
  }, 240_000);

  test('a batch the inventory updater gave up on is kept whole in S3, replayed after the stream dropped it, and applied once', async (context) => {
    const t = on(context);
    const bucket = output(t, 'InventoryUpdaterFailureBucketName');
    const s3Sku = `${sku}-S3`;
    const failing = order({ sku: s3Sku, quantity: 4 });
    // GIVEN an inventory item the order's reservation cannot be added to (a damaged counter), which makes every
    // attempt fail until the data is repaired: the pin sends the order to that item
    const damaged = { sku: s3Sku, slot: 1 };
    await putItem(t, 'InventoryTableName', { ...damaged, reserved: 'damaged' });
    await putItem(t, 'InventoryTableName', {
      sku: `order#${failing.orderId}`,
      slot: 0,
      pinned: damaged,
      expiresAt: Math.floor(Date.now() / 1000) + 3_600,
    });

    // WHEN the order is placed, and the event source mapping gives up on it after its retries
    await placeOrder(t, failing);
    let kept: { key: string; body: string } | undefined;
    await expect
      .poll(
        async () => {
          kept = (await failureObjects(t, bucket)).find((object) =>
            recordsOf(object.body).some((text) => text.includes(failing.orderId)),
          );
          return kept;
        },
        { interval: 1_000, timeout: t.settleMs * 2 },
      )
      .toBeDefined();

    // THEN the bucket holds the whole invocation record, as Lambda writes it
    expect(kept?.key).toMatch(
      /^aws\/lambda\/[^/]+\/shardId-\d+\/\d{4}\/\d{2}\/\d{2}\/\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}-[0-9a-f-]{36}$/,
    );
    const record = JSON.parse(kept?.body ?? '{}');
    expect(record.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(record.KinesisBatchInfo).toMatchObject({ batchSize: record.payload.Records.length });
    expect(recordsOf(kept?.body ?? '').filter((text) => text.includes(failing.orderId))).toHaveLength(1);

    // WHEN the item is repaired (nothing was reserved), and the batch is replayed from the bucket, with the stream
    // past its retention (simulated: every read of the stream fails as a read of trimmed records does), twice
    await deleteItem(t, 'InventoryTableName', damaged);
    expect(await reservedUnits(t, s3Sku)).toBe(0);
    const afterRetention = streamPastRetention(t);
    const copy = kept as { key: string; body: string };
    const result = await replayFromBucket(t.s3, afterRetention, { bucketName: bucket });
    await t.s3.send(new PutObjectCommand({ Bucket: bucket, Key: copy.key, Body: copy.body }));
    const again = await replayFromBucket(t.s3, afterRetention, { bucketName: bucket });

    // THEN nothing of the stream was read, the objects are gone, and once a later order on the same partition key
    // is reserved the failed order is reserved once
    expect(result.batches).toBeGreaterThanOrEqual(1);
    expect(again).toMatchObject({ batches: 1, records: record.payload.Records.length, failed: 0 });
    await expect(readsStream(afterRetention, output(t, 'OrderEventsStreamName'))).rejects.toThrow(/trimmed/);
    expect((await failureObjects(t, bucket)).map((object) => object.key)).not.toContain(copy.key);
    await placeOrder(t, order({ sku: s3Sku, quantity: 1 }));
    await expect.poll(() => reservedUnits(t, s3Sku), { ...poll, timeout: t.settleMs }).toBe(5);
  }, 240_000);
});

/** Every object of a failure bucket, with its body. */
async function failureObjects(t: E2eTarget, bucket: string): Promise<{ key: string; body: string }[]> {
  const { Contents = [] } = await t.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'aws/lambda/' }));
  return Promise.all(
    Contents.map(async ({ Key }) => {
      const { Body } = await t.s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      return { key: Key as string, body: (await Body?.transformToString('utf8')) ?? '' };
    }),
  );
}

/** The data of each record in a failure bucket's object, as text. */
function recordsOf(body: string): string[] {
  const records = (JSON.parse(body) as { payload?: { Records?: { kinesis: { data: string } }[] } }).payload?.Records;
  return (records ?? []).map((entry) => Buffer.from(entry.kinesis.data, 'base64').toString('utf8'));
}

/**
 * A Kinesis client of the target whose every read of a stream fails, as reading records past the stream's
 * retention does: what a replay could do once the records named in a failure queue are gone. Writes go through.
 */
function streamPastRetention(t: E2eTarget): KinesisClient {
  const client = new KinesisClient(clientConfig(t.endpoint));
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetShardIteratorCommand' || context.commandName === 'GetRecordsCommand')
        throw Object.assign(new Error('the records were trimmed: past the stream retention'), {
          name: 'InvalidArgumentException',
        });
      return next(args);
    },
    { step: 'initialize', name: 'pastRetention' },
  );
  return client;
}

/** Reads the first shard of a stream from its start. */
async function readsStream(kinesis: KinesisClient, streamName: string): Promise<void> {
  await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: 'shardId-000000000000',
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
}

/** The stream record of the order `orderId`, read from the start of every shard. */
async function findRecord(
  kinesis: KinesisClient,
  streamName: string,
  orderId: string,
): Promise<{ shardId: string; streamArn: string; record: StreamRecord }> {
  const { StreamDescription } = await kinesis.send(new DescribeStreamCommand({ StreamName: streamName }));
  for (const shard of StreamDescription?.Shards ?? []) {
    let { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    for (let read = 0; ShardIterator && read < 100; read++) {
      const {
        Records = [],
        NextShardIterator,
        MillisBehindLatest,
      } = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1_000 }));
      const found = Records.find((record) =>
        Buffer.from(record.Data ?? new Uint8Array())
          .toString('utf8')
          .includes(orderId),
      );
      if (found)
        return { shardId: shard.ShardId as string, streamArn: StreamDescription?.StreamARN as string, record: found };
      if (Records.length === 0 && !MillisBehindLatest) break;
      ShardIterator = NextShardIterator;
    }
  }
  throw new Error(`no record of ${orderId} in ${streamName}`);
}

test('the pinned cdklocal wraps the project’s own CDK CLI (the LocalStack target deploys with it)', () => {
  const root = path.resolve(__dirname, '..', '..');
  const version = execFileSync(path.join(root, 'node_modules', '.bin', 'cdklocal'), ['--version'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1' },
  });
  const cli = JSON.parse(readFileSync(path.join(root, 'node_modules', 'aws-cdk', 'package.json'), 'utf8')).version;
  expect(version).toContain(`cdk cli version v${cli}`);
});
