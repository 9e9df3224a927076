import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type * as v from 'valibot';
import type { RecordSource } from './records';

/** What an event handler is given besides its event. */
export interface RecordContext {
  /** Where the record came from. */
  readonly source: RecordSource;
  /** A logger whose lines carry the correlation ID and the record's identity. */
  readonly logger: Logger;
  /** The Lambda invocation's context. */
  readonly lambdaContext: Context;
}

/**
 * The fields of an event (as its schema outputs it) that can hold its idempotency key: those whose value is a
 * string or a number. A field of another type would fail every event it keys, so it does not compile.
 */
export type IdempotencyKeyField<TEvent> = {
  [K in keyof TEvent]-?: NonNullable<TEvent[K]> extends string | number ? K : never;
}[keyof TEvent] &
  string;

/** How one event type is validated, identified and applied. */
export interface EventHandler<TSchema extends v.GenericSchema = v.GenericSchema> {
  /** The schema every event of this type must satisfy. */
  readonly schema: TSchema;
  /**
   * The top-level field of the event (as the schema outputs it) that identifies the event's effect (`orderId`,
   * `eventId`): the idempotency key. Never the message ID: a producer's retry is a new message with a new ID and
   * the same effect.
   *
   * Any field name works (`order-id` included). Its value must be a non-empty string or a finite number (`0`
   * included); a number is the same key as its decimal text (`42` and `"42"`). Any other value (missing, empty,
   * `true`, an object) is a `MissingIdempotencyKeyError`: the record is dead-lettered. Only fields whose schema
   * outputs a string or a number compile.
   */
  readonly idempotencyKey: IdempotencyKeyField<v.InferOutput<TSchema>>;
  /** Applies the event's effect. It must itself be safe to repeat: see the effect helpers. */
  readonly handle: (event: v.InferOutput<TSchema>, context: RecordContext) => Promise<void>;
  /**
   * How long a completed key is remembered, in seconds.
   *
   * @default 86400 (one day)
   */
  readonly expiresAfterSeconds?: number;
}

/** Declares an event handler with its event type inferred from the schema. */
export function defineEventHandler<TSchema extends v.GenericSchema>(
  handler: EventHandler<TSchema>,
): EventHandler<TSchema> {
  return handler;
}
