import { describe, expect, test } from 'vitest';
import { resolveConsumerConfig } from '../../../lambdas/runtime/consumer-config';

const handlers = { events: {} };
/** What the constructs set on every consumer function. */
const deployed = {
  IDEMPOTENCY_TABLE_NAME: 'idempotency',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/orders-dlq',
  POWERTOOLS_SERVICE_NAME: 'orders',
};

describe('resolveConsumerConfig key prefix', () => {
  test('GIVEN IDEMPOTENCY_KEY_PREFIX THEN it is the prefix, whatever the service name', () => {
    const config = resolveConsumerConfig(handlers, { ...deployed, IDEMPOTENCY_KEY_PREFIX: 'order-processor.' });

    expect(config.idempotencyKeyPrefix).toBe('order-processor.');
  });

  test('GIVEN no IDEMPOTENCY_KEY_PREFIX THEN the prefix is the service name and a dot', () => {
    expect(resolveConsumerConfig(handlers, deployed).idempotencyKeyPrefix).toBe('orders.');
  });

  test('GIVEN neither variable THEN the prefix is consumer.', () => {
    const { POWERTOOLS_SERVICE_NAME: _, ...withoutServiceName } = deployed;

    expect(resolveConsumerConfig(handlers, withoutServiceName).idempotencyKeyPrefix).toBe('consumer.');
  });

  test('fails when IDEMPOTENCY_KEY_PREFIX starts with white space', () => {
    // Powertools trims its key prefix: the keys would fall outside the prefix IAM allows.
    expect(() => resolveConsumerConfig(handlers, { ...deployed, IDEMPOTENCY_KEY_PREFIX: ' orders.' })).toThrow(
      'The idempotency key prefix " orders." starts with white space; set IDEMPOTENCY_KEY_PREFIX without it',
    );
  });
});

describe('resolveConsumerConfig table and queue', () => {
  test('GIVEN options THEN they win over the environment, and defaults fill the rest', () => {
    const config = resolveConsumerConfig(
      { ...handlers, idempotencyTableName: 'other-table', deadLetterQueueUrl: 'https://example.com/q' },
      deployed,
    );

    expect(config).toEqual({
      idempotencyTableName: 'other-table',
      deadLetterQueueUrl: 'https://example.com/q',
      idempotencyKeyPrefix: 'orders.',
      maxBodyBytes: 262_144,
      maxConcurrency: 10,
      correlationIdField: 'eventId',
      useLocalCache: true,
    });
  });

  test.each([['IDEMPOTENCY_TABLE_NAME'], ['DEAD_LETTER_QUEUE_URL']])('fails when %s is missing', (variable) => {
    const env: Record<string, string | undefined> = { ...deployed, [variable]: undefined };

    expect(() => resolveConsumerConfig(handlers, env)).toThrow(`The environment variable ${variable} is not set`);
  });
});
