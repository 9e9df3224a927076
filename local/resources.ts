import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { DEAD_LETTER_ATTRIBUTES } from '../contract';
import { isKitDeadLetter, listMessages } from '../ops/dead-letters';
import type { FunctionRuntime } from './function-runtime';
import type { MetricsCollector } from './metrics-collector';

/** Where a resource of the local cloud comes from in the synthesized app. */
export interface LocalResourceIdentity {
  /** The stack it belongs to. */
  readonly stackName: string;
  /** Its logical ID in the stack's template. */
  readonly logicalId: string;
  /** Its construct path without the stack and without a final `/Resource` (`Orders/Queue`), else its logical ID. */
  readonly path: string;
}

/** The SDK clients a resource handle calls the emulators with. */
export interface ResourceClients {
  readonly sqs: SQSClient;
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  /** For an app with a bucket. */
  readonly s3?: S3Client;
}

/** What to send to a queue: a string as it is, anything else as JSON. */
export interface SendOptions {
  /** Message attributes, as strings. @default - none */
  readonly attributes?: Readonly<Record<string, string>>;
  /** The message group of a FIFO queue. @default 'default' on a FIFO queue */
  readonly messageGroupId?: string;
  /** The deduplication ID of a FIFO queue without content-based deduplication. @default - a random ID */
  readonly deduplicationId?: string;
  /** Seconds before the message can be received. @default 0 */
  readonly delaySeconds?: number;
}

/** A message read from a queue, with what the kit wrote about it when it is a dead letter. */
export interface QueueMessage {
  /** The SQS message ID. */
  readonly messageId: string;
  /** The body as the producer sent it: a dead letter whose bytes were not valid text is decoded from base64. */
  readonly body: string;
  /** The message attributes, as strings. */
  readonly attributes: Readonly<Record<string, string>>;
  /**
   * Why it is here, for a dead letter: the kit's reason (`SchemaViolationError: ...`); `redriven by SQS` for a
   * message the queue's redrive policy moved. Undefined for a message that is not a dead letter.
   */
  readonly reason?: string;
  /** The kit's error class (`SchemaViolationError`), when the kit dead-lettered it. */
  readonly error?: string;
  /** The raw SDK message. */
  readonly message: Message;
}

/** A queue of the local cloud. */
export class LocalQueue {
  /** @internal */
  constructor(
    /** Where it comes from in the app. */
    public readonly identity: LocalResourceIdentity,
    /** Its local URL (the value of `Ref`). */
    public readonly url: string,
    /** Its local ARN. */
    public readonly arn: string,
    /** Whether the template names it as the dead-letter target of another queue or a consumer. */
    public readonly isDeadLetterQueue: boolean,
    private readonly sqs: SQSClient,
  ) {}

  /** Sends one message: a string as it is, anything else as JSON. Resolves with its message ID. */
  public async send(body: unknown, options: SendOptions = {}): Promise<string> {
    const fifo = this.url.endsWith('.fifo');
    const { MessageId } = await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.url,
        MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
        DelaySeconds: options.delaySeconds,
        MessageAttributes: Object.fromEntries(
          Object.entries(options.attributes ?? {}).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
        ...(fifo && {
          MessageGroupId: options.messageGroupId ?? 'default',
          MessageDeduplicationId: options.deduplicationId ?? `${Date.now()}-${Math.random()}`,
        }),
      }),
    );
    return MessageId as string;
  }

  /**
   * Every message the queue holds, each once, without taking any out: they are visible again when this resolves.
   * For a dead-letter queue, each comes with its reason.
   */
  public async messages(): Promise<QueueMessage[]> {
    const messages = await listMessages(this.sqs, this.url, { visibilityTimeoutSeconds: 30 });
    for (let i = 0; i < messages.length; i += 10) {
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.url,
          Entries: messages.slice(i, i + 10).map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle as string,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
    return messages.map((message) => toQueueMessage(message, this.isDeadLetterQueue));
  }
}

function toQueueMessage(message: Message, isDeadLetterQueue: boolean): QueueMessage {
  const attributes = Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]: [string, MessageAttributeValue]) => [
      name,
      value.StringValue ?? Buffer.from(value.BinaryValue ?? new Uint8Array()).toString('base64'),
    ]),
  );
  const base64 = attributes[DEAD_LETTER_ATTRIBUTES.bodyEncoding] === 'base64';
  const kit = isKitDeadLetter(message);
  return {
    messageId: message.MessageId as string,
    body: base64 ? Buffer.from(message.Body ?? '', 'base64').toString('utf8') : (message.Body ?? ''),
    attributes,
    reason: kit ? attributes[DEAD_LETTER_ATTRIBUTES.reason] : isDeadLetterQueue ? 'redriven by SQS' : undefined,
    error: kit ? attributes[DEAD_LETTER_ATTRIBUTES.error] : undefined,
    message,
  };
}

/** Where {@link LocalStream.put} put a record. */
export interface PutRecordResult {
  /** The shard. */
  readonly shardId: string;
  /** The record's sequence number in its shard. */
  readonly sequenceNumber: string;
}

/** A Kinesis stream of the local cloud. */
export class LocalStream {
  /** @internal */
  constructor(
    /** Where it comes from in the app. */
    public readonly identity: LocalResourceIdentity,
    /** Its local name (the value of `Ref`). */
    public readonly name: string,
    /** Its local ARN. */
    public readonly arn: string,
    private readonly kinesis: KinesisClient,
  ) {}

  /**
   * Puts one record: bytes as they are, a string as UTF-8, anything else as JSON. Resolves with its shard and
   * sequence number.
   */
  public async put(data: unknown, partitionKey: string): Promise<PutRecordResult> {
    const bytes =
      data instanceof Uint8Array ? data : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data), 'utf8');
    const { ShardId, SequenceNumber } = await this.kinesis.send(
      new PutRecordCommand({ StreamName: this.name, PartitionKey: partitionKey, Data: bytes }),
    );
    return { shardId: ShardId as string, sequenceNumber: SequenceNumber as string };
  }
}

/** One object of a bucket. */
export interface BucketObject {
  /** Its key. */
  readonly key: string;
  /** Its content, as UTF-8 text. */
  readonly body: string;
}

/**
 * An S3 bucket of the local cloud: a Kinesis consumer's failure bucket, where failed batches are kept whole (see
 * `failureBucket` of `StreamConsumer`).
 */
export class LocalBucket {
  /** @internal */
  constructor(
    /** Where it comes from in the app. */
    public readonly identity: LocalResourceIdentity,
    /** Its local name (the value of `Ref`). */
    public readonly name: string,
    private readonly s3: S3Client,
  ) {}

  /** Every object under `prefix`, with its content, in key order. */
  public async objects(prefix = ''): Promise<BucketObject[]> {
    const { GetObjectCommand, paginateListObjectsV2 } =
      require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    const objects: BucketObject[] = [];
    for await (const page of paginateListObjectsV2({ client: this.s3 }, { Bucket: this.name, Prefix: prefix })) {
      for (const { Key } of page.Contents ?? []) {
        const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.name, Key }));
        objects.push({ key: Key as string, body: (await Body?.transformToString('utf8')) ?? '' });
      }
    }
    return objects;
  }
}

/** A DynamoDB table of the local cloud. */
export class LocalTable {
  private readonly documents: DynamoDBDocumentClient;

  /** @internal */
  constructor(
    /** Where it comes from in the app. */
    public readonly identity: LocalResourceIdentity,
    /** Its local name (the value of `Ref`). */
    public readonly name: string,
    /** Its local ARN. */
    public readonly arn: string,
    dynamodb: DynamoDBClient,
  ) {
    this.documents = DynamoDBDocumentClient.from(dynamodb);
  }

  /** Every item of the table, as plain objects (numbers as numbers, sets as `Set`). */
  public async scan(): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for await (const page of paginateScan({ client: this.documents }, { TableName: this.name })) {
      items.push(...(page.Items ?? []));
    }
    return items;
  }
}

/** A line a function printed, parsed when it is JSON (Powertools' structured logs, EMF metrics). */
export interface FunctionLogLine {
  /** The line as printed. */
  readonly line: string;
  /** The line parsed, when it is a JSON object. */
  readonly json?: Record<string, unknown>;
}

/** A Lambda function of the local cloud, running in execution environments of its own. */
export class LocalFunction {
  /** @internal */
  constructor(
    /** Where it comes from in the app. */
    public readonly identity: LocalResourceIdentity,
    /** The runtime that runs its execution environments. @internal */
    public readonly runtime: FunctionRuntime,
    private readonly logLines: readonly FunctionLogLine[],
    private readonly collector: MetricsCollector,
  ) {}

  /** Its stack. */
  public get stackName(): string {
    return this.identity.stackName;
  }

  /** Its logical ID. */
  public get logicalId(): string {
    return this.identity.logicalId;
  }

  /** Its local function name. */
  public get name(): string {
    return this.runtime.config.name;
  }

  /** Its service name (`POWERTOOLS_SERVICE_NAME`), else its logical ID. */
  public get label(): string {
    return this.runtime.config.label;
  }

  /** Its environment variables, resolved to the local resources' names and URLs. */
  public get environment(): Readonly<Record<string, string>> {
    return this.runtime.config.environment;
  }

  /** Invokes it synchronously, as `Invoke` with `RequestResponse` does, and resolves with what it returned. */
  public invoke(event: unknown): Promise<unknown> {
    return this.runtime.invoke(event);
  }

  /**
   * The lines it printed so far (the last 10,000), EMF metric lines left out: what CloudWatch Logs would hold.
   * `filter` keeps the lines that contain it.
   */
  public logs(filter?: string): FunctionLogLine[] {
    return this.logLines.filter((entry) => filter === undefined || entry.line.includes(filter));
  }

  /** The sums of the metrics it published in Embedded Metric Format so far, by metric name. */
  public metrics(): Record<string, number> {
    return this.collector.sums(this.name);
  }
}
