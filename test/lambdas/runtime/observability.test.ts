import { afterEach, describe, expect, test, vi } from 'vitest';
import { createLogger, REDACTED, redactPersonalData } from '../../../lambdas/runtime/observability';

function redact(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, redactPersonalData));
}

describe('redactPersonalData', () => {
  test.each([
    'customerEmail',
    'email',
    'Email',
    'EMAIL',
    'e-mail',
    'billingE-Mail',
    'phone',
    'phoneNumber',
    'mobilePhone',
    'password',
    'clientSecret',
    'token',
    'refreshToken',
  ])('redacts the value under %s', (key) => {
    expect(redact({ [key]: 'ana@example.com / +34 600 111 222 / hunter2' })).toEqual({ [key]: REDACTED });
  });

  test('redacts numbers and booleans under a personal key, not only strings', () => {
    expect(redact({ phone: 34600111222, password: true })).toEqual({ phone: REDACTED, password: REDACTED });
  });

  test('keeps null under a personal key', () => {
    expect(redact({ email: null })).toEqual({ email: null });
  });

  test('redacts email addresses inside other strings', () => {
    // GIVEN an error message that quotes a body with two addresses
    const message = 'could not deliver to ana@example.com (cc: "bo.b+orders@mail.example.org"): mailbox full';

    // WHEN redacted, THEN only the addresses are replaced
    expect(redact({ message })).toEqual({
      message: `could not deliver to ${REDACTED} (cc: "${REDACTED}"): mailbox full`,
    });
  });

  test('walks nested objects and arrays', () => {
    // GIVEN a nested event
    const event = {
      order: {
        orderId: 'o-1',
        customer: { id: 'c-1', customerEmail: 'ana@example.com', contact: { phone: '+34 600 111 222' } },
        notes: ['call ana@example.com', 'leave at the door'],
      },
    };

    // WHEN redacted, THEN every personal value deep inside is replaced
    expect(redact(event)).toEqual({
      order: {
        orderId: 'o-1',
        customer: { id: 'c-1', customerEmail: REDACTED, contact: { phone: REDACTED } },
        notes: [`call ${REDACTED}`, 'leave at the door'],
      },
    });
  });

  test('redacts a whole object or array under a personal key', () => {
    const event = {
      phone: { mobile: '+34 600 111 222' },
      customerPhones: ['+34 600 111 222'],
      password: ['hunter2'],
      sessionToken: { value: 'abc' },
    };

    expect(redact(event)).toEqual({
      phone: REDACTED,
      customerPhones: REDACTED,
      password: REDACTED,
      sessionToken: REDACTED,
    });
  });

  test('passes non-personal values through unchanged', () => {
    const event = {
      type: 'OrderPlaced',
      orderId: 'o-1',
      sku: 'SKU-1',
      quantity: 2,
      unitPriceCents: 1250,
      paid: true,
      coupon: null,
      tags: ['@team', '10 @ 12.50 EUR'],
      placedAt: '2026-01-01T00:00:00.000Z',
    };
    expect(redact(event)).toEqual(event);
  });

  test('returns the root value itself (empty key) when it is an object', () => {
    const root = { email: 'ana@example.com' };
    expect(redactPersonalData('', root)).toBe(root);
  });
});

describe('createLogger', () => {
  const previousLevel = process.env.POWERTOOLS_LOG_LEVEL;

  afterEach(() => {
    if (previousLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = previousLevel;
    vi.restoreAllMocks();
  });

  /**
   * Powertools 2.35 prints through its own `new Console({ stdout: process.stdout, stderr: process.stderr })`
   * (unless POWERTOOLS_DEV is set), so what it writes goes through the streams' `write`.
   */
  function captureOutput(): () => string {
    const written: string[] = [];
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    return () => written.join('');
  }

  function createVerboseLogger() {
    // The test run sets SILENT for every worker; this test needs the lines.
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    return createLogger();
  }

  test('writes "[redacted]" instead of a customerEmail and never the address', () => {
    // GIVEN a logger and a capture of its output
    const logger = createVerboseLogger();
    const output = captureOutput();

    // WHEN an event with an email is logged
    logger.info('order placed', { orderId: 'o-1', customerEmail: 'ana@example.com' });

    // THEN the line is JSON with the email redacted and the rest intact
    const text = output();
    expect(text).not.toContain('ana@example.com');
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'INFO',
      message: 'order placed',
      orderId: 'o-1',
      customerEmail: REDACTED,
    });
  });

  test('redacts an address in the message and in a logged error', () => {
    // GIVEN a logger and a capture of its output
    const logger = createVerboseLogger();
    const output = captureOutput();

    // WHEN an error quoting an address is logged with a message quoting it too
    logger.error('send to ana@example.com failed', new Error('mailbox ana@example.com is full'));

    // THEN neither reaches the output
    const text = output();
    expect(text).not.toContain('ana@example.com');
    const line = JSON.parse(text.trim());
    expect(line.message).toBe(`send to ${REDACTED} failed`);
    expect(line.error).toMatchObject({ name: 'Error', message: `mailbox ${REDACTED} is full` });
  });

  test('redacts personal keys in persistent attributes', () => {
    // GIVEN a logger with a persistent personal attribute
    const logger = createVerboseLogger();
    logger.appendPersistentKeys({ customerPhone: '+34 600 111 222' });
    const output = captureOutput();

    // WHEN anything is logged
    logger.warn('retrying');

    // THEN the attribute is redacted
    const text = output();
    expect(text).not.toContain('600 111 222');
    expect(JSON.parse(text.trim())).toMatchObject({ level: 'WARN', customerPhone: REDACTED });
  });
});
