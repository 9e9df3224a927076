import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { loadSqsModule } from './sqs-module';

let dynamoDBClient: DynamoDBClient | undefined;
let sqsClient: Promise<SQSClient> | undefined;

/**
 * The execution environment's DynamoDB client, from the environment's configuration, created on first use so that
 * importing the kit creates none. Consumers and effect helpers that are given no client share it: one client
 * resolves its configuration and credentials once, and its connections serve the idempotency records and the
 * effects alike.
 */
export function environmentDynamoDBClient(): DynamoDBClient {
  dynamoDBClient ??= new DynamoDBClient({});
  return dynamoDBClient;
}

/**
 * The execution environment's SQS client, for dead letters, from the environment's configuration. Loaded and created
 * on the first dead letter: most execution environments never send one.
 */
export function environmentSqsClient(): Promise<SQSClient> {
  sqsClient ??= loadSqsModule().then(
    ({ SQSClient }) => new SQSClient({}),
    (error: unknown) => {
      sqsClient = undefined; // the next dead letter tries again
      throw error;
    },
  );
  return sqsClient;
}
