import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { expect, test } from 'vitest';
import { createQueue } from '../../local/emulators';
import {
  DEAD_LETTER_IDENTITY_ATTRIBUTE,
  deadLetterIdentity,
  deadLetterReason,
  distinctDeadLetters,
  listMessages,
} from '../../ops/dead-letters';
import { emulatorClients } from '../../ops/endpoint-clients';

const { sqs } = emulatorClients({
  dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
  sqs: process.env.AWS_ENDPOINT_URL_SQS as string,
  kinesis: process.env.AWS_ENDPOINT_URL_KINESIS as string,
});

const kitDeadLetter = (queueUrl: string, recordId: string) =>
  sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: '{"type":"OrderPlaced"}',
      MessageAttributes: {
        'eda-kit.error': { DataType: 'String', StringValue: 'SchemaViolationError' },
        'eda-kit.source-arn': { DataType: 'String', StringValue: 'arn:aws:sqs:us-east-1:000000000000:orders' },
        'eda-kit.record-id': { DataType: 'String', StringValue: recordId },
      },
    }),
  );

const onFailureRecord = (queueUrl: string, startSequenceNumber: string) =>
  sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify({
        requestContext: { requestId: randomUUID(), condition: 'RetryAttemptsExhausted' },
        KinesisBatchInfo: {
          shardId: 'shardId-000000000000',
          startSequenceNumber,
          endSequenceNumber: `${startSequenceNumber}9`,
          batchSize: 2,
          streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/order-events',
        },
      }),
    }),
  );

test('GIVEN second copies of dead letters THEN each record has one identity and every message is listed once', async () => {
  // Prepare: a record dead-lettered twice by the kit, another once, one Kinesis batch reported twice, and a
  // message SQS moved.
  const queueUrl = await createQueue(sqs, `dead-letters-${randomUUID().slice(0, 8)}`);
  await kitDeadLetter(queueUrl, 'message-1');
  await kitDeadLetter(queueUrl, 'message-1');
  await kitDeadLetter(queueUrl, 'message-2');
  await onFailureRecord(queueUrl, '4960');
  await onFailureRecord(queueUrl, '4960');
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"valid":true}' }));

  // Act
  const messages = await listMessages(sqs, queueUrl);

  // Assess
  expect(messages).toHaveLength(6);
  expect(new Set(messages.map((message) => message.MessageId)).size).toBe(6);
  expect(new Set(messages.map(deadLetterIdentity)).size).toBe(4);
  expect(messages.map(deadLetterReason).sort()).toEqual([
    'SchemaViolationError',
    'SchemaViolationError',
    'SchemaViolationError',
    'redriven by SQS',
    'redriven by SQS',
    'redriven by SQS',
  ]);
});

test('GIVEN max THEN listMessages lists at most that many', async () => {
  const queueUrl = await createQueue(sqs, `dead-letters-${randomUUID().slice(0, 8)}`);
  for (let i = 0; i < 4; i++) await kitDeadLetter(queueUrl, `message-${i}`);

  const messages = await listMessages(sqs, queueUrl, { max: 3 });

  expect(messages).toHaveLength(3);
});

test('GIVEN dead letters with the identity attribute THEN the identity is the attribute, whatever else they carry', () => {
  // Prepare: two copies of one record's dead letter (their record attributes differ only in what a retry may change),
  // and the same record dead-lettered by another consumer.
  const deadLetter = (messageId: string, identity: string, reason: string) => ({
    MessageId: messageId,
    Body: '{"type":"OrderPlaced"}',
    MessageAttributes: {
      'eda-kit.error': { DataType: 'String', StringValue: 'SchemaViolationError' },
      'eda-kit.reason': { DataType: 'String', StringValue: reason },
      'eda-kit.source-arn': { DataType: 'String', StringValue: 'arn:aws:kinesis:us-east-1:000000000000:stream/s' },
      'eda-kit.record-id': { DataType: 'String', StringValue: 'shardId-000000000000:1' },
      [DEAD_LETTER_IDENTITY_ATTRIBUTE]: { DataType: 'String', StringValue: identity },
    },
  });
  const first = deadLetter('m-1', 'inventory-updater.dead-letter#abc', 'first delivery');
  const copy = deadLetter('m-2', 'inventory-updater.dead-letter#abc', 'second delivery');
  const otherConsumer = deadLetter('m-3', 'audit-log-writer.dead-letter#abc', 'first delivery');

  // Act
  const { distinct, copies } = distinctDeadLetters([first, copy, otherConsumer]);

  // Assess
  expect(deadLetterIdentity(first)).toBe('record inventory-updater.dead-letter#abc');
  expect(deadLetterIdentity(copy)).toBe(deadLetterIdentity(first));
  expect(deadLetterIdentity(otherConsumer)).not.toBe(deadLetterIdentity(first));
  expect(distinct.map((message) => message.MessageId)).toEqual(['m-1', 'm-3']);
  expect(copies.map((message) => message.MessageId)).toEqual(['m-2']);
});
