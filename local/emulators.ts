import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, type KinesisClient, waitUntilStreamExists } from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type EmulatorEndpoints, LOCAL_CREDENTIALS, LOCAL_REGION } from '../ops/endpoint-clients';
import { compiledScript } from './compiled';

// The clients and the endpoints' shape live in ops/ (the `eda-kit` CLI, which ships without local/, uses them too).
export { type EmulatorEndpoints, emulatorClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../ops/endpoint-clients';

/** Running emulators and a way to stop them. */
export interface Emulators {
  readonly endpoints: EmulatorEndpoints;
  /** The process of each emulator, when they run in processes of their own. */
  readonly pids?: Readonly<Record<EmulatedService, number | undefined>>;
  stop(): Promise<void>;
}

interface Listener {
  listen(port: number, host: string, callback: () => void): void;
  address(): AddressInfo | string | null;
  close(callback?: () => void): void;
}

const HOST = '127.0.0.1';
/** The account in every local queue URL and ARN. */
export const LOCAL_ACCOUNT_ID = '000000000000';

async function listen(server: Listener): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return `http://${HOST}:${(server.address() as AddressInfo).port}`;
}

/** Where emulator state lives. */
export interface EmulatorOptions {
  /**
   * A folder to keep DynamoDB and Kinesis state in between runs (SQS, which local-aws-sqs keeps in memory only,
   * starts empty every time).
   *
   * @default - everything in memory
   */
  readonly dataDir?: string;
}

/** The emulated services. */
export type EmulatedService = keyof EmulatorEndpoints;
const SERVICES: readonly EmulatedService[] = ['dynamodb', 'kinesis', 'sqs'];

/** The npm packages of the emulators, which `cdk-eda-kit` lists as optional peer dependencies. */
export const EMULATOR_PACKAGES = ['dynalite', 'kinesalite', 'local-aws-sqs'] as const;

/** Thrown when an emulator package is not installed beside the kit; the message says what to install. */
export class EmulatorsNotInstalledError extends Error {
  constructor(
    /** The packages that are not installed. */
    public readonly missing: readonly string[],
  ) {
    super(
      `the local cloud needs the emulator package${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: ` +
        `npm install --save-dev ${EMULATOR_PACKAGES.join(' ')}`,
    );
    this.name = 'EmulatorsNotInstalledError';
  }
}

/**
 * Fails with {@link EmulatorsNotInstalledError} unless every emulator package resolves from here. They are optional
 * peers of the package: an app that deploys the constructs does not install three emulators it never runs.
 */
export function assertEmulatorsInstalled(): void {
  const missing = EMULATOR_PACKAGES.filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) throw new EmulatorsNotInstalledError(missing);
}

/** Starts one emulator in this process on a free port and returns its endpoint and a way to stop it. */
export async function startEmulator(
  service: EmulatedService,
  options: EmulatorOptions = {},
): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const onDisk = (name: string) => {
    if (!options.dataDir) return {};
    const dir = path.join(options.dataDir, name);
    mkdirSync(dir, { recursive: true });
    return { path: dir };
  };
  let server: Listener;
  // Required here, not at the top: importing the local cloud must not fail where the emulators are not installed.
  if (service === 'dynamodb') {
    const dynalite = require('dynalite') as typeof import('dynalite');
    server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...onDisk('dynamodb') }) as Listener;
    await listen(server);
  } else if (service === 'kinesis') {
    const kinesalite = require('kinesalite') as typeof import('kinesalite');
    server = kinesalite({
      createStreamMs: 0,
      deleteStreamMs: 0,
      updateStreamMs: 0,
      shardLimit: 100,
      ...onDisk('kinesis'),
    }) as Listener;
    await listen(server);
  } else {
    const { createSqsServer } = require('local-aws-sqs') as typeof import('local-aws-sqs');
    server = (await createSqsServer({
      port: 0,
      hostname: HOST,
      accountId: LOCAL_ACCOUNT_ID,
      emulateQueueCreationLifecycle: false,
    })) as unknown as Listener;
  }
  return {
    endpoint: `http://${HOST}:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Starts DynamoDB (dynalite), Kinesis (kinesalite) and SQS (local-aws-sqs) in this process, on free ports. */
export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const started = await Promise.all(SERVICES.map((service) => startEmulator(service, options)));
  const endpoints = Object.fromEntries(
    SERVICES.map((service, i) => [service, started[i].endpoint]),
  ) as unknown as EmulatorEndpoints;
  return { endpoints, stop: async () => void (await Promise.all(started.map((emulator) => emulator.stop()))) };
}

/**
 * Starts each emulator in a child process of its own (see emulator-process.ts) and resolves once they listen:
 * their CPU work then spreads over the machine's cores instead of queueing on one event loop.
 */
export async function spawnEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  assertEmulatorsInstalled();
  const children = SERVICES.map((service) =>
    fork(compiledScript('emulator-process'), [service, ...(options.dataDir ? [options.dataDir] : [])], {
      // Not the parent's flags: plain node, without the parent's TypeScript loader.
      execArgv: [],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    }),
  );
  const stop = () =>
    Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    ).then(() => undefined);
  try {
    const endpoints = await Promise.all(
      children.map(
        (child) =>
          new Promise<string>((resolve, reject) => {
            let output = '';
            child.stdout?.on('data', (chunk: Buffer) => {
              output += chunk.toString();
              if (output.includes('\n')) resolve(output.split('\n')[0].trim());
            });
            child.once('exit', (code) =>
              reject(new Error(`An emulator process exited with ${code} before it listened`)),
            );
          }),
      ),
    );
    return {
      endpoints: Object.fromEntries(
        SERVICES.map((service, i) => [service, endpoints[i]]),
      ) as unknown as EmulatorEndpoints,
      pids: Object.fromEntries(SERVICES.map((service, i) => [service, children[i].pid])) as Record<
        EmulatedService,
        number
      >,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
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
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
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

/** Creates a stream with `shards` shards and waits until it is active. */
export async function createStream(client: KinesisClient, streamName: string, shards = 1) {
  await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shards }));
  // kinesalite reports the stream CREATING for a moment even with createStreamMs 0.
  await waitUntilStreamExists({ client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { StreamName: streamName });
}
