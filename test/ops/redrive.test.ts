import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueueAttributesCommand, type Message, SendMessageCommand } from '@aws-sdk/client-sqs';
import { expect, test } from 'vitest';
import { createQueue } from '../../local/emulators';
import { DEAD_LETTER_IDENTITY_ATTRIBUTE } from '../../ops/dead-letters';
import { emulatorClients } from '../../ops/endpoint-clients';
import { redrive } from '../../ops/redrive';
import { receiveAll as receiveAllMessages } from '../helpers/reference';

const endpoints = {
  dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
  sqs: process.env.AWS_ENDPOINT_URL_SQS as string,
  kinesis: process.env.AWS_ENDPOINT_URL_KINESIS as string,
};
const { sqs } = emulatorClients(endpoints);

const receiveAll = (queueUrl: string) => receiveAllMessages(sqs, queueUrl);

async function queuePair() {
  const id = randomUUID().slice(0, 8);
  const deadLetterQueueUrl = await createQueue(sqs, `redrive-dlq-${id}`);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const sourceQueueUrl = await createQueue(sqs, `redrive-source-${id}`, {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 3 }),
  });
  // Two dead letters written by the kit, one moved by SQS after maxReceiveCount (no kit attributes).
  const kit = (body: string, error: string) =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        MessageBody: body,
        MessageAttributes: {
          'eda-kit.error': { DataType: 'String', StringValue: error },
          'eda-kit.reason': { DataType: 'String', StringValue: `${error}: ...` },
          'trace-id': { DataType: 'String', StringValue: 't-1' },
        },
      }),
    );
  await kit('{"a":1}', 'SchemaViolationError');
  await kit('{"b":2}', 'SchemaViolationError');
  await sqs.send(new SendMessageCommand({ QueueUrl: deadLetterQueueUrl, MessageBody: '{"c":3}' }));
  return { deadLetterQueueUrl, sourceQueueUrl };
}

test('GIVEN a dead-letter queue THEN a dry run counts its messages by reason and moves nothing', async () => {
  const queues = await queuePair();

  const result = await redrive(sqs, { ...queues, dryRun: true });

  expect(result).toEqual({
    method: 'dry-run',
    moved: 0,
    byReason: { SchemaViolationError: 2, 'redriven by SQS': 1 },
    duplicates: 0,
  });
  expect(await receiveAll(queues.sourceQueueUrl)).toEqual([]);
});

test('GIVEN a dead-letter queue read slower than the visibility timeout THEN a dry run counts each message once', async () => {
  // Prepare: a reader that waits past the 1 s visibility timeout before every receive, so what it counted shows
  // again in the queue while it is still counting (a large DLQ read over a slow link does this).
  const queues = await queuePair();
  const slow = emulatorClients(endpoints).sqs;
  const received: string[] = [];
  slow.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      if (context.commandName !== 'ReceiveMessageCommand') return next(args);
      await sleep(1_500);
      const result = await next(args);
      for (const message of result.output.Messages ?? []) received.push(message.MessageId);
      return result;
    },
    { step: 'initialize', name: 'slowReader' },
  );

  // Act (`max` only bounds a count that would never end)
  const result = await redrive(slow, { ...queues, dryRun: true, dryRunVisibilityTimeoutSeconds: 1, max: 12 });

  // Assess: the messages did come back, and each was counted once.
  expect(received.length).toBeGreaterThan(new Set(received).size);
  expect(result).toEqual({
    method: 'dry-run',
    moved: 0,
    byReason: { SchemaViolationError: 2, 'redriven by SQS': 1 },
    duplicates: 0,
  });
  expect(await receiveAll(queues.sourceQueueUrl)).toEqual([]);
});

test('GIVEN a service with StartMessageMoveTask THEN redrive lets SQS move the messages', async () => {
  const queues = await queuePair();

  const result = await redrive(sqs, queues);

  expect(result.method).toBe('move-task');
  expect(result.taskHandle).toBeTruthy();
  const moved: Message[] = [];
  const deadline = Date.now() + 10_000;
  while (moved.length < 3 && Date.now() < deadline) moved.push(...(await receiveAll(queues.sourceQueueUrl)));
  expect(moved.map((message) => message.Body).sort()).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
});

test('GIVEN --poll-and-send (an emulator without the move task) THEN redrive moves each message, keeping bodies and own attributes', async () => {
  const queues = await queuePair();

  const result = await redrive(sqs, { ...queues, pollAndSend: true });

  expect(result).toEqual({
    method: 'poll-and-send',
    moved: 3,
    byReason: { SchemaViolationError: 2, 'redriven by SQS': 1 },
    duplicates: 0,
  });
  const moved = await receiveAll(queues.sourceQueueUrl);
  expect(moved.map((message) => message.Body).sort()).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  const attributes = moved.find((message) => message.Body === '{"a":1}')?.MessageAttributes ?? {};
  expect(Object.keys(attributes)).toEqual(['trace-id']);
  expect(await receiveAll(queues.deadLetterQueueUrl)).toEqual([]);
});

test('GIVEN --max THEN redrive moves at most that many', async () => {
  const queues = await queuePair();

  const result = await redrive(sqs, { ...queues, max: 2, pollAndSend: true });

  expect(result.moved).toBe(2);
  expect(await receiveAll(queues.sourceQueueUrl)).toHaveLength(2);
});

test('GIVEN onlyPlatformMoves THEN only what SQS moved goes back, and the runtime dead letters stay, visible', async () => {
  const queues = await queuePair();

  const result = await redrive(sqs, { ...queues, onlyPlatformMoves: true });

  expect(result).toEqual({ method: 'poll-and-send', moved: 1, byReason: { 'redriven by SQS': 1 }, duplicates: 0 });
  expect((await receiveAll(queues.sourceQueueUrl)).map((message) => message.Body)).toEqual(['{"c":3}']);
  expect((await receiveAll(queues.deadLetterQueueUrl)).map((message) => message.Body).sort()).toEqual([
    '{"a":1}',
    '{"b":2}',
  ]);
});

/** A dead-letter queue holding a record dead-lettered twice (one identity, two messages) and one dead-lettered once. */
async function queuePairWithCopies() {
  const queues = await queuePair();
  const copy = (body: string, identity: string) =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: queues.deadLetterQueueUrl,
        MessageBody: body,
        MessageAttributes: {
          'eda-kit.error': { DataType: 'String', StringValue: 'SchemaViolationError' },
          [DEAD_LETTER_IDENTITY_ATTRIBUTE]: { DataType: 'String', StringValue: identity },
        },
      }),
    );
  await copy('{"d":4}', 'order-processor.dead-letter#d');
  await copy('{"d":4}', 'order-processor.dead-letter#d');
  await copy('{"e":5}', 'order-processor.dead-letter#e');
  return queues;
}

test('GIVEN two copies of one dead letter THEN a dry run counts the record once and the copy apart', async () => {
  const queues = await queuePairWithCopies();

  const result = await redrive(sqs, { ...queues, dryRun: true });

  expect(result).toEqual({
    method: 'dry-run',
    moved: 0,
    byReason: { SchemaViolationError: 4, 'redriven by SQS': 1 },
    duplicates: 1,
  });
});

test('GIVEN two copies of one dead letter THEN poll-and-send moves the record once and deletes the copy', async () => {
  const queues = await queuePairWithCopies();

  const result = await redrive(sqs, { ...queues, pollAndSend: true });

  expect(result).toEqual({
    method: 'poll-and-send',
    moved: 5,
    byReason: { SchemaViolationError: 4, 'redriven by SQS': 1 },
    duplicates: 1,
  });
  const moved = (await receiveAll(queues.sourceQueueUrl)).map((message) => message.Body).sort();
  expect(moved).toEqual(['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}', '{"e":5}']);
  expect(await receiveAll(queues.deadLetterQueueUrl)).toEqual([]);
});

test('GIVEN two copies of one dead letter and the move task THEN the copy is deleted before SQS moves the rest', async () => {
  const queues = await queuePairWithCopies();

  const result = await redrive(sqs, queues);

  expect(result).toMatchObject({ method: 'move-task', duplicates: 1 });
  const moved: Message[] = [];
  const deadline = Date.now() + 10_000;
  while (moved.length < 5 && Date.now() < deadline) moved.push(...(await receiveAll(queues.sourceQueueUrl)));
  expect(moved.map((message) => message.Body).sort()).toEqual(['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}', '{"e":5}']);
  expect(await receiveAll(queues.deadLetterQueueUrl)).toEqual([]);
});

test('GIVEN onlyPlatformMoves and more runtime dead letters than a receive returns THEN what SQS moved behind them still goes back', async () => {
  // Prepare: twelve dead letters of the runtime first, then one message SQS moved.
  const id = randomUUID().slice(0, 8);
  const deadLetterQueueUrl = await createQueue(sqs, `redrive-dlq-${id}`);
  const sourceQueueUrl = await createQueue(sqs, `redrive-source-${id}`);
  for (let i = 0; i < 12; i++) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        MessageBody: `{"invalid":${i}}`,
        MessageAttributes: { 'eda-kit.error': { DataType: 'String', StringValue: 'SchemaViolationError' } },
      }),
    );
  }
  await sqs.send(new SendMessageCommand({ QueueUrl: deadLetterQueueUrl, MessageBody: '{"valid":true}' }));

  // Act
  const result = await redrive(sqs, { deadLetterQueueUrl, sourceQueueUrl, onlyPlatformMoves: true });

  // Assess: the valid one went back, and the twelve are still there, visible at once.
  expect(result).toEqual({ method: 'poll-and-send', moved: 1, byReason: { 'redriven by SQS': 1 }, duplicates: 0 });
  expect((await receiveAll(sourceQueueUrl)).map((message) => message.Body)).toEqual(['{"valid":true}']);
  expect(await receiveAll(deadLetterQueueUrl)).toHaveLength(12);
});
