import type { MessageAttributeValue, SQSClient } from '@aws-sdk/client-sqs';
import { CONSUMER_ENVIRONMENT, DEAD_LETTER_ATTRIBUTES, deadLetterMarkKey, idempotencyKeyPrefix } from '../../contract';
import { type RecordSource, sourceDigest } from './records';
import { loadSqsModule } from './sqs-module';

/**
 * The message attribute that holds a dead letter's identity: the same for every copy of one record's dead letter
 * from one consumer, which the operations tools count and redrive by (one name, in the contract, for both).
 */
export const DEAD_LETTER_IDENTITY_ATTRIBUTE = DEAD_LETTER_ATTRIBUTES.identity;

/** The largest SQS message, body and attributes together. */
const MAX_MESSAGE_BYTES = 1024 * 1024;
/** The longest reason kept: enough for any schema report, small beside the body. */
const MAX_REASON_CHARACTERS = 1024;

/** Characters SQS accepts in a message body: tab, line feed, carriage return, and #x20 up, less surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the allowed control characters are the point.
const SQS_TEXT = /^[\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

/**
 * Sends records that can never succeed to a dead-letter queue, with their body, reason, source and identity.
 *
 * On a standard queue a record can reach the queue twice: an execution environment that dies after SQS took the
 * dead letter and before the record was marked dead-lettered leaves a delivery that cannot tell whether the send was
 * taken, and it sends again, so that the record is never lost. Both copies carry the same identity
 * (`eda-kit.dead-letter-id`), derived from the consumer and the record alone, so that whatever reads the queue counts
 * and redrives the record once. On a FIFO queue SQS drops the copy itself: the record's digest is its deduplication
 * ID.
 */
export class DeadLetterWriter {
  /**
   * @param sqs - the SQS client, or the promise of it.
   * @param queueUrl - the dead-letter queue.
   * @param keyPrefix - the consumer's idempotency key prefix (`<consumer name>.`): a dead letter's identity is the
   *   key of its record's dead-letter mark under it. Defaults to the prefix the consumer resolves from its
   *   environment (`IDEMPOTENCY_KEY_PREFIX`, else its service name).
   */
  constructor(
    private readonly sqs: SQSClient | Promise<SQSClient>,
    private readonly queueUrl: string,
    private readonly keyPrefix: string = environmentKeyPrefix(),
  ) {}

  /** The identity of the dead letter of `source` from this consumer: the same for every copy of it. */
  public identity(source: RecordSource): string {
    return deadLetterMarkKey(this.keyPrefix, sourceDigest(source));
  }

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
      [DEAD_LETTER_IDENTITY_ATTRIBUTE]: stringAttribute(this.identity(source)),
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
    const [{ SendMessageCommand }, sqs] = await Promise.all([loadSqsModule(), this.sqs]);
    await sqs.send(
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

/** The key prefix a consumer resolves from its environment when its options give none (see `consumer-config.ts`). */
function environmentKeyPrefix(): string {
  return (
    process.env[CONSUMER_ENVIRONMENT.idempotencyKeyPrefix] ??
    idempotencyKeyPrefix(process.env[CONSUMER_ENVIRONMENT.serviceName] ?? 'consumer')
  );
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
