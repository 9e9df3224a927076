import { createHash } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { FilterCriteria } from './filter-criteria';
import type { FunctionRuntime } from './function-runtime';
import { LOCAL_REGION } from './intrinsics';

/** An SQS event source mapping, as the template configures it. */
export interface SqsMappingConfig {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly fifo: boolean;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
  /** The visibility timeout of the queue, in seconds: how long a failed FIFO group stays held back. */
  readonly visibilityTimeoutSeconds: number;
  /** Pollers that run at once (Lambda scales them; ScalingConfig.MaximumConcurrency caps them). */
  readonly concurrency: number;
  /** The mapping's `FilterCriteria`: a message that passes none is deleted without an invocation, as on AWS. */
  readonly filter?: FilterCriteria;
}

/** What a poller has done so far. */
export interface PollerStats {
  batches: number;
  records: number;
  failedRecords: number;
  /** Records whose invocation finished and that were not reported failed. */
  succeededRecords: number;
  functionErrors: number;
  /** Records that matched none of the mapping's filters: never sent to the function. */
  filteredOut: number;
}

/** A poller's counts before its first poll. */
export function newPollerStats(): PollerStats {
  return { batches: 0, records: 0, failedRecords: 0, succeededRecords: 0, functionErrors: 0, filteredOut: 0 };
}

/**
 * Polls a queue for a function with Lambda's SQS semantics: long polling, batch size and batching window, one
 * synchronous invocation per batch, deletion of what succeeded (all of it, or all but the reported
 * `batchItemFailures`), and nothing done for what failed, so it reappears after the visibility timeout and the
 * queue's redrive policy moves it to the dead-letter queue after `maxReceiveCount` receives.
 * FIFO: a message group is held back while one of its messages is in flight or failed (the emulator does not
 * lock groups), so a group is processed in order.
 */
export class SqsPoller {
  public readonly stats: PollerStats = newPollerStats();
  private running = false;
  private loops: Promise<void>[] = [];
  /** FIFO groups in flight or failed, with the time they may be received again. */
  private readonly heldGroups = new Map<string, number>();

  constructor(
    private readonly sqs: SQSClient,
    /** The mapping's settings, as the template configures them. */
    public readonly config: SqsMappingConfig,
    private readonly runtime: FunctionRuntime,
    private readonly onError: (error: Error) => void,
  ) {}

  public start(): void {
    this.running = true;
    const pollers = this.config.fifo ? 1 : this.config.concurrency;
    this.loops = Array.from({ length: pollers }, () => this.loop());
  }

  public async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const messages = await this.receiveBatch();
        if (messages.length > 0) await this.process(messages);
      } catch (error) {
        if (this.running) this.onError(error as Error);
        this.releaseAdmittedGroups();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** Gathers up to `batchSize` messages, for at most the batching window once the first one arrived. */
  private async receiveBatch(): Promise<Message[]> {
    const messages: Message[] = [];
    const windowEnds = Date.now() + this.config.maxBatchingWindowSeconds * 1000;
    do {
      const { Messages = [] } = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.config.queueUrl,
          MaxNumberOfMessages: Math.min(10, this.config.batchSize - messages.length),
          WaitTimeSeconds: messages.length === 0 ? 1 : 0,
          AttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      messages.push(...this.admit(await this.dropFilteredOut(Messages)));
      if (!this.running) break;
      if (Messages.length === 0 && messages.length > 0) break;
    } while (messages.length < this.config.batchSize && Date.now() < windowEnds && messages.length > 0);
    return messages;
  }

  /**
   * Deletes the messages that match none of the mapping's filters, as Lambda does for SQS, before a FIFO group is
   * held for them, and returns the rest.
   */
  private async dropFilteredOut(messages: Message[]): Promise<Message[]> {
    const filter = this.config.filter;
    if (!filter || messages.length === 0) return messages;
    const kept: Message[] = [];
    const dropped: Message[] = [];
    for (const message of messages) (filter.matchesSqsBody(message.Body ?? '') ? kept : dropped).push(message);
    await this.deleteMessages(dropped);
    this.stats.filteredOut += dropped.length;
    return kept;
  }

  /**
   * FIFO: after a failed call, the groups admitted for a batch that was never finished are held as a failed group is,
   * until their messages reappear, not for ever.
   */
  private releaseAdmittedGroups(): void {
    const heldUntil = Date.now() + this.config.visibilityTimeoutSeconds * 1000;
    for (const [group, until] of this.heldGroups) {
      if (until === Number.POSITIVE_INFINITY) this.heldGroups.set(group, heldUntil);
    }
  }

  /** FIFO: drops (leaves to reappear) messages of held groups, and holds the groups it admits. */
  private admit(messages: Message[]): Message[] {
    if (!this.config.fifo) return messages;
    const now = Date.now();
    return messages.filter((message) => {
      const group = message.Attributes?.MessageGroupId ?? '';
      const heldUntil = this.heldGroups.get(group);
      if (heldUntil !== undefined && heldUntil > now) return false;
      this.heldGroups.set(group, Number.POSITIVE_INFINITY);
      return true;
    });
  }

  private async process(messages: Message[]): Promise<void> {
    this.stats.batches++;
    this.stats.records += messages.length;
    const records = messages.map((message) => this.toRecord(message));
    let failed: Set<string>;
    try {
      const response = (await this.runtime.invoke({ Records: records })) as SQSBatchResponse | undefined;
      failed = new Set(
        this.config.reportBatchItemFailures ? (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier) : [],
      );
    } catch {
      // A function error fails the whole batch: every message comes back after its visibility timeout.
      this.stats.functionErrors++;
      failed = new Set(records.map((record) => record.messageId));
    }
    this.stats.failedRecords += failed.size;
    this.stats.succeededRecords += records.length - failed.size;
    await this.deleteMessages(messages.filter((message) => !failed.has(message.MessageId as string)));
    if (this.config.fifo) {
      const heldUntil = Date.now() + this.config.visibilityTimeoutSeconds * 1000;
      for (const message of messages) {
        const group = message.Attributes?.MessageGroupId ?? '';
        if (failed.has(message.MessageId as string)) this.heldGroups.set(group, heldUntil);
        else if (this.heldGroups.get(group) === Number.POSITIVE_INFINITY) this.heldGroups.delete(group);
      }
    }
  }

  private async deleteMessages(messages: Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.config.queueUrl,
          Entries: messages.slice(i, i + 10).map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle as string,
          })),
        }),
      );
    }
  }

  private toRecord(message: Message): SQSRecord {
    const attributes = message.Attributes ?? {};
    return {
      messageId: message.MessageId as string,
      receiptHandle: message.ReceiptHandle as string,
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
        SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
        SenderId: attributes.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        ...(attributes.MessageGroupId && { MessageGroupId: attributes.MessageGroupId }),
        ...(attributes.MessageDeduplicationId && { MessageDeduplicationId: attributes.MessageDeduplicationId }),
        ...(attributes.SequenceNumber && { SequenceNumber: attributes.SequenceNumber }),
      },
      messageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]: [string, MessageAttributeValue]) => [
          name,
          {
            stringValue: value.StringValue,
            dataType: value.DataType as string,
            stringListValues: [],
            binaryListValues: [],
          },
        ]),
      ),
      md5OfBody:
        message.MD5OfBody ??
        createHash('md5')
          .update(message.Body ?? '')
          .digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: this.config.queueArn,
      awsRegion: LOCAL_REGION,
    };
  }
}
