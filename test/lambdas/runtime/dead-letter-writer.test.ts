import { randomBytes, randomUUID } from 'node:crypto';
import { type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, test } from 'vitest';
import { DEAD_LETTER_ATTRIBUTES, deadLetterMarkKey } from '../../../contract';
import { DEAD_LETTER_IDENTITY_ATTRIBUTE, DeadLetterWriter } from '../../../lambdas/runtime/dead-letter-writer';
import { SchemaViolationError } from '../../../lambdas/runtime/errors';
import { type RecordSource, readKinesisRecord, readSqsRecord, sourceDigest } from '../../../lambdas/runtime/records';
import { createQueue, emulatorClients } from '../../../local/emulators';
import * as deadLetters from '../../../ops/dead-letters';
import { FIFO_QUEUE_ARN, kinesisRecord, QUEUE_ARN, STREAM_ARN, sqsRecord } from '../../helpers/records';

const { sqs } = emulatorClients({
  dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
  sqs: process.env.AWS_ENDPOINT_URL_SQS as string,
  kinesis: process.env.AWS_ENDPOINT_URL_KINESIS as string,
});

/** The SQS limit for a whole message, body and attributes. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** A cut body uses the room its attributes leave: under the message limit, and within 2 KiB of it. */
function expectNearlyFull(message: Message): void {
  const bodyBytes = Buffer.byteLength(message.Body as string);
  expect(bodyBytes).toBeLessThan(MAX_MESSAGE_BYTES);
  expect(bodyBytes).toBeGreaterThan(MAX_MESSAGE_BYTES - 2048);
}

const schemaError = () =>
  new SchemaViolationError('OrderPlaced', ['quantity: Invalid value: Expected >=1 but received 0']);

/** The key prefix of the consumer the writers in these tests write for. */
const KEY_PREFIX = 'order-processor.';

/** A new dead-letter queue of its own, so tests never read each other's messages. */
async function deadLetterQueue(fifo = false): Promise<{ queueUrl: string; writer: DeadLetterWriter }> {
  const queueUrl = fifo
    ? await createQueue(sqs, `dlq-${randomUUID()}.fifo`, { FifoQueue: 'true' })
    : await createQueue(sqs, `dlq-${randomUUID()}`);
  return { queueUrl, writer: new DeadLetterWriter(sqs, queueUrl, KEY_PREFIX) };
}

/** The identity a dead letter of `source` from the tests' consumer carries: the key of its dead-letter mark. */
const identityOf = (source: RecordSource) => deadLetterMarkKey(KEY_PREFIX, sourceDigest(source));

/** Everything in the queue (each test's queue holds at most a few messages). */
async function receiveAll(queueUrl: string): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
      // local-aws-sqs returns system attributes (MessageGroupId...) only through this older parameter.
      AttributeNames: ['All'],
      VisibilityTimeout: 60,
    }),
  );
  return Messages;
}

async function receiveOne(queueUrl: string): Promise<Message> {
  const messages = await receiveAll(queueUrl);
  expect(messages).toHaveLength(1);
  return messages[0];
}

/** The message's attributes as name to string value. */
function attributesOf(message: Message): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]),
  );
}

describe('DeadLetterWriter.send with a text body', () => {
  test('puts a Kinesis record byte-exact with its reason, error, source, record id, encoding and partition key', async () => {
    // GIVEN a Kinesis record whose body is valid SQS text: JSON with tabs, newlines and characters beyond ASCII
    const { queueUrl, writer } = await deadLetterQueue();
    const text = `{"type":"OrderPlaced",\r\n\t"city":"São Paulo 🏙️ 東京","quantity":0}\n`;
    const record = kinesisRecord(text, { partitionKey: 'order-42' });
    const { bytes, source } = readKinesisRecord(record);

    // WHEN it is dead-lettered
    await writer.send(bytes, source, schemaError());

    // THEN the message holds the original bytes and every attribute
    const message = await receiveOne(queueUrl);
    expect(message.Body).toBe(text);
    expect(Buffer.from(message.Body as string, 'utf8').equals(bytes)).toBe(true);
    expect(attributesOf(message)).toEqual({
      [DEAD_LETTER_ATTRIBUTES.reason]:
        'SchemaViolationError: the OrderPlaced event does not match its schema: quantity: Invalid value: Expected >=1 but received 0',
      [DEAD_LETTER_ATTRIBUTES.error]: 'SchemaViolationError',
      [DEAD_LETTER_ATTRIBUTES.sourceArn]: STREAM_ARN,
      [DEAD_LETTER_ATTRIBUTES.recordId]: `shardId-000000000000:${record.kinesis.sequenceNumber}`,
      [DEAD_LETTER_IDENTITY_ATTRIBUTE]: identityOf(source),
      [DEAD_LETTER_ATTRIBUTES.bodyEncoding]: 'utf8',
      [DEAD_LETTER_ATTRIBUTES.partitionKey]: 'order-42',
    });
  });

  test('puts an SQS record with its message ID and no partition key', async () => {
    // GIVEN an SQS record
    const { queueUrl, writer } = await deadLetterQueue();
    const record = sqsRecord('{"type":"Unknown"}');
    const { bytes, source } = readSqsRecord(record);

    // WHEN it is dead-lettered
    await writer.send(bytes, source, new TypeError('boom'));

    // THEN
    const message = await receiveOne(queueUrl);
    expect(message.Body).toBe('{"type":"Unknown"}');
    expect(attributesOf(message)).toEqual({
      [DEAD_LETTER_ATTRIBUTES.reason]: 'TypeError: boom',
      [DEAD_LETTER_ATTRIBUTES.error]: 'TypeError',
      [DEAD_LETTER_ATTRIBUTES.sourceArn]: QUEUE_ARN,
      [DEAD_LETTER_ATTRIBUTES.recordId]: record.messageId,
      [DEAD_LETTER_IDENTITY_ATTRIBUTE]: identityOf(source),
      [DEAD_LETTER_ATTRIBUTES.bodyEncoding]: 'utf8',
    });
  });

  test('cuts the reason to 1024 characters', async () => {
    // GIVEN an error with a very long message
    const { queueUrl, writer } = await deadLetterQueue();
    const { bytes, source } = readSqsRecord(sqsRecord('{}'));

    // WHEN it is dead-lettered
    await writer.send(bytes, source, new Error('x'.repeat(10_000)));

    // THEN the reason holds the first 1024 characters of "Name: message"
    const reason = attributesOf(await receiveOne(queueUrl))[DEAD_LETTER_ATTRIBUTES.reason];
    expect(reason).toBe(`Error: ${'x'.repeat(1024 - 'Error: '.length)}`);
  });

  test('escapes characters SQS rejects in a reason, so the message is still accepted', async () => {
    const { queueUrl, writer } = await deadLetterQueue();
    const { bytes, source } = readSqsRecord(sqsRecord('{}'));

    await writer.send(bytes, source, new Error('bad \u0000 and \ufffe here'));

    expect(attributesOf(await receiveOne(queueUrl))[DEAD_LETTER_ATTRIBUTES.reason]).toBe(
      'Error: bad \\u0000 and \\ufffe here',
    );
  });
});

describe('DeadLetterWriter.send with a body that cannot travel as SQS text', () => {
  test.each([
    ['binary data', Buffer.from([0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff])],
    ['invalid UTF-8', Buffer.from([0xff, 0xfe])],
    ['a UTF-8 sequence cut short', Buffer.from([0x7b, 0xe2, 0x82])],
    ['text with \\u0000', Buffer.from('{"type":"Ping","id":"a\u0000b"}', 'utf8')],
    ['text with \\u0001', Buffer.from('\u0001', 'utf8')],
    ['text with \\u001f', Buffer.from('tab is fine\t, unit separator is not\u001f', 'utf8')],
    ['text with the non-character \\ufffe', Buffer.from('a\ufffeb', 'utf8')],
    ['random bytes', randomBytes(4096)],
  ])('sends %s as base64 that decodes to the original bytes', async (_, original) => {
    // GIVEN a Kinesis record of those bytes
    const { queueUrl, writer } = await deadLetterQueue();
    const { bytes, source } = readKinesisRecord(kinesisRecord(original));
    expect(bytes.equals(original)).toBe(true);

    // WHEN it is dead-lettered
    await writer.send(bytes, source, schemaError());

    // THEN the body is base64 of the exact bytes, and says so
    const message = await receiveOne(queueUrl);
    expect(attributesOf(message)[DEAD_LETTER_ATTRIBUTES.bodyEncoding]).toBe('base64');
    expect(Buffer.from(message.Body as string, 'base64').equals(original)).toBe(true);
    expect(message.Body).toBe(original.toString('base64'));
    expect(attributesOf(message)[DEAD_LETTER_ATTRIBUTES.truncatedFromBytes]).toBeUndefined();
  });

  test('still sends a message for an empty body', async () => {
    // GIVEN a Kinesis record with no data (SQS rejects an empty message body)
    const { queueUrl, writer } = await deadLetterQueue();
    const { bytes, source } = readKinesisRecord(kinesisRecord(Buffer.alloc(0), { partitionKey: 'empty' }));

    // WHEN it is dead-lettered
    await writer.send(bytes, source, schemaError());

    // THEN a message arrives with its source and reason
    const message = await receiveOne(queueUrl);
    expect(attributesOf(message)).toMatchObject({
      [DEAD_LETTER_ATTRIBUTES.error]: 'SchemaViolationError',
      [DEAD_LETTER_ATTRIBUTES.recordId]: source.id,
      [DEAD_LETTER_ATTRIBUTES.partitionKey]: 'empty',
    });
    expect(message.Body?.trim()).toBe('');
    expect(attributesOf(message)[DEAD_LETTER_ATTRIBUTES.bodyEncoding]).toBe('empty');
  });
});

describe('DeadLetterWriter.send with a body over the SQS message size', () => {
  // local-aws-sqs accepts messages up to 1 MiB (MaximumMessageSize 1048576), as SQS does since 2025, so these run
  // end to end.

  test('cuts a 1 MiB text body to fit and records the original size', async () => {
    // GIVEN a Kinesis record of 1 MiB of text
    const { queueUrl, writer } = await deadLetterQueue();
    const text = `{"padding":"${'a'.repeat(1024 * 1024 - 14)}"}`;
    const { bytes, source } = readKinesisRecord(kinesisRecord(text));
    expect(bytes.length).toBe(1024 * 1024);

    // WHEN it is dead-lettered
    await writer.send(bytes, source, schemaError());

    // THEN the body is the start of the original, as large as allowed, and the original size is recorded
    const message = await receiveOne(queueUrl);
    expectNearlyFull(message);
    expect(text.startsWith(message.Body as string)).toBe(true);
    expect(attributesOf(message)).toMatchObject({
      [DEAD_LETTER_ATTRIBUTES.bodyEncoding]: 'utf8',
      [DEAD_LETTER_ATTRIBUTES.truncatedFromBytes]: String(1024 * 1024),
    });
    expect(message.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.truncatedFromBytes]?.DataType).toBe('Number');
  });

  test('never cuts a multi-byte character in half', async () => {
    // GIVEN a body of 3-byte characters whose cut at the limit falls inside a character
    const { queueUrl, writer } = await deadLetterQueue();
    const text = '€'.repeat(350_000);
    const { bytes, source } = readKinesisRecord(kinesisRecord(text));

    // WHEN it is dead-lettered
    await writer.send(bytes, source, schemaError());

    // THEN the body keeps only whole characters
    const message = await receiveOne(queueUrl);
    expect(message.Body).toMatch(/^€+$/);
    expectNearlyFull(message);
    expect(attributesOf(message)[DEAD_LETTER_ATTRIBUTES.truncatedFromBytes]).toBe(String(bytes.length));
  });

  test('cuts a large binary body after base64 and records the original size', async () => {
    // GIVEN 1,000,000 random bytes, whose base64 (1,333,336 characters) exceeds the limit
    const { queueUrl, writer } = await deadLetterQueue();
    const original = randomBytes(1_000_000);
    const { bytes, source } = readKinesisRecord(kinesisRecord(original));

    // WHEN it is dead-lettered
    await writer.send(bytes, source, schemaError());

    // THEN the body is the start of the base64 text and decodes to the start of the original bytes
    const message = await receiveOne(queueUrl);
    expectNearlyFull(message);
    expect(original.toString('base64').startsWith(message.Body as string)).toBe(true);
    const decoded = Buffer.from(message.Body as string, 'base64');
    expect(decoded.equals(original.subarray(0, decoded.length))).toBe(true);
    expect(attributesOf(message)).toMatchObject({
      [DEAD_LETTER_ATTRIBUTES.bodyEncoding]: 'base64',
      [DEAD_LETTER_ATTRIBUTES.truncatedFromBytes]: '1000000',
    });
  });
});

describe('DeadLetterWriter.send with a large body and a large reason', () => {
  test('leaves room for the attributes, so the message still fits', async () => {
    // GIVEN 1,000,000 zero bytes (base64) and a reason full of characters that must be escaped
    const { queueUrl, writer } = await deadLetterQueue();
    const { bytes, source } = readKinesisRecord(kinesisRecord(Buffer.alloc(1_000_000, 0)));

    // WHEN it is dead-lettered
    await writer.send(bytes, source, new Error(`x${'\u0000'.repeat(5000)}`));

    // THEN SQS takes it, cut and marked
    const message = await receiveOne(queueUrl);
    expect(attributesOf(message)[DEAD_LETTER_ATTRIBUTES.truncatedFromBytes]).toBe('1000000');
  });
});

describe('DeadLetterWriter identity', () => {
  test('gives every copy of one record the same identity, which the operations tools read', async () => {
    // GIVEN a record dead-lettered twice (its environment died between the send and the mark, and it was retried)
    const { queueUrl, writer } = await deadLetterQueue();
    const { bytes, source } = readSqsRecord(sqsRecord('{"type":"Unknown"}'));

    // WHEN both deliveries send it
    await writer.send(bytes, source, schemaError());
    await writer.send(bytes, source, schemaError());

    // THEN the standard queue holds two messages with one identity, and the operations tools count one record
    const messages = await receiveAll(queueUrl);
    expect(messages).toHaveLength(2);
    expect(new Set(messages.map((message) => message.MessageId)).size).toBe(2);
    expect(messages.map((message) => attributesOf(message)[DEAD_LETTER_IDENTITY_ATTRIBUTE])).toEqual([
      identityOf(source),
      identityOf(source),
    ]);
    expect(deadLetters.DEAD_LETTER_IDENTITY_ATTRIBUTE).toBe(DEAD_LETTER_IDENTITY_ATTRIBUTE);
    expect(new Set(messages.map(deadLetters.deadLetterIdentity))).toEqual(new Set([`record ${identityOf(source)}`]));
    expect(deadLetters.distinctDeadLetters(messages).copies).toHaveLength(1);
  });

  test('tells apart two consumers that dead-letter the same record, and two records of one consumer', () => {
    // GIVEN two records of one stream, and writers of two consumers
    const first = readKinesisRecord(kinesisRecord('{}')).source;
    const second = readKinesisRecord(kinesisRecord('{}')).source;
    const inventory = new DeadLetterWriter(sqs, 'unused', 'inventory-updater.');
    const audit = new DeadLetterWriter(sqs, 'unused', 'audit-log-writer.');

    // THEN each (consumer, record) pair has an identity of its own, and the same pair always the same one
    const identities = [inventory.identity(first), inventory.identity(second), audit.identity(first)];
    expect(new Set(identities).size).toBe(3);
    expect(inventory.identity(first)).toBe(new DeadLetterWriter(sqs, 'unused', 'inventory-updater.').identity(first));
    expect(inventory.identity(first)).toMatch(/^inventory-updater\.dead-letter#[0-9a-f]{64}$/);
  });

  test("takes the consumer's key prefix from the environment when given none, as the consumer does", () => {
    // GIVEN the environment the constructs set
    const { source } = readSqsRecord(sqsRecord('{}'));
    const saved = process.env.IDEMPOTENCY_KEY_PREFIX;
    process.env.IDEMPOTENCY_KEY_PREFIX = 'notification-sender.';
    try {
      // WHEN a writer is made without a prefix, THEN its identities are under the environment's
      expect(new DeadLetterWriter(sqs, 'unused').identity(source)).toBe(
        new DeadLetterWriter(sqs, 'unused', 'notification-sender.').identity(source),
      );
    } finally {
      if (saved === undefined) delete process.env.IDEMPOTENCY_KEY_PREFIX;
      else process.env.IDEMPOTENCY_KEY_PREFIX = saved;
    }
  });
});

describe('DeadLetterWriter.send to a FIFO dead-letter queue', () => {
  test('groups by the source message group and sends the same record once', async () => {
    // GIVEN a record of a FIFO source queue
    const { queueUrl, writer } = await deadLetterQueue(true);
    const { bytes, source } = readSqsRecord(
      sqsRecord('{"type":"OrderPlaced"}', { queueArn: FIFO_QUEUE_ARN, messageGroupId: 'customer-7' }),
    );

    // WHEN it is dead-lettered twice (a retried send)
    await writer.send(bytes, source, schemaError());
    await writer.send(bytes, source, schemaError());

    // THEN one message arrives, in the source's group, with a deduplication ID
    const message = await receiveOne(queueUrl);
    expect(message.Body).toBe('{"type":"OrderPlaced"}');
    expect(message.Attributes?.MessageGroupId).toBe('customer-7');
    expect(message.Attributes?.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
    expect(attributesOf(message)[DEAD_LETTER_ATTRIBUTES.sourceArn]).toBe(FIFO_QUEUE_ARN);
  });

  test('groups a Kinesis record by its partition key', async () => {
    // GIVEN a Kinesis record
    const { queueUrl, writer } = await deadLetterQueue(true);
    const { bytes, source } = readKinesisRecord(kinesisRecord('{}', { partitionKey: 'order-42' }));

    // WHEN it is dead-lettered twice
    await writer.send(bytes, source, schemaError());
    await writer.send(bytes, source, schemaError());

    // THEN one message arrives in the partition key's group
    const message = await receiveOne(queueUrl);
    expect(message.Attributes?.MessageGroupId).toBe('order-42');
  });

  test('keeps two different records with the same body as two messages', async () => {
    // GIVEN two records of one group with the same body
    const { queueUrl, writer } = await deadLetterQueue(true);
    const first = readSqsRecord(sqsRecord('{}', { queueArn: FIFO_QUEUE_ARN, messageGroupId: 'g' }));
    const second = readSqsRecord(sqsRecord('{}', { queueArn: FIFO_QUEUE_ARN, messageGroupId: 'g' }));

    // WHEN both are dead-lettered
    await writer.send(first.bytes, first.source, schemaError());
    await writer.send(second.bytes, second.source, schemaError());

    // THEN both arrive, in send order
    const messages = await receiveAll(queueUrl);
    expect(messages.map((m) => attributesOf(m)[DEAD_LETTER_ATTRIBUTES.recordId])).toEqual([
      first.source.id,
      second.source.id,
    ]);
  });
});

describe('DeadLetterWriter.send when SQS does not take the message', () => {
  test('rejects when the queue does not exist, so the caller can report a transient failure', async () => {
    // GIVEN a writer for a queue URL that does not exist
    const { queueUrl } = await deadLetterQueue();
    const writer = new DeadLetterWriter(sqs, queueUrl.replace(/dlq-[^/]+$/, `missing-${randomUUID()}`));
    const { bytes, source } = readSqsRecord(sqsRecord('{}'));

    // WHEN a record is sent, THEN the send rejects with the SQS error
    await expect(writer.send(bytes, source, schemaError())).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
  });
});
