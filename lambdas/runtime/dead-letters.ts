import { createHash } from 'node:crypto';
import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RecordSource } from './records';

/** The message attributes of a dead letter the runtime writes; the body is the record's original body. */
export const DEAD_LETTER_ATTRIBUTES = {
  /** Why the record can never succeed: the error's name and message. */
  reason: 'eda-kit.reason',
  /** The error class, e.g. `SchemaViolationError`. */
  error: 'eda-kit.error',
  /** The ARN of the queue or stream the record was read from. */
  sourceArn: 'eda-kit.source-arn',
  /** SQS message ID, or Kinesis `shardId:sequenceNumber`. */
  recordId: 'eda-kit.record-id',
  /** Kinesis partition key. */
  partitionKey: 'eda-kit.partition-key',
  /** `utf8` when the body is the original text; `base64` when the original bytes could not travel as SQS text. */
  bodyEncoding: 'eda-kit.body-encoding',
  /** Present when the body had to be cut to fit in a message; the full record stays in its stream. */
  truncatedFromBytes: 'eda-kit.truncated-from-bytes',
} as const;

/** The largest SQS message: 1 MiB, less room for the attributes. */
const MAX_BODY_BYTES = 1024 * 1024 - 8 * 1024;

/** Characters SQS accepts in a message body: tab, line feed, carriage return, and #x20 up, less surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the allowed control characters are the point.
const SQS_TEXT = /^[\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

/** Sends records that can never succeed to a dead-letter queue, with their body, reason and source. */
export class DeadLetterWriter {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /** Sends one record. Throws when SQS does not take it, so the record is retried rather than lost. */
  public async send(bytes: Buffer, source: RecordSource, error: Error): Promise<void> {
    const text = bytes.toString('utf8');
    const asText = Buffer.from(text, 'utf8').equals(bytes) && SQS_TEXT.test(text);
    let body = asText ? text : bytes.toString('base64');
    const attributes: Record<string, MessageAttributeValue> = {
      [DEAD_LETTER_ATTRIBUTES.reason]: stringAttribute(`${error.name}: ${error.message}`.slice(0, 4096)),
      [DEAD_LETTER_ATTRIBUTES.error]: stringAttribute(error.name),
      [DEAD_LETTER_ATTRIBUTES.sourceArn]: stringAttribute(source.sourceArn),
      [DEAD_LETTER_ATTRIBUTES.recordId]: stringAttribute(source.id),
      [DEAD_LETTER_ATTRIBUTES.bodyEncoding]: stringAttribute(asText ? 'utf8' : 'base64'),
    };
    if (source.partitionKey !== undefined) {
      attributes[DEAD_LETTER_ATTRIBUTES.partitionKey] = stringAttribute(source.partitionKey);
    }
    if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
      attributes[DEAD_LETTER_ATTRIBUTES.truncatedFromBytes] = { DataType: 'Number', StringValue: String(bytes.length) };
      body = truncateUtf8(body, MAX_BODY_BYTES);
    }
    // An empty body is not a valid SQS message; the attributes still say what happened.
    if (body.length === 0) body = ' ';
    const fifo = this.queueUrl.endsWith('.fifo');
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        MessageAttributes: attributes,
        ...(fifo && {
          MessageGroupId: source.messageGroupId ?? source.partitionKey ?? 'dead-letters',
          // A retried send of the same record is dropped by FIFO deduplication.
          MessageDeduplicationId: createHash('sha256').update(`${source.sourceArn}|${source.id}`).digest('hex'),
        }),
      }),
    );
  }
}

function stringAttribute(value: string): MessageAttributeValue {
  // Attribute values follow the same character rules as bodies; an empty string is not allowed.
  const safe = SQS_TEXT.test(value) ? value : JSON.stringify(value);
  return { DataType: 'String', StringValue: safe.length > 0 ? safe : '(empty)' };
}

function truncateUtf8(text: string, maxBytes: number): string {
  let cut = Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8');
  // A cut inside a multi-byte character decodes to U+FFFD at the end: drop it.
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut;
}
