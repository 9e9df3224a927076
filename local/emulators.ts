import { fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';
import { createSqsServer } from 'local-aws-sqs';

/** Where the emulators listen. */
export interface EmulatorEndpoints {
  readonly dynamodb: string;
  readonly sqs: string;
  readonly kinesis: string;
}

/** Running emulators and a way to stop them. */
export interface Emulators {
  readonly endpoints: EmulatorEndpoints;
  stop(): Promise<void>;
}

interface Listener {
  listen(port: number, host: string, callback: () => void): void;
  address(): AddressInfo | string | null;
  close(callback?: () => void): void;
}

const HOST = '127.0.0.1';
/** Fake credentials: the emulators accept any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
export const LOCAL_REGION = 'us-east-1';

async function listen(server: Listener): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return `http://${HOST}:${(server.address() as AddressInfo).port}`;
}

/** Starts DynamoDB (dynalite), Kinesis (kinesalite) and SQS (local-aws-sqs) in this process, on free ports. */
export async function startEmulators(): Promise<Emulators> {
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Listener;
  const kinesis = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 }) as Listener;
  const sqs = await createSqsServer({ port: 0, hostname: HOST, emulateQueueCreationLifecycle: false });
  const endpoints = {
    dynamodb: await listen(dynamo),
    kinesis: await listen(kinesis),
    sqs: `http://${HOST}:${(sqs.address() as AddressInfo).port}`,
  };
  return {
    endpoints,
    stop: async () => {
      await Promise.all([
        new Promise<void>((resolve) => dynamo.close(() => resolve())),
        new Promise<void>((resolve) => kinesis.close(() => resolve())),
        new Promise<void>((resolve) => sqs.close(() => resolve())),
      ]);
    },
  };
}

/**
 * Starts the emulators in a child process (see emulator-process.ts) and resolves once they listen. Their CPU work
 * then runs on another core than the caller's.
 */
export async function spawnEmulators(): Promise<Emulators> {
  const child = fork(path.join(__dirname, 'emulator-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const endpoints = await new Promise<EmulatorEndpoints>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n')[0];
      if (output.includes('\n')) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`The emulator process exited with ${code} before it listened`)));
  });
  return {
    endpoints,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Points every AWS SDK client of this process (and of workers started after this) at the emulators. */
export function useEmulatorEnvironment(endpoints: EmulatorEndpoints): void {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_REGION: LOCAL_REGION,
  });
}

/** SDK clients for the emulators (Kinesis needs the HTTP/1.1 handler: kinesalite does not speak HTTP/2). */
export function emulatorClients(endpoints: EmulatorEndpoints) {
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  return {
    dynamodb: new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb }),
    sqs: new SQSClient({ ...common, endpoint: endpoints.sqs }),
    kinesis: new KinesisClient({ ...common, endpoint: endpoints.kinesis, requestHandler: new NodeHttpHandler() }),
  };
}

/** Creates an on-demand table with a string partition key (and optionally a number sort key). */
export async function createTable(client: DynamoDBClient, tableName: string, partitionKey: string, sortKey?: string) {
  const input: CreateTableCommandInput = {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: partitionKey, AttributeType: 'S' },
      ...(sortKey ? [{ AttributeName: sortKey, AttributeType: 'N' as const }] : []),
    ],
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
    ],
  };
  await client.send(new CreateTableCommand(input));
  // dynalite reports the table CREATING for a moment even with createTableMs 0.
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { TableName: tableName });
}

/** Creates a queue and returns its URL. */
export async function createQueue(client: SQSClient, queueName: string, attributes: Record<string, string> = {}) {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: queueName, Attributes: attributes }));
  return QueueUrl as string;
}

/** Creates a stream with `shards` shards. */
export async function createStream(client: KinesisClient, streamName: string, shards = 1) {
  await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shards }));
}
