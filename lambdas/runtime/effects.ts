import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/**
 * Effects that are safe to repeat. Idempotency records stop most repeats, but not one that comes after a function
 * died between its effect and the COMPLETED record: so every effect is itself conditional.
 */
export const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

/** Writes `item` unless an item with its key exists. Returns whether this call created it. */
export async function putIfAbsent(
  tableName: string,
  keyAttribute: string,
  item: Record<string, unknown>,
): Promise<boolean> {
  return conditional(() =>
    documentClient.send(
      new PutCommand({
        TableName: tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#key)',
        ExpressionAttributeNames: { '#key': keyAttribute },
      }),
    ),
  );
}

/**
 * Applies `update` to the item at `key` only if `sequence` is above the last sequence applied to it, and records
 * `sequence` in the same write. Kinesis sequence numbers of one partition key grow; they are compared as strings
 * of equal length, so they are zero-padded. Returns whether the update was applied.
 */
export async function applyIfNewer(options: {
  readonly tableName: string;
  readonly key: Record<string, unknown>;
  readonly sequence: string;
  /** An update expression clause to run with the sequence, e.g. `ADD stock :delta`. */
  readonly update: string;
  readonly values: Record<string, unknown>;
}): Promise<boolean> {
  return conditional(() =>
    documentClient.send(
      new UpdateCommand({
        TableName: options.tableName,
        Key: options.key,
        UpdateExpression: `SET lastSequence = :sequence ${options.update}`,
        ConditionExpression: 'attribute_not_exists(lastSequence) OR lastSequence < :sequence',
        ExpressionAttributeValues: { ...options.values, ':sequence': options.sequence.padStart(64, '0') },
      }),
    ),
  );
}

/**
 * Adds to counters at `key` and records `marker` in the set `markerAttribute` in one conditional write, so the
 * counters count each marker once. Returns whether the counters moved.
 */
export async function addOnce(options: {
  readonly tableName: string;
  readonly key: Record<string, unknown>;
  readonly markerAttribute: string;
  readonly marker: string;
  readonly counters: Record<string, number>;
}): Promise<boolean> {
  const names: Record<string, string> = { '#markers': options.markerAttribute };
  const values: Record<string, unknown> = { ':marker': options.marker, ':markers': new Set([options.marker]) };
  const adds = Object.entries(options.counters).map(([counter, amount], index) => {
    names[`#c${index}`] = counter;
    values[`:c${index}`] = amount;
    return `#c${index} :c${index}`;
  });
  return conditional(() =>
    documentClient.send(
      new UpdateCommand({
        TableName: options.tableName,
        Key: options.key,
        UpdateExpression: `ADD ${[...adds, '#markers :markers'].join(', ')}`,
        ConditionExpression: 'attribute_not_exists(#markers) OR NOT contains(#markers, :marker)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
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
 */
export async function pinFirst<T extends Record<string, unknown>>(options: {
  readonly tableName: string;
  readonly key: Record<string, unknown>;
  readonly value: T;
  /**
   * Epoch seconds after which the pin may go (the table's time-to-live attribute `expiresAt`): once no later event
   * of the entity can get past its idempotency record, that is, the idempotency expiry plus the source's retention.
   *
   * @default - 8 days from now
   */
  readonly expiresAt?: number;
}): Promise<T> {
  const [keyAttribute] = Object.keys(options.key);
  const expiresAt = options.expiresAt ?? Math.floor(Date.now() / 1000) + 8 * 24 * 3600;
  const item = { ...options.key, pinned: options.value, expiresAt };
  if (await putIfAbsent(options.tableName, keyAttribute, item)) return options.value;
  const { Item } = await documentClient.send(
    new GetCommand({ TableName: options.tableName, Key: options.key, ConsistentRead: true }),
  );
  // Gone between the two calls (expired): this event's value is as good as any.
  return (Item?.pinned as T | undefined) ?? options.value;
}

/**
 * Which of `slots` items a marker belongs to, the same on every call. `addOnce` keeps its markers in a set inside
 * one item, and DynamoDB items stop at 400 KB: spreading the markers of a busy key over several items (each a
 * share of the counter; readers add them up) keeps every set small.
 */
export function markerSlot(marker: string, slots: number): number {
  return createHash('sha256').update(marker).digest().readUInt32BE(0) % slots;
}

/**
 * A seam for fault injection: the local cloud's chaos runs set `globalThis.__edaKitFaults.afterEffect` to kill the
 * process right after a conditional write: between an effect and its idempotency record, or between a pin and its
 * effect. Unset everywhere else, it costs one property read.
 */
interface FaultSeam {
  __edaKitFaults?: { afterEffect?: () => void };
}

async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    (globalThis as FaultSeam).__edaKitFaults?.afterEffect?.();
    return true;
  } catch (error) {
    // By name: the class may come from another copy of the SDK than the one the caller loaded.
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}
