import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { OrderPlacedSchema } from '../../../lambdas/events/order-placed';
import {
  InvalidJsonError,
  MissingIdempotencyKeyError,
  OversizeRecordError,
  PermanentError,
  SchemaViolationError,
  UnknownEventTypeError,
} from '../../../lambdas/runtime/errors';
import { type EventSchema, parseEvent } from '../../../lambdas/runtime/parse';
import { orderPlaced } from '../../helpers/records';

/** A test event whose idempotency key is optional, so the schema can pass while the key is missing. */
const PingSchema = v.object({
  type: v.literal('Ping'),
  pingId: v.optional(v.string()),
  customer: v.object({ address: v.object({ city: v.string() }) }),
  count: v.number(),
});

/** A test event with a numeric idempotency key. */
const TickSchema = v.object({ type: v.literal('Tick'), tick: v.number() });

const SCHEMAS: Readonly<Record<string, EventSchema>> = {
  Ping: { schema: PingSchema, idempotencyKey: 'pingId' },
  Tick: { schema: TickSchema, idempotencyKey: 'tick' },
  OrderPlaced: { schema: OrderPlacedSchema, idempotencyKey: 'orderId' },
};
const KNOWN = 'Ping, Tick, OrderPlaced';
const LIMIT_BYTES = 4096;

function ping(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'Ping', pingId: 'p-1', customer: { address: { city: 'Lisboa' } }, count: 1, ...overrides };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Parses `bytes` and returns what it threw; fails the test when it throws nothing. */
function failureOf(bytes: Buffer, maxBytes = LIMIT_BYTES): Error {
  try {
    parseEvent(bytes, SCHEMAS, maxBytes);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`parseEvent accepted ${bytes.toString('utf8')}`);
}

function expectFailure(error: Error, errorClass: new (...args: any[]) => Error, name: string, message: string) {
  expect(error).toBeInstanceOf(errorClass);
  // Every parse failure is permanent: the consumer dead-letters it at once.
  expect(error).toBeInstanceOf(PermanentError);
  expect(error.name).toBe(name);
  expect(error.message).toBe(message);
}

function nativeJsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${text} is valid JSON`);
}

describe('parseEvent size check', () => {
  test('fails when the body is one byte over the limit', () => {
    // GIVEN a valid event padded to one byte over the limit
    const event = ping({ customer: { address: { city: '' } } });
    const padding = LIMIT_BYTES + 1 - json(event).length;
    const bytes = json(ping({ customer: { address: { city: 'x'.repeat(padding) } } }));
    expect(bytes.length).toBe(LIMIT_BYTES + 1);

    // WHEN it is parsed, THEN it is oversize
    expectFailure(
      failureOf(bytes),
      OversizeRecordError,
      'OversizeRecordError',
      `the body is ${LIMIT_BYTES + 1} bytes, over the limit of ${LIMIT_BYTES} bytes`,
    );
  });

  test('accepts a body of exactly the limit', () => {
    // GIVEN a valid event padded to exactly the limit
    const padding = LIMIT_BYTES - json(ping({ customer: { address: { city: '' } } })).length;
    const bytes = json(ping({ customer: { address: { city: 'x'.repeat(padding) } } }));
    expect(bytes.length).toBe(LIMIT_BYTES);

    // WHEN it is parsed, THEN it passes
    expect(parseEvent(bytes, SCHEMAS, LIMIT_BYTES).key).toBe('p-1');
  });

  test('checks the size before anything else: oversize invalid UTF-8 is reported as oversize', () => {
    // GIVEN bytes that are both too long and not UTF-8
    const bytes = Buffer.alloc(10, 0xff);

    // WHEN parsed with a limit of 9 bytes, THEN the size check answers
    expectFailure(
      failureOf(bytes, 9),
      OversizeRecordError,
      'OversizeRecordError',
      'the body is 10 bytes, over the limit of 9 bytes',
    );
  });
});

describe('parseEvent UTF-8 and JSON checks', () => {
  test.each([
    ['bytes that are never UTF-8', Buffer.from([0xff, 0xfe])],
    ['a multi-byte sequence cut short', Buffer.concat([Buffer.from('{"type":"Ping","pingId":"'), Buffer.from([0xc3])])],
    ['an encoded surrogate half', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])],
  ])('fails when the body is %s', (_, bytes) => {
    expectFailure(failureOf(bytes), InvalidJsonError, 'InvalidJsonError', 'the body is not valid UTF-8 text');
  });

  test.each([
    ['cut short', '{"type":"Ping",'],
    ['empty', ''],
    ['not JSON at all', 'type=Ping'],
    ['with a trailing comma', '{"type":"Ping",}'],
    ['with a raw control character inside a string', '{"type":"Ping","pingId":"a\u0001b"}'],
  ])('fails when the body is malformed JSON: %s', (_, text) => {
    expectFailure(
      failureOf(Buffer.from(text, 'utf8')),
      InvalidJsonError,
      'InvalidJsonError',
      `the body is not valid JSON (${nativeJsonError(text)})`,
    );
  });

  test.each([
    ['null', 'null', 'null'],
    ['a number', '42', 'number'],
    ['a string', '"Ping"', 'string'],
    ['a boolean', 'true', 'boolean'],
    ['an array', '[{"type":"Ping"}]', 'array'],
  ])('fails when the body is JSON but %s', (_, text, kind) => {
    expectFailure(
      failureOf(Buffer.from(text, 'utf8')),
      InvalidJsonError,
      'InvalidJsonError',
      `the body is JSON but not an object (${kind})`,
    );
  });

  test('accepts control characters that are escaped in JSON strings', () => {
    // GIVEN an event whose key and city hold control characters as JSON escapes
    const text = '{"type":"Ping","pingId":"p\\u0000\\u0001\\t","customer":{"address":{"city":"a\\nb"}},"count":1}';

    // WHEN it is parsed
    const parsed = parseEvent(Buffer.from(text, 'utf8'), SCHEMAS, LIMIT_BYTES);

    // THEN the values hold the decoded characters
    expect(parsed.key).toBe('p\u0000\u0001\t');
    expect(parsed.event.customer).toEqual({ address: { city: 'a\nb' } });
  });
});

describe('parseEvent type check', () => {
  test.each([
    ['missing', ping({ type: undefined }), 'undefined'],
    ['unknown', ping({ type: 'Pong' }), '"Pong"'],
    ['not a string', ping({ type: 7 }), '7'],
    ['null', ping({ type: null }), 'null'],
    ['an inherited property name', ping({ type: 'constructor' }), '"constructor"'],
    ['__proto__', ping({ type: '__proto__' }), '"__proto__"'],
  ])('fails when the type is %s', (_, event, shown) => {
    expectFailure(
      failureOf(json(event)),
      UnknownEventTypeError,
      'UnknownEventTypeError',
      `the event type ${shown} is not one of ${KNOWN}`,
    );
  });
});

describe('parseEvent schema check', () => {
  test('fails with every violation and its dotted path when fields have the wrong type', () => {
    // GIVEN a Ping whose nested city and count have the wrong type
    const bytes = json(ping({ customer: { address: { city: 5 } }, count: '1' }));

    // WHEN it is parsed
    const error = failureOf(bytes) as SchemaViolationError;

    // THEN both issues are listed with their paths
    const issues = [
      'customer.address.city: Invalid type: Expected string but received 5',
      'count: Invalid type: Expected number but received "1"',
    ];
    expectFailure(
      error,
      SchemaViolationError,
      'SchemaViolationError',
      `the Ping event does not match its schema: ${issues.join('; ')}`,
    );
    expect(error.issues).toEqual(issues);
  });

  test('fails when a nested field is missing', () => {
    const error = failureOf(json(ping({ customer: { address: {} } }))) as SchemaViolationError;
    expect(error).toBeInstanceOf(SchemaViolationError);
    expect(error.issues).toEqual(['customer.address.city: Invalid key: Expected "city" but received undefined']);
  });

  test.each([
    [{ quantity: 0 }, 'quantity: Invalid value: Expected >=1 but received 0'],
    [{ quantity: '2' }, 'quantity: Invalid type: Expected number but received "2"'],
    [{ customerEmail: 'nobody' }, 'customerEmail: Invalid email: Received "nobody"'],
    [{ currency: 'JPY' }, 'currency: Invalid type: Expected ("EUR" | "USD" | "GBP") but received "JPY"'],
    [{ unexpected: true }, 'unexpected: Invalid key: Expected never but received "unexpected"'],
  ])('fails when an OrderPlaced event has %o', (overrides, issue) => {
    // GIVEN an OrderPlaced event with one bad field, WHEN parsed
    const error = failureOf(json(orderPlaced(overrides))) as SchemaViolationError;

    // THEN its only issue names the field
    expectFailure(
      error,
      SchemaViolationError,
      'SchemaViolationError',
      `the OrderPlaced event does not match its schema: ${issue}`,
    );
    expect(error.issues).toEqual([issue]);
  });

  test('fails when an OrderPlaced event lacks a field', () => {
    const { sku: _, ...withoutSku } = orderPlaced();
    const error = failureOf(json(withoutSku)) as SchemaViolationError;
    expect(error).toBeInstanceOf(SchemaViolationError);
    expect(error.issues).toEqual(['sku: Invalid key: Expected "sku" but received undefined']);
  });
});

describe('parseEvent idempotency key check', () => {
  test.each([
    ['missing', ping({ pingId: undefined })],
    ['empty', ping({ pingId: '' })],
  ])('fails when the key is %s though the schema passes', (_, event) => {
    // GIVEN the schema accepts the event (the key is optional in it)
    expect(v.safeParse(PingSchema, event).success).toBe(true);

    // WHEN it is parsed, THEN the key check rejects it
    expectFailure(
      failureOf(json(event)),
      MissingIdempotencyKeyError,
      'MissingIdempotencyKeyError',
      "the idempotency key field 'pingId' is missing or empty",
    );
  });
});

describe('parseEvent idempotency key values', () => {
  /** A Flag whose key field takes any value, so only the key check decides. */
  const FLAGS: Readonly<Record<string, EventSchema>> = {
    Flag: { schema: v.object({ type: v.literal('Flag'), 'flag-id': v.unknown() }), idempotencyKey: 'flag-id' },
  };
  const flag = (value: unknown) => json({ type: 'Flag', 'flag-id': value });

  test.each([
    [0, '0'],
    [-1.5, '-1.5'],
    ['0', '0'],
    [' ', ' '],
  ])('accepts the key %j as %j, under a field name that is not an identifier', (value, key) => {
    expect(parseEvent(flag(value), FLAGS, LIMIT_BYTES).key).toBe(key);
  });

  test.each([
    [true, 'a boolean'],
    [false, 'a boolean'],
    [{ id: 'f-1' }, 'an object'],
    [['f-1'], 'an array'],
  ])('fails when the key is %j', (value, kind) => {
    expect(() => parseEvent(flag(value), FLAGS, LIMIT_BYTES)).toThrow(MissingIdempotencyKeyError);
    expect(() => parseEvent(flag(value), FLAGS, LIMIT_BYTES)).toThrow(
      `the idempotency key field 'flag-id' holds ${kind}, not a string or a number`,
    );
  });

  test('fails when the key is null', () => {
    expect(() => parseEvent(flag(null), FLAGS, LIMIT_BYTES)).toThrow(
      "the idempotency key field 'flag-id' is missing or empty",
    );
  });
});

describe('parseEvent on a valid event', () => {
  test('returns the type, the validated event and the key', () => {
    // GIVEN a valid Ping
    const event = ping({ pingId: 'p-42' });

    // WHEN it is parsed
    const parsed = parseEvent(json(event), SCHEMAS, LIMIT_BYTES);

    // THEN
    expect(parsed).toEqual({ type: 'Ping', event, key: 'p-42' });
  });

  test('returns the schema output, without keys the schema does not know', () => {
    // GIVEN a Ping with an extra field (v.object strips unknown keys)
    const parsed = parseEvent(json({ ...ping(), extra: 'dropped' }), SCHEMAS, LIMIT_BYTES);

    // THEN the event is what the schema produced
    expect(parsed.event).toEqual(ping());
  });

  test('returns a numeric key as a string', () => {
    expect(parseEvent(json({ type: 'Tick', tick: 42 }), SCHEMAS, LIMIT_BYTES)).toEqual({
      type: 'Tick',
      event: { type: 'Tick', tick: 42 },
      key: '42',
    });
  });

  test('parses a real OrderPlaced event keyed by its orderId', () => {
    // GIVEN an OrderPlaced event as the order API publishes it
    const event = orderPlaced();

    // WHEN it is parsed
    const parsed = parseEvent(json(event), SCHEMAS, 256 * 1024);

    // THEN
    expect(parsed).toEqual({ type: 'OrderPlaced', event, key: event.orderId });
  });

  test('accepts a UTF-8 body with characters beyond ASCII', () => {
    const event = ping({ customer: { address: { city: 'São Paulo 🏙️ 東京' } } });
    expect(parseEvent(json(event), SCHEMAS, LIMIT_BYTES).event).toEqual(event);
  });
});
