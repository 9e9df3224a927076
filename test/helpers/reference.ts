import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';

/** Reads items of the emulator's tables (endpoints and table names come from the test environment). */
export const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

/** Imports a reference function's handler module, as the Lambda runtime would after setting its environment. */
export async function loadHandler<TEvent, TResult>(
  functionName: string,
): Promise<(event: TEvent, context: Context) => Promise<TResult>> {
  const modulePath = path.join(__dirname, '..', '..', 'lambdas', functionName, 'handler.ts');
  const module = (await import(modulePath)) as { handler: (event: TEvent, context: Context) => Promise<TResult> };
  return module.handler;
}

/** The item at `key` in the table named by the environment variable `tableVariable`, if any. */
export async function getItem(tableVariable: string, key: Record<string, unknown>) {
  const { Item } = await documents.send(new GetCommand({ TableName: process.env[tableVariable], Key: key }));
  return Item;
}

/** Every item of the table named by `tableVariable` that matches `filter`. */
export async function scanItems(tableVariable: string, filter: (item: Record<string, unknown>) => boolean) {
  const { Items = [] } = await documents.send(new ScanCommand({ TableName: process.env[tableVariable] }));
  return Items.filter(filter);
}

/** Receives every visible message of a queue, with its attributes. */
export async function receiveAll(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return messages;
    messages.push(...Messages);
  }
}
