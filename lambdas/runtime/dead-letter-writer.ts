import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES } from '../../contract';
import { type RecordSource, sourceDigest } from './records';

/** The largest SQS message, body and attributes together. */
const MAX_MESSAGE_BYTES = 1024 * 1024;
/** The longest reason kept: enough for any schema report, small beside the body. */
const MAX_REASON_CHARACTERS = 1024;

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
    let body = bytes.length === 0 ? ' ' : asText ? text : bytes.toString('base64');
    const attributes: Record<string, MessageAttributeValue> = {
      [DEAD_LETTER_ATTRIBUTES.reason]: stringAttribute(
        `${error.name}: ${error.message}`.slice(0, MAX_REASON_CHARACTERS),
      ),
      [DEAD_LETTER_ATTRIBUTES.error]: stringAttribute(error.name),
      [DEAD_LETTER_ATTRIBUTES.sourceArn]: stringAttribute(source.sourceArn),
      [DEAD_LETTER_ATTRIBUTES.recordId]: stringAttribute(source.id),
      // An empty body is not a valid SQS message: it travels as one space, marked `empty`.
      [DEAD_LETTER_ATTRIBUTES.bodyEncoding]: stringAttribute(bytes.length === 0 ? 'empty' : asText ? 'utf8' : 'base64'),
    };
    if (source.partitionKey !== undefined) {
      attributes[DEAD_LETTER_ATTRIBUTES.partitionKey] = stringAttribute(source.partitionKey);
    }
    // Attributes count towards the message size: the body gets what they leave.
    const room = MAX_MESSAGE_BYTES - attributeBytes(attributes) - 256;
    if (Buffer.byteLength(body) > room) {
      attributes[DEAD_LETTER_ATTRIBUTES.truncatedFromBytes] = { DataType: 'Number', StringValue: String(bytes.length) };
      body = truncateUtf8(body, room);
    }
    const fifo = this.queueUrl.endsWith('.fifo');
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        MessageAttributes: attributes,
        ...(fifo && {
          MessageGroupId: source.messageGroupId ?? source.partitionKey ?? 'dead-letters',
          // A retried send of the same record is dropped by FIFO deduplication.
          MessageDeduplicationId: sourceDigest(source),
        }),
      }),
    );
  }
}

/** Characters SQS rejects, one at a time. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the rejected control characters are the point.
const NOT_SQS_TEXT = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function stringAttribute(value: string): MessageAttributeValue {
  // Attribute values follow the same character rules as bodies, and may not be empty: escape what SQS rejects.
  const safe = value.replace(NOT_SQS_TEXT, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return { DataType: 'String', StringValue: safe.length > 0 ? safe : '(empty)' };
}

function attributeBytes(attributes: Record<string, MessageAttributeValue>): number {
  return Object.entries(attributes).reduce(
    (total, [name, value]) =>
      total +
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType ?? '') +
      Buffer.byteLength(value.StringValue ?? ''),
    0,
  );
}

function truncateUtf8(text: string, maxBytes: number): string {
  let cut = Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8');
  // A cut inside a multi-byte character decodes to U+FFFD at the end: drop it.
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut;
}
