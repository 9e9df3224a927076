/**
 * A record that can never succeed however often it is retried: invalid JSON, a schema violation, a missing
 * idempotency key. A permanent error, as opposed to a transient one (everything else).
 */
export class InvalidRecordError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidRecordError';
  }
}
