import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import {
  deadLetterIdentity,
  deadLetterReason,
  distinctDeadLetters,
  isKitAttribute,
  isKitDeadLetter,
  listMessages,
} from './dead-letters';

/** What a redrive did, or (dry run) would do. */
export interface RedriveResult {
  /** `move-task` when SQS moves the messages itself (StartMessageMoveTask); `poll-and-send` otherwise. */
  readonly method: 'move-task' | 'poll-and-send' | 'dry-run';
  /** Records moved back to the source queue (poll-and-send), each once. */
  readonly moved: number;
  /**
   * Records by reason (the kit's `eda-kit.error` attribute; `redriven by SQS` for the platform's own), each record
   * once however many copies of its dead letter the queue holds. A dry run counts each once, however long it takes
   * to read the queue.
   */
  readonly byReason: Record<string, number>;
  /**
   * Second copies of a dead letter: messages with the identity of one already counted or moved by this redrive
   * (an execution environment died between sending a dead letter and marking it sent). Delivered twice, counted
   * once: deleted rather than moved; a dry run only counts them.
   */
  readonly duplicates: number;
  readonly taskHandle?: string;
}

/** How to redrive. */
export interface RedriveOptions {
  readonly deadLetterQueueUrl: string;
  readonly sourceQueueUrl: string;
  /** List and count, move nothing. */
  readonly dryRun?: boolean;
  /**
   * How long a dry run (and the look for second copies before a move task) leaves each message it read hidden, in
   * seconds (from 0 to 43,200). Each message is counted once; a queue that takes longer than this to read through
   * shows its first messages again, and the count ends at a receive that returns only those: a large queue counts
   * more completely with a larger value.
   *
   * @see listMessages
   * @default 5
   */
  readonly dryRunVisibilityTimeoutSeconds?: number;
  /** At most this many records (poll-and-send and dry run). */
  readonly max?: number;
  /** Skip StartMessageMoveTask and poll-and-send (for emulators without it). */
  readonly pollAndSend?: boolean;
  /**
   * Move only what SQS moved after `maxReceiveCount` (valid messages that kept failing), and leave the runtime's
   * own dead letters (permanent failures, with `eda-kit.error`) where they are. Implies poll-and-send.
   */
  readonly onlyPlatformMoves?: boolean;
}

/** How long a message received by poll-and-send stays hidden while it is sent to the source, or left alone. */
const POLL_VISIBILITY_SECONDS = 30;

/**
 * Moves dead letters back to their source queue, each record once: second copies of a dead letter (the same
 * {@link deadLetterIdentity}) are deleted, not moved. With SQS's own StartMessageMoveTask where the service offers
 * it (after deleting the second copies, as the task cannot tell them apart), else by receiving each message,
 * sending it to the source (its body and its own attributes, without the kit's `eda-kit.*` ones) and only then
 * deleting it, so a failure half-way loses nothing.
 */
export async function redrive(sqs: SQSClient, options: RedriveOptions): Promise<RedriveResult> {
  if (options.dryRun) {
    // Nothing is deleted: each message is listed once and shows again after the visibility timeout.
    const messages = await listMessages(sqs, options.deadLetterQueueUrl, {
      visibilityTimeoutSeconds: options.dryRunVisibilityTimeoutSeconds ?? 5,
      max: options.max,
    });
    const { distinct, copies } = distinctDeadLetters(messages);
    return { method: 'dry-run', moved: 0, byReason: countByReason(distinct), duplicates: copies.length };
  }
  if (!options.pollAndSend && !options.onlyPlatformMoves) {
    const duplicates = await deleteCopies(sqs, options.deadLetterQueueUrl, options.dryRunVisibilityTimeoutSeconds);
    try {
      const [sourceArn, destinationArn] = await Promise.all([
        queueArn(sqs, options.deadLetterQueueUrl),
        queueArn(sqs, options.sourceQueueUrl),
      ]);
      const { TaskHandle } = await sqs.send(
        new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }),
      );
      return { method: 'move-task', moved: 0, byReason: {}, duplicates, taskHandle: TaskHandle };
    } catch (error) {
      // An emulator without the action answers with an error of its own; AWS's real refusals are worth showing.
      if (
        !/not (implemented|supported)|Unsupported|InvalidAction|UnknownOperation/i.test(
          `${(error as Error).name} ${(error as Error).message}`,
        )
      ) {
        throw error;
      }
    }
    const result = await pollAndSend(sqs, options);
    return { ...result, duplicates: result.duplicates + duplicates };
  }
  return pollAndSend(sqs, options);
}

/** Receives, sends to the source and deletes, each record once; copies of a record moved are deleted. */
async function pollAndSend(sqs: SQSClient, options: RedriveOptions): Promise<RedriveResult> {
  const fifo = options.sourceQueueUrl.endsWith('.fifo');
  const byReason: Record<string, number> = {};
  const movedIdentities = new Set<string>();
  // Messages left where they are (the kit's own, with onlyPlatformMoves): hidden while the queue is read through,
  // so that later receives reach the messages behind them, and shown again at the end.
  const leftAlone = new Map<string, string>();
  let moved = 0;
  let duplicates = 0;
  try {
    while (options.max === undefined || moved < options.max) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.deadLetterQueueUrl,
          MaxNumberOfMessages: Math.min(10, (options.max ?? Number.POSITIVE_INFINITY) - moved),
          MessageAttributeNames: ['All'],
          AttributeNames: ['All'],
          VisibilityTimeout: POLL_VISIBILITY_SECONDS,
        }),
      );
      const fresh = Messages.filter((message) => !leftAlone.has(message.MessageId as string));
      // Nothing left, or only messages left alone that showed again: the queue has been read through.
      if (fresh.length === 0) break;
      for (const message of fresh) {
        if (options.onlyPlatformMoves && isKitDeadLetter(message)) {
          leftAlone.set(message.MessageId as string, message.ReceiptHandle as string);
          continue;
        }
        const identity = deadLetterIdentity(message);
        if (!movedIdentities.has(identity)) {
          await sqs.send(
            new SendMessageCommand({
              QueueUrl: options.sourceQueueUrl,
              MessageBody: message.Body ?? '',
              MessageAttributes: ownAttributes(message),
              ...(fifo && {
                MessageGroupId: message.Attributes?.MessageGroupId ?? 'redrive',
                MessageDeduplicationId: message.MessageId,
              }),
            }),
          );
          movedIdentities.add(identity);
          const reason = deadLetterReason(message);
          byReason[reason] = (byReason[reason] ?? 0) + 1;
          moved++;
        } else duplicates++;
        // Only after its record is in the source queue: a failure before this leaves the dead letter in place.
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: options.deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
  } finally {
    await showAgain(sqs, options.deadLetterQueueUrl, [...leftAlone.values()]);
  }
  return { method: 'poll-and-send', moved, byReason, duplicates };
}

/**
 * Reads the queue through and deletes every second copy of a dead letter, keeping the first of each identity;
 * shows the kept ones again at once. Returns how many copies it deleted.
 */
async function deleteCopies(sqs: SQSClient, queueUrl: string, visibilityTimeoutSeconds = 5): Promise<number> {
  const kept = new Map<string, string>();
  const identities = new Set<string>();
  let deleted = 0;
  try {
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          VisibilityTimeout: visibilityTimeoutSeconds,
        }),
      );
      const fresh = Messages.filter((message) => !kept.has(message.MessageId as string));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        const identity = deadLetterIdentity(message);
        if (identities.has(identity)) {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
          deleted++;
        } else {
          identities.add(identity);
          kept.set(message.MessageId as string, message.ReceiptHandle as string);
        }
      }
    }
  } finally {
    await showAgain(sqs, queueUrl, [...kept.values()]);
  }
  return deleted;
}

/** Makes received messages visible again at once; one that cannot be shows again after its visibility timeout. */
async function showAgain(sqs: SQSClient, queueUrl: string, receiptHandles: string[]): Promise<void> {
  for (let i = 0; i < receiptHandles.length; i += 10) {
    await sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: receiptHandles
            .slice(i, i + 10)
            .map((ReceiptHandle, index) => ({ Id: String(index), ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      )
      .catch(() => undefined);
  }
}

function countByReason(messages: readonly Message[]): Record<string, number> {
  const byReason: Record<string, number> = {};
  for (const message of messages) {
    const reason = deadLetterReason(message);
    byReason[reason] = (byReason[reason] ?? 0) + 1;
  }
  return byReason;
}

function ownAttributes(message: Message): Record<string, MessageAttributeValue> | undefined {
  const own = Object.entries(message.MessageAttributes ?? {}).filter(([name]) => !isKitAttribute(name));
  return own.length > 0 ? Object.fromEntries(own) : undefined;
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  return Attributes?.QueueArn as string;
}
