/**
 * A record that can never succeed, however often it is retried. The consumer sends it to its dead-letter queue at
 * once, with its original body and the reason, and counts it as handled. Throw a subclass from an event handler
 * for a business rule that rejects an event for good.
 */
export class PermanentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** The body is not valid JSON, or not valid UTF-8 text. */
export class InvalidJsonError extends PermanentError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidJsonError';
  }
}

/** The body is JSON but not an event of the expected shape. */
export class SchemaViolationError extends PermanentError {
  /** Each violation as `path: message`. */
  public readonly issues: readonly string[];

  constructor(eventType: string, issues: readonly string[]) {
    super(`the ${eventType} event does not match its schema: ${issues.join('; ')}`);
    this.name = 'SchemaViolationError';
    this.issues = issues;
  }
}

/** The event lacks the business field that identifies its effect. */
export class MissingIdempotencyKeyError extends PermanentError {
  constructor(field: string) {
    super(`the idempotency key field '${field}' is missing or empty`);
    this.name = 'MissingIdempotencyKeyError';
  }
}

/** The body is larger than the consumer accepts. */
export class OversizeRecordError extends PermanentError {
  constructor(bytes: number, limit: number) {
    super(`the body is ${bytes} bytes, over the limit of ${limit} bytes`);
    this.name = 'OversizeRecordError';
  }
}

/** The event's `type` names no handler of this consumer. */
export class UnknownEventTypeError extends PermanentError {
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
  constructor(groupKey: string) {
    super(`not attempted: an earlier record of '${groupKey}' failed in this batch`);
    this.name = 'BlockedByEarlierFailureError';
  }
}

/** A transient failure: a record with the same idempotency key failed earlier in this batch. */
export class DuplicateOfFailedRecordError extends Error {
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
  constructor(remainingMs: number) {
    super(`not attempted: ${remainingMs} ms left before the function times out`);
    this.name = 'OutOfTimeError';
  }
}
