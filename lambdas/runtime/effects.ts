/**
 * Effects that are safe to repeat. Idempotency records stop most repeats, but not one that comes after a function
 * died between its effect and the COMPLETED record: so every effect is itself conditional.
 *
 * Each helper writes through the DynamoDB client in its options (`dynamoDBClient`), or else through one client for
 * the whole execution environment, from the environment's configuration: the one the consumers given no client use,
 * created with the first of them or on the first write (never at import).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { type DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { environmentDynamoDBClient } from './environment-clients';

/** What every effect helper accepts: the client it writes through. */
export interface EffectOptions {
  /**
   * The DynamoDB client the effect goes through (items are plain JavaScript values, marshalled by the helpers, with
   * `undefined` attributes left out). Pass the client you gave a consumer (`ConsumerOptions.dynamoDBClient`) to share
   * its connections, or one set up for a test.
   *
   * @default - one client for the execution environment, from the environment's configuration, shared with the
   *   consumers given no client
   */
  readonly dynamoDBClient?: DynamoDBClient;
}

/** Where and how `applyIfNewer` applies an update. */
export interface ApplyIfNewerOptions extends EffectOptions {
  /** The table. */
  readonly tableName: string;
  /** The item's primary key. */
  readonly key: Record<string, unknown>;
  /** The record's sequence number (Kinesis): a string of digits. */
  readonly sequence: string;
  /** An update expression clause to run with the sequence, e.g. `ADD stock :delta`. */
  readonly update: string;
  /** The values the clause refers to, e.g. `{ ':delta': -2 }`. */
  readonly values: Record<string, unknown>;
}

/** Where `addOnce` counts, and what. */
export interface AddOnceOptions extends EffectOptions {
  /** The table. */
  readonly tableName: string;
  /** The item's primary key. */
  readonly key: Record<string, unknown>;
  /** The string-set attribute that holds the markers counted so far. */
  readonly markerAttribute: string;
  /** What identifies this addition (an order ID): counted once however often it is added. */
  readonly marker: string;
  /** The amount to add to each number attribute, by name. */
  readonly counters: Record<string, number>;
}

/** Where `pinFirst` pins a value, and which. */
export interface PinFirstOptions<T extends Record<string, unknown>> extends EffectOptions {
  /** The table. */
  readonly tableName: string;
  /** The pin's primary key; its first attribute is the partition key. */
  readonly key: Record<string, unknown>;
  /** The value to pin if nothing is pinned yet. */
  readonly value: T;
  /**
   * Epoch seconds after which the pin may go (the table's time-to-live attribute `expiresAt`): once no later event
   * of the entity can get past its idempotency record, that is, the idempotency expiry plus the source's retention.
   *
   * @default - 8 days from now
   */
  readonly expiresAt?: number;
}

/** How long a pin is kept unless its caller says: the default idempotency expiry (1 day) and 7 days of retention. */
const DEFAULT_PIN_SECONDS = 8 * 24 * 3600;

/** The client for a write: the one the caller gave, else the execution environment's. */
function clientFor(options: EffectOptions): DynamoDBClient {
  return options.dynamoDBClient ?? environmentDynamoDBClient();
}

/**
 * Plain JavaScript values as DynamoDB attribute values, `undefined` attributes left out. Marshalled here with
 * `@aws-sdk/util-dynamodb`, which Powertools' idempotency store loads anyway, instead of through a document client:
 * `@aws-sdk/lib-dynamodb` would add its own module load to every cold start.
 */
function attributes(values: Record<string, unknown>) {
  return marshall(values, { removeUndefinedValues: true });
}

/**
 * Writes `item` unless an item with its key exists.
 *
 * @param tableName - the table.
 * @param keyAttribute - the table's partition key attribute.
 * @param item - the whole item, key included.
 * @param options - the client to write through.
 * @returns whether this call created the item.
 */
export async function putIfAbsent(
  tableName: string,
  keyAttribute: string,
  item: Record<string, unknown>,
  options: EffectOptions = {},
): Promise<boolean> {
  return conditional(() =>
    clientFor(options).send(
      new PutItemCommand({
        TableName: tableName,
        Item: attributes(item),
        ConditionExpression: 'attribute_not_exists(#key)',
        ExpressionAttributeNames: { '#key': keyAttribute },
      }),
    ),
  );
}

/**
 * Applies `update` to the item at `key` only if `sequence` is above the last sequence applied to it, and records
 * `sequence` in the same write. Kinesis sequence numbers of one partition key grow; they are compared as strings
 * of equal length, so they are zero-padded.
 *
 * @returns whether the update was applied.
 */
export async function applyIfNewer(options: ApplyIfNewerOptions): Promise<boolean> {
  return conditional(() =>
    clientFor(options).send(
      new UpdateItemCommand({
        TableName: options.tableName,
        Key: attributes(options.key),
        UpdateExpression: `SET lastSequence = :sequence ${options.update}`,
        ConditionExpression: 'attribute_not_exists(lastSequence) OR lastSequence < :sequence',
        ExpressionAttributeValues: attributes({ ...options.values, ':sequence': options.sequence.padStart(64, '0') }),
      }),
    ),
  );
}

/**
 * Adds to counters at `key` and records `marker` in the set `markerAttribute` in one conditional write, so the
 * counters count each marker once.
 *
 * @returns whether the counters moved.
 */
export async function addOnce(options: AddOnceOptions): Promise<boolean> {
  const names: Record<string, string> = { '#markers': options.markerAttribute };
  const values: Record<string, unknown> = { ':marker': options.marker, ':markers': new Set([options.marker]) };
  const adds = Object.entries(options.counters).map(([counter, amount], index) => {
    names[`#c${index}`] = counter;
    values[`:c${index}`] = amount;
    return `#c${index} :c${index}`;
  });
  return conditional(() =>
    clientFor(options).send(
      new UpdateItemCommand({
        TableName: options.tableName,
        Key: attributes(options.key),
        UpdateExpression: `ADD ${[...adds, '#markers :markers'].join(', ')}`,
        ConditionExpression: 'attribute_not_exists(#markers) OR NOT contains(#markers, :marker)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: attributes(values),
      }),
    ),
  );
}

/**
 * Records `value` at `key` unless something is recorded there, and returns what is recorded: the first call's
 * value, whichever call comes later. It pins a fact of an entity's first event so later events of the same entity
 * agree with it: a producer's retry of an order carries a new `placedAt`, and without a pin the order would count
 * in another minute's item, where `addOnce` cannot see its marker. The pin is written before the effect; a
 * process that dies between the two leaves the pin, and the retry applies the effect where the pin says.
 *
 * @returns the pinned value.
 */
export async function pinFirst<T extends Record<string, unknown>>(options: PinFirstOptions<T>): Promise<T> {
  const [keyAttribute] = Object.keys(options.key);
  const expiresAt = options.expiresAt ?? Math.floor(Date.now() / 1000) + DEFAULT_PIN_SECONDS;
  const item = { ...options.key, pinned: options.value, expiresAt };
  if (await putIfAbsent(options.tableName, keyAttribute, item, options)) return options.value;
  const { Item } = await clientFor(options).send(
    new GetItemCommand({ TableName: options.tableName, Key: attributes(options.key), ConsistentRead: true }),
  );
  // Gone between the two calls (expired): this event's value is as good as any.
  return ((Item && unmarshall(Item).pinned) as T | undefined) ?? options.value;
}

/**
 * Which of `slots` items a marker belongs to, the same on every call. `addOnce` keeps its markers in a set inside
 * one item, and DynamoDB items stop at 400 KB: spreading the markers of a busy key over several items (each a
 * share of the counter; readers add them up) keeps every set small.
 *
 * @param marker - what `addOnce` counts once (an order ID).
 * @param slots - how many items share the key's counters: an integer of 1 or more.
 * @returns an integer from 0 to `slots - 1`.
 */
export function markerSlot(marker: string, slots: number): number {
  return createHash('sha256').update(marker).digest().readUInt32BE(0) % slots;
}

async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    // By name: the class may come from another copy of the SDK than the one the caller loaded.
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}
