import { IdempotencyKeyError } from '@aws-lambda-powertools/idempotency';

/**
 * A record that can never succeed, however often it is retried. The consumer sends it to its dead-letter queue at
 * once, with its original body and the reason, and counts it as handled. Throw a subclass from an event handler
 * for a business rule that rejects an event for good.
 */
export class PermanentError extends Error {
  /**
   * @param message - why the record can never succeed: it travels with the dead letter.
   * @param options - `cause`: the error that revealed it, if any.
   */
  // Not `ErrorOptions`: that type needs the es2022 lib, and this signature is part of the public API.
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** The body is not valid JSON, or not valid UTF-8 text. */
export class InvalidJsonError extends PermanentError {
  /** @param message - what is wrong with the body. */
  constructor(message: string) {
    super(message);
    this.name = 'InvalidJsonError';
  }
}

/** The body is JSON but not an event of the expected shape. */
export class SchemaViolationError extends PermanentError {
  /** Each violation as `path: message`. */
  public readonly issues: readonly string[];

  /**
   * @param eventType - the event's `type`, whose schema it failed.
   * @param issues - each violation as `path: message`.
   */
  constructor(eventType: string, issues: readonly string[]) {
    super(`the ${eventType} event does not match its schema: ${issues.join('; ')}`);
    this.name = 'SchemaViolationError';
    this.issues = issues;
  }
}

/** The event lacks the business field that identifies its effect, or holds in it something that is not a key. */
export class MissingIdempotencyKeyError extends PermanentError {
  /**
   * @param field - the idempotency key field.
   * @param value - what the field holds, when it holds something other than a non-empty string or a number.
   */
  constructor(field: string, value?: unknown) {
    super(
      value === undefined || value === null || value === ''
        ? `the idempotency key field '${field}' is missing or empty`
        : `the idempotency key field '${field}' holds ${kindOf(value)}, not a string or a number`,
    );
    this.name = 'MissingIdempotencyKeyError';
  }
}

/** The body is larger than the consumer accepts. */
export class OversizeRecordError extends PermanentError {
  /**
   * @param bytes - the body's size.
   * @param limit - the largest body the consumer accepts.
   */
  constructor(bytes: number, limit: number) {
    super(`the body is ${bytes} bytes, over the limit of ${limit} bytes`);
    this.name = 'OversizeRecordError';
  }
}

/** The event's `type` names no handler of this consumer. */
export class UnknownEventTypeError extends PermanentError {
  /**
   * @param type - the event's `type` field, whatever it holds.
   * @param known - the event types the consumer handles.
   */
  constructor(type: unknown, known: readonly string[]) {
    super(`the event type ${JSON.stringify(type)} is not one of ${known.join(', ')}`);
    this.name = 'UnknownEventTypeError';
  }
}

/**
 * A transient failure: an earlier record of the same ordering key failed in this batch, so this one was not
 * attempted; the platform redelivers both in order.
 */
export class BlockedByEarlierFailureError extends Error {
  /** @param groupKey - the ordering key (partition key, or idempotency key) the records share. */
  constructor(groupKey: string) {
    super(`not attempted: an earlier record of '${groupKey}' failed in this batch`);
    this.name = 'BlockedByEarlierFailureError';
  }
}

/** A transient failure: a record with the same idempotency key failed earlier in this batch. */
export class DuplicateOfFailedRecordError extends Error {
  /** @param idempotencyKey - the value of the records' idempotency key field. */
  constructor(idempotencyKey: string) {
    super(`not attempted: the record with idempotency key '${idempotencyKey}' failed earlier in this batch`);
    this.name = 'DuplicateOfFailedRecordError';
  }
}

/**
 * A transient failure: the invocation was too close to its timeout to start the record. Started, its idempotency
 * record would carry no in-progress expiry (Powertools sets none when no time is left), and a timeout would then
 * lock its key until the record expires.
 */
export class OutOfTimeError extends Error {
  /** @param remainingMs - the time the invocation had left. */
  constructor(remainingMs: number) {
    super(`not attempted: ${remainingMs} ms left before the function times out`);
    this.name = 'OutOfTimeError';
  }
}

/** What kind of value a key field holds, without the value: it may be personal data. */
function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** How deep `isPermanentFailure` looks into a chain of causes: far past any real wrapping, short of a cycle. */
const MAX_CAUSE_DEPTH = 10;

/**
 * Whether a record that failed with `error` can never succeed: the error, or any error in its `cause` chain, is a
 * `PermanentError` or a Powertools `IdempotencyKeyError` (no key can be made of the record). Powertools wraps what
 * its persistence layer throws (`IdempotencyPersistenceLayerError`), and a handler may wrap a permanent error in
 * its own, so the top error alone does not tell.
 */
export function isPermanentFailure(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    if (current instanceof PermanentError || current instanceof IdempotencyKeyError) return true;
    current = current.cause;
  }
  return false;
}
