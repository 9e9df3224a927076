import { IdempotencyKeyError, IdempotencyPersistenceLayerError } from '@aws-lambda-powertools/idempotency';
import { describe, expect, test } from 'vitest';
import {
  DuplicateOfFailedRecordError,
  isPermanentFailure,
  MissingIdempotencyKeyError,
  PermanentError,
  SchemaViolationError,
} from '../../../lambdas/runtime/errors';

describe('isPermanentFailure', () => {
  test.each([
    ['a PermanentError', new PermanentError('the SKU is discontinued')],
    ['a subclass', new SchemaViolationError('OrderPlaced', ['quantity: Invalid type'])],
    ['a PermanentError as the cause', new Error('handler failed', { cause: new PermanentError('discontinued') })],
    [
      'a PermanentError two causes down',
      new Error('outer', { cause: new Error('inner', { cause: new PermanentError('discontinued') }) }),
    ],
    [
      "Powertools' key error inside its persistence layer error",
      new IdempotencyPersistenceLayerError('Failed to save in progress record to idempotency store', {
        cause: new IdempotencyKeyError('No data found to create a hashed idempotency_key'),
      }),
    ],
  ])('GIVEN %s THEN the failure is permanent', (_, error) => {
    expect(isPermanentFailure(error)).toBe(true);
  });

  test.each([
    ['an Error', new Error('throttled')],
    ['a transient kit error', new DuplicateOfFailedRecordError('o-1')],
    [
      'a persistence layer error caused by DynamoDB',
      new IdempotencyPersistenceLayerError('Failed to save', { cause: new Error('ProvisionedThroughputExceeded') }),
    ],
    ['a cause that is not an Error', new Error('outer', { cause: 'a string' })],
    ['not an Error', 'a string'],
  ])('GIVEN %s THEN the failure is transient', (_, error) => {
    expect(isPermanentFailure(error)).toBe(false);
  });

  test('GIVEN errors that cause each other THEN it stops, transient', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });

    expect(isPermanentFailure(a)).toBe(false);
  });
});

describe('MissingIdempotencyKeyError', () => {
  test.each([
    [undefined, "the idempotency key field 'orderId' is missing or empty"],
    ['', "the idempotency key field 'orderId' is missing or empty"],
    [true, "the idempotency key field 'orderId' holds a boolean, not a string or a number"],
    [{ id: 1 }, "the idempotency key field 'orderId' holds an object, not a string or a number"],
    [[1], "the idempotency key field 'orderId' holds an array, not a string or a number"],
  ])('GIVEN the value %j THEN the message says what is wrong, without the value', (value, message) => {
    const error = new MissingIdempotencyKeyError('orderId', value);

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.name).toBe('MissingIdempotencyKeyError');
    expect(error.message).toBe(message);
  });
});
