import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { deadLetterMarkKey, IDEMPOTENCY_TABLE_LAYOUT } from '../../contract';
import { type RecordSource, sourceDigest } from './records';

/** How long a dead-lettered record is remembered: SQS keeps a message at most 14 days, longer than most streams. */
const REMEMBER_SECONDS = 14 * 24 * 3600;

const { partitionKey, timeToLiveAttribute } = IDEMPOTENCY_TABLE_LAYOUT;

/**
 * Remembers which records were dead-lettered, in the idempotency table, so that a record delivered again (a batch
 * retried after another record failed, an environment that died later in the batch) gets one DLQ entry, not one
 * per delivery. Invalid records have no business key to be idempotent on: the source record (queue or stream,
 * message ID or shard and sequence number) is the key.
 *
 * The mark is written after the send: if the environment dies between the two, the record is dead-lettered once
 * more, never lost.
 */
export class DeadLetterLedger {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    /** The consumer's key prefix: the constructs grant each function only the keys that start with it. */
    private readonly keyPrefix: string,
  ) {}

  /** Whether the record was dead-lettered before. */
  public async has(source: RecordSource): Promise<boolean> {
    const { Item } = await this.dynamodb.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [partitionKey]: { S: this.key(source) } },
        ConsistentRead: true,
        ProjectionExpression: '#key',
        ExpressionAttributeNames: { '#key': partitionKey },
      }),
    );
    return Item !== undefined;
  }

  /** Marks the record dead-lettered. */
  public async mark(source: RecordSource): Promise<void> {
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          [partitionKey]: { S: this.key(source) },
          [timeToLiveAttribute]: { N: String(Math.floor(Date.now() / 1000) + REMEMBER_SECONDS) },
          status: { S: 'DEAD_LETTERED' },
        },
      }),
    );
  }

  private key(source: RecordSource): string {
    return deadLetterMarkKey(this.keyPrefix, sourceDigest(source));
  }
}
