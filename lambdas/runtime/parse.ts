import * as v from 'valibot';
import {
  InvalidJsonError,
  MissingIdempotencyKeyError,
  OversizeRecordError,
  SchemaViolationError,
  UnknownEventTypeError,
} from './errors';

/** The field of every event that names its type and picks its handler. */
export const EVENT_TYPE_FIELD = 'type';

/** What the parser needs of an event handler: its schema and the field that identifies its effect. */
export interface EventSchema {
  /** The schema every event of this type must satisfy. */
  readonly schema: v.GenericSchema;
  /** The top-level field of the schema's output whose value is the idempotency key. */
  readonly idempotencyKey: string;
}

/** A record's body that passed every check. */
export interface ParsedEvent {
  /** The event's `type`: a key of the consumer's `events`. */
  readonly type: string;
  /** The schema's output. */
  readonly event: Record<string, unknown>;
  /**
   * The idempotency key's value as text: a non-empty string as it is, a finite number in its decimal form (so `42`
   * and `"42"` are one key). This text is what the idempotency record's hash is made of.
   */
  readonly key: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks a body, cheapest check first: size, UTF-8, JSON, an object, a known `type`, its schema, its idempotency
 * key. Throws the `PermanentError` that names the first check it fails.
 */
export function parseEvent(
  bytes: Buffer,
  schemas: Readonly<Record<string, EventSchema>>,
  maxBodyBytes: number,
): ParsedEvent {
  if (bytes.length > maxBodyBytes) throw new OversizeRecordError(bytes.length, maxBodyBytes);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new InvalidJsonError('the body is not valid UTF-8 text');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidJsonError(`the body is not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    const kind = json === null ? 'null' : Array.isArray(json) ? 'array' : typeof json;
    throw new InvalidJsonError(`the body is JSON but not an object (${kind})`);
  }
  const type = (json as Record<string, unknown>)[EVENT_TYPE_FIELD];
  const known = Object.keys(schemas);
  if (typeof type !== 'string' || !Object.hasOwn(schemas, type)) throw new UnknownEventTypeError(type, known);
  const { schema, idempotencyKey } = schemas[type];

  const result = v.safeParse(schema, json);
  if (!result.success) {
    throw new SchemaViolationError(
      type,
      result.issues.map((issue) => `${v.getDotPath(issue) ?? '(root)'}: ${issue.message}`),
    );
  }
  const event = result.output as Record<string, unknown>;
  const key = event[idempotencyKey];
  // Strings and numbers only: a boolean, an object or an array does not name one effect among many.
  const usable = (typeof key === 'string' && key !== '') || (typeof key === 'number' && Number.isFinite(key));
  if (!usable) throw new MissingIdempotencyKeyError(idempotencyKey, key);
  return { type, event, key: String(key) };
}
