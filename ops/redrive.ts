import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { deadLetterReason, isKitAttribute, isKitDeadLetter, listMessages } from './dead-letters';

/** What a redrive did, or (dry run) would do. */
export interface RedriveResult {
  /** `move-task` when SQS moves the messages itself (StartMessageMoveTask); `poll-and-send` otherwise. */
  readonly method: 'move-task' | 'poll-and-send' | 'dry-run';
  readonly moved: number;
  /**
   * Messages by reason (the kit's `eda-kit.error` attribute; `redriven by SQS` for the platform's own). A dry run
   * counts each message once, however long it takes to read the queue.
   */
  readonly byReason: Record<string, number>;
  readonly taskHandle?: string;
}

/** How to redrive. */
export interface RedriveOptions {
  readonly deadLetterQueueUrl: string;
  readonly sourceQueueUrl: string;
  /** List and count, move nothing. */
  readonly dryRun?: boolean;
  /**
   * How long a dry run leaves each message it counted hidden, in seconds (from 0 to 43,200). Each message is
   * counted once; a queue that takes longer than this to read through shows its first messages again, and the
   * count ends at a receive that returns only those: a large queue counts more completely with a larger value.
   *
   * @see listMessages
   * @default 5
   */
  readonly dryRunVisibilityTimeoutSeconds?: number;
  /** At most this many messages (poll-and-send and dry run). */
  readonly max?: number;
  /** Skip StartMessageMoveTask and poll-and-send (for emulators without it). */
  readonly pollAndSend?: boolean;
  /**
   * Move only what SQS moved after `maxReceiveCount` (valid messages that kept failing), and leave the runtime's
   * own dead letters (permanent failures, with `eda-kit.error`) where they are. Implies poll-and-send.
   */
  readonly onlyPlatformMoves?: boolean;
}

/**
 * Moves messages from a dead-letter queue back to its source queue: with SQS's own StartMessageMoveTask where the
 * service offers it, else by receiving each message, sending it to the source (its body and its own attributes,
 * without the kit's `eda-kit.*` ones) and only then deleting it, so a failure half-way loses nothing.
 */
export async function redrive(sqs: SQSClient, options: RedriveOptions): Promise<RedriveResult> {
  if (options.dryRun) return { method: 'dry-run', moved: 0, byReason: await countByReason(sqs, options) };
  if (!options.pollAndSend && !options.onlyPlatformMoves) {
    try {
      const [sourceArn, destinationArn] = await Promise.all([
        queueArn(sqs, options.deadLetterQueueUrl),
        queueArn(sqs, options.sourceQueueUrl),
      ]);
      const { TaskHandle } = await sqs.send(
        new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }),
      );
      return { method: 'move-task', moved: 0, byReason: {}, taskHandle: TaskHandle };
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
  }
  const fifo = options.sourceQueueUrl.endsWith('.fifo');
  const byReason: Record<string, number> = {};
  const leftAlone = new Set<string>();
  let moved = 0;
  while (options.max === undefined || moved < options.max) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.deadLetterQueueUrl,
        MaxNumberOfMessages: Math.min(10, (options.max ?? Number.POSITIVE_INFINITY) - moved),
        MessageAttributeNames: ['All'],
        AttributeNames: ['All'],
        VisibilityTimeout: 30,
      }),
    );
    if (Messages.length === 0) break;
    const allSeen = Messages.every((message) => leftAlone.has(message.MessageId as string));
    for (const message of Messages) {
      if (options.onlyPlatformMoves && isKitDeadLetter(message)) {
        // Left where it is, and visible again at once (this receive hid it).
        leftAlone.add(message.MessageId as string);
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: options.deadLetterQueueUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        );
        continue;
      }
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
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: options.deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      const reason = deadLetterReason(message);
      byReason[reason] = (byReason[reason] ?? 0) + 1;
      moved++;
    }
    if (allSeen) break;
  }
  return { method: 'poll-and-send', moved, byReason };
}

async function countByReason(sqs: SQSClient, options: RedriveOptions): Promise<Record<string, number>> {
  // Nothing is deleted: each message is listed once and shows again after the visibility timeout.
  const messages = await listMessages(sqs, options.deadLetterQueueUrl, {
    visibilityTimeoutSeconds: options.dryRunVisibilityTimeoutSeconds ?? 5,
    max: options.max,
  });
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
