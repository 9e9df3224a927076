import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LocalCloud } from '../../local/local-cloud';

/**
 * Where the reference app's end-to-end tests run, chosen by `EDA_KIT_E2E_TARGET`:
 * - `local` (the default, in `npm test`): the embedded local cloud, started here, reached through its single
 *   endpoint like any endpoint-driven target;
 * - `localstack`: the stack `npm run localstack:deploy` deployed (its outputs in `.local/localstack-outputs.json`),
 *   at `AWS_ENDPOINT_URL` (default `http://localhost.localstack.cloud:4566`);
 * - `aws`: the stack `cdk deploy --outputs-file .local/aws-outputs.json` deployed, with the usual credential chain.
 * The tests find every resource through the stack's outputs, so one test file serves all three.
 */
export type E2eTargetName = 'local' | 'localstack' | 'aws';

/** A target the tests can run against. */
export interface E2eTarget {
  readonly name: E2eTargetName;
  /** The reference stack's outputs (`OrdersQueueUrl`, `OrdersTableName`...). */
  readonly outputs: Readonly<Record<string, string>>;
  readonly sqs: SQSClient;
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  readonly lambda: LambdaClient;
  readonly s3: S3Client;
  /** The endpoint every client is given, when the target has one (not AWS). */
  readonly endpoint?: string;
  /** How long an effect may take to appear: seconds locally, longer on a real service. */
  readonly settleMs: number;
  stop(): Promise<void>;
}

/** A target that cannot be reached, and why: the tests are skipped with this reason printed. */
export interface UnreachableTarget {
  readonly name: E2eTargetName;
  readonly skipReason: string;
}

const ROOT = path.resolve(__dirname, '..', '..');
/** The reference app's stack, as `cdk.json`'s default stage names it. */
export const REFERENCE_STACK = 'EdaKit-dev-OrderEvents';
const LOCALSTACK_ENDPOINT = 'http://localhost.localstack.cloud:4566';

/** The target `EDA_KIT_E2E_TARGET` names, connected; or why it cannot be reached. */
export async function connectTarget(): Promise<E2eTarget | UnreachableTarget> {
  const name = (process.env.EDA_KIT_E2E_TARGET ?? 'local') as E2eTargetName;
  if (name === 'local') return startLocal();
  if (name !== 'localstack' && name !== 'aws') {
    throw new Error(`EDA_KIT_E2E_TARGET must be local, localstack or aws, got '${name}'`);
  }
  const outputsFile = path.join(ROOT, '.local', `${name}-outputs.json`);
  const deploy =
    name === 'localstack' ? 'npm run localstack:deploy' : 'npx cdk deploy --all --outputs-file .local/aws-outputs.json';
  if (!existsSync(outputsFile)) return { name, skipReason: `no ${outputsFile}: deploy first (${deploy})` };
  const outputs = (JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>)[
    REFERENCE_STACK
  ];
  if (!outputs) return { name, skipReason: `${outputsFile} has no outputs of ${REFERENCE_STACK}` };

  const endpoint = name === 'localstack' ? (process.env.AWS_ENDPOINT_URL ?? LOCALSTACK_ENDPOINT) : undefined;
  if (endpoint) {
    try {
      const health = await fetch(`${endpoint}/_localstack/health`, { signal: AbortSignal.timeout(3_000) });
      if (!health.ok) throw new Error(`HTTP ${health.status}`);
    } catch (error) {
      return {
        name,
        skipReason:
          `LocalStack does not answer at ${endpoint} (${(error as Error).message}); it runs in Docker and needs ` +
          'LOCALSTACK_AUTH_TOKEN: `localstack start`, then `npm run localstack:deploy`',
      };
    }
  }
  const clients = serviceClients(endpoint);
  try {
    await clients.sqs.send(new ListQueuesCommand({ MaxResults: 1 }));
  } catch (error) {
    return { name, skipReason: `SQS refused a call (${(error as Error).message}): check the credentials and region` };
  }
  return { name, outputs, ...clients, endpoint, settleMs: 120_000, stop: async () => undefined };
}

/** The configuration of every SDK client of the tests: nothing but an endpoint, when there is one. */
export function clientConfig(endpoint: string | undefined) {
  return endpoint
    ? { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }
    : {};
}

/** SDK clients as a user's script makes them. */
function serviceClients(endpoint: string | undefined) {
  const config = clientConfig(endpoint);
  return {
    sqs: new SQSClient(config),
    kinesis: new KinesisClient(config),
    dynamodb: new DynamoDBClient(config),
    lambda: new LambdaClient(config),
    // Path-style addressing: an endpoint such as localhost has no per-bucket host names.
    s3: new S3Client({ ...config, forcePathStyle: endpoint !== undefined }),
  };
}

/** The local cloud with its single endpoint: the tests talk to it as they would to LocalStack. */
async function startLocal(): Promise<E2eTarget> {
  const cloud = await LocalCloud.start({ appDir: ROOT, edgePort: 0 });
  const endpoint = cloud.edge?.url as string;
  return {
    name: 'local',
    outputs: cloud.outputs()[REFERENCE_STACK],
    ...serviceClients(endpoint),
    endpoint,
    settleMs: 30_000,
    stop: () => cloud.stop(),
  };
}
