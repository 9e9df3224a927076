/**
 * Reading a dead-letter or failure queue without taking anything out of it: each message listed once, its reason,
 * and the identity of the record it stands for.
 *
 * @module
 */
import { type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTE_PREFIX, DEAD_LETTER_ATTRIBUTES } from '../contract';
import { kinesisBatchInfo } from './replay';

/** How to list a queue's messages. */
export interface ListMessagesOptions {
  /**
   * How long each listed message stays hidden, in seconds: from 0 to 43,200. Listing a queue that takes longer
   * than this sees the first messages again; they are not counted twice, but the listing ends at the first receive
   * that returns only messages already listed, so a larger value lists a large queue more completely.
   *
   * @default 5
   */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * At most this many messages.
   *
   * @default - every message the queue returns
   */
  readonly max?: number;
}

/**
 * Lists the messages of a queue, each once (by message ID), with their attributes; deletes nothing. Each one stays
 * hidden for `visibilityTimeoutSeconds` after it is received and then shows again. The listing ends when a receive
 * returns nothing, or only messages already listed (they reappeared: the queue has been read through).
 */
export async function listMessages(
  sqs: SQSClient,
  queueUrl: string,
  options: ListMessagesOptions = {},
): Promise<Message[]> {
  const listed = new Map<string, Message>();
  const max = options.max ?? Number.POSITIVE_INFINITY;
  while (listed.size < max) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - listed.size),
        MessageAttributeNames: ['All'],
        AttributeNames: ['All'],
        VisibilityTimeout: options.visibilityTimeoutSeconds ?? 5,
      }),
    );
    const fresh = Messages.filter((message) => !listed.has(message.MessageId as string));
    if (fresh.length === 0) break;
    for (const message of fresh) listed.set(message.MessageId as string, message);
  }
  return [...listed.values()];
}

/** The message attribute that holds a dead letter's identity (see the contract's `DEAD_LETTER_ATTRIBUTES.identity`). */
export const DEAD_LETTER_IDENTITY_ATTRIBUTE = DEAD_LETTER_ATTRIBUTES.identity;

/** Whether the runtime kit wrote this dead letter (a record that can never succeed), rather than the platform. */
export function isKitDeadLetter(message: Message): boolean {
  return message.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.error] !== undefined;
}

/** Why the message is a dead letter: the kit's error class, or `redriven by SQS` for the platform's own moves. */
export function deadLetterReason(message: Message): string {
  return message.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.error]?.StringValue ?? 'redriven by SQS';
}

/** Whether a message attribute is one of the kit's (`eda-kit.*`), which describe the dead letter, not the record. */
export function isKitAttribute(name: string): boolean {
  return name.startsWith(DEAD_LETTER_ATTRIBUTE_PREFIX);
}

/**
 * The record a dead letter stands for, the same for every copy of it: the kit's identity attribute (consumer and
 * record); for a kit dead letter written before that attribute, its source ARN and record ID; for a Kinesis
 * on-failure record, its stream, shard and sequence range; for a message SQS moved, its message ID.
 *
 * An execution environment that dies between sending a dead letter to a standard queue and marking it sent leaves
 * two copies of one record: count, alarm and redrive by this identity, not by message.
 */
export function deadLetterIdentity(message: Message): string {
  const attributes = message.MessageAttributes ?? {};
  const identity = attributes[DEAD_LETTER_IDENTITY_ATTRIBUTE]?.StringValue;
  if (identity !== undefined) return `record ${identity}`;
  const sourceArn = attributes[DEAD_LETTER_ATTRIBUTES.sourceArn]?.StringValue;
  const recordId = attributes[DEAD_LETTER_ATTRIBUTES.recordId]?.StringValue;
  if (sourceArn !== undefined && recordId !== undefined) return `record ${sourceArn} ${recordId}`;
  const batch = kinesisBatchInfo(message.Body);
  if (batch) return `batch ${batch.streamArn} ${batch.shardId} ${batch.startSequenceNumber}-${batch.endSequenceNumber}`;
  return `message ${message.MessageId}`;
}

/** The messages of a dead-letter queue grouped by identity: one entry per record, and its copies beyond the first. */
export interface DistinctDeadLetters {
  /** The first message listed of each identity. */
  readonly distinct: Message[];
  /** Every later copy of an identity already in `distinct`: delivered twice, counted once. */
  readonly copies: Message[];
}

/** Splits dead letters into one per identity and the copies beyond it (see {@link deadLetterIdentity}). */
export function distinctDeadLetters(messages: readonly Message[]): DistinctDeadLetters {
  const seen = new Set<string>();
  const distinct: Message[] = [];
  const copies: Message[] = [];
  for (const message of messages) {
    const identity = deadLetterIdentity(message);
    (seen.has(identity) ? copies : distinct).push(message);
    seen.add(identity);
  }
  return { distinct, copies };
}
