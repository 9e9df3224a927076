import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createTable, emulatorClients, LOCAL_CREDENTIALS, LOCAL_REGION, spawnEmulators } from '../local/emulators';
import { FunctionRuntime } from '../local/function-runtime';
import { type BenchResult, finish, median, medianOfRatios, round, runsFlag } from './results';

/**
 * What a fresh execution environment of the local cloud pays per DynamoDB request as it warms up: one environment
 * (the local cloud's own worker, its V8 flags included) sends the idempotency store's pair of requests (a
 * conditional PutItem, then an UpdateItem) again and again, and reports the CPU it spent on each stretch of
 * requests. Against the steady rate at the end, the first stretches show what every new environment spends before
 * its SDK code runs warm: the share of a function's CPU in a short local run that no change to the kit removes.
 */
const projectDir = path.resolve(__dirname, '..');
const TABLE = 'bench-sdk-warmup';
/** Request pairs per invocation, in order: each invocation is one stretch of the environment's life. */
const STRETCHES = [50, 450, 500, 1000, 2000, 2000] as const;
/** The last request of each stretch, counted from the environment's first: two requests per pair. */
const STRETCH_ENDS = STRETCHES.map((_, i) => 2 * STRETCHES.slice(0, i + 1).reduce((sum, pairs) => sum + pairs, 0));
/** The stretches of an environment's first 1,000 requests. */
const FIRST_THOUSAND = STRETCH_ENDS.filter((end) => end <= 1000).length;

const HANDLER = `const { DynamoDBClient, PutItemCommand, UpdateItemCommand } = require('@aws-sdk/client-dynamodb');
const client = new DynamoDBClient({});
let sent = 0;
exports.handler = async ({ pairs }) => {
  const before = process.cpuUsage();
  for (let i = 0; i < pairs; i++) {
    const id = { S: process.pid + '-' + sent++ };
    await client.send(new PutItemCommand({
      TableName: process.env.TABLE_NAME,
      Item: { id, status: { S: 'INPROGRESS' }, expiration: { N: String(Date.now() + 3600000) } },
      ConditionExpression: 'attribute_not_exists(id) OR expiration < :now',
      ExpressionAttributeValues: { ':now': { N: String(Date.now()) } },
    }));
    await client.send(new UpdateItemCommand({
      TableName: process.env.TABLE_NAME,
      Key: { id },
      UpdateExpression: 'SET #status = :completed',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':completed': { S: 'COMPLETED' } },
    }));
  }
  const { user, system } = process.cpuUsage(before);
  return { cpuMs: (user + system) / 1000 };
};
`;

/** CPU-ms per request of each stretch of one fresh environment's life. */
async function oneEnvironment(codeDir: string, endpoint: string): Promise<number[]> {
  const runtime = new FunctionRuntime(
    {
      name: 'bench-sdk-warmup',
      label: 'sdk-warmup',
      codeDir,
      handler: 'index.handler',
      timeoutSeconds: 900,
      memoryMb: 256,
      // What the local cloud gives a function's environment, less the services this one does not call.
      environment: {
        TABLE_NAME: TABLE,
        AWS_REGION: LOCAL_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_DYNAMODB: endpoint,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
    () => {},
    1,
  );
  try {
    const perRequest: number[] = [];
    for (const pairs of STRETCHES) {
      const { cpuMs } = (await runtime.invoke({ pairs })) as { cpuMs: number };
      perRequest.push(cpuMs / (2 * pairs));
    }
    return perRequest;
  } finally {
    await runtime.stop();
  }
}

/** The warm-up figures, each the median of `environments` fresh environments measured one after another. */
export async function measureSdkWarmup(environments: number): Promise<BenchResult[]> {
  const codeDir = path.join(projectDir, '.local', 'bench-sdk-warmup');
  mkdirSync(codeDir, { recursive: true });
  writeFileSync(path.join(codeDir, 'index.js'), HANDLER);
  const emulators = await spawnEmulators();
  try {
    await createTable(emulatorClients(emulators.endpoints).dynamodb, TABLE, 'id');
    const runs: number[][] = [];
    for (let run = 0; run < environments; run++) runs.push(await oneEnvironment(codeDir, emulators.endpoints.dynamodb));
    const stretch = (index: number) => median(runs.map((perRequest) => perRequest[index]));
    const steady = stretch(STRETCHES.length - 1);
    // Each environment's own first 1,000 requests against its own steady rate: the medians of separate stretches
    // could come from different environments.
    const firstThousandVsSteady = medianOfRatios(
      runs.map(
        (perRequest) =>
          perRequest.slice(0, FIRST_THOUSAND).reduce((cpuMs, ms, i) => cpuMs + ms * 2 * STRETCHES[i], 0) / 1000,
      ),
      runs.map((perRequest) => perRequest.at(-1) as number),
    );
    const count = (requests: number) => requests.toLocaleString('en-US');
    const curve = STRETCHES.map(
      (_, i) => `${count(i === 0 ? 1 : STRETCH_ENDS[i - 1] + 1)} to ${count(STRETCH_ENDS[i])}: ${round(stretch(i))}`,
    );
    const note = `median of ${environments} fresh environment(s) of the local cloud, each sending conditional PutItem + UpdateItem pairs to dynalite`;
    return [
      {
        name: 'sdk.warmup.cpuMsPerRequest.first100',
        value: round(stretch(0)),
        unit: 'ms',
        note: `CPU per request, the first 100 requests of a fresh environment; ${note}`,
      },
      {
        name: 'sdk.warmup.cpuMsPerRequest.steady',
        value: round(steady),
        unit: 'ms',
        note: `CPU per request, requests ${count((STRETCH_ENDS.at(-2) as number) + 1)} to ${count(STRETCH_ENDS.at(-1) as number)} of the same environment; by stretch of requests: ${curve.join(', ')} ms`,
      },
      // Not a ratio of two medians, so not `ratioResult`: the median of each environment's ratio.
      {
        name: 'sdk.warmup.firstThousandVsSteady',
        value: round(firstThousandVsSteady),
        unit: 'x',
        baseline: round(steady),
        ratio: round(firstThousandVsSteady),
        note: `CPU per request over an environment's first 1,000 requests, against its own steady rate (the median of each environment's ratio): a 1,000-order local run sends about 1,500 requests per environment; ${note}`,
      },
    ];
  } finally {
    await emulators.stop();
  }
}

async function main(): Promise<void> {
  const results = await measureSdkWarmup(
    runsFlag('npm run bench:sdk-warmup --', 'fresh environments (the median is kept)', 3),
  );
  for (const result of results)
    console.log(`${result.name.padEnd(44)} ${String(result.value).padStart(9)} ${result.unit}`);
  finish(results);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
