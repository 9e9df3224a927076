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
  readonly schema: v.GenericSchema;
  readonly idempotencyKey: string;
}

/** A record's body that passed every check. */
export interface ParsedEvent {
  readonly type: string;
  readonly event: Record<string, unknown>;
  /** The idempotency key's value. */
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
  if ((typeof key !== 'string' && typeof key !== 'number') || key === '') {
    throw new MissingIdempotencyKeyError(idempotencyKey);
  }
  return { type, event, key: String(key) };
}
