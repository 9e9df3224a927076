import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { expect, test } from 'vitest';
import { CONSUMER_ENVIRONMENT, idempotencyKeyPrefix } from '../../../contract';
import { createQueue, createTable, emulatorClients } from '../../../local/emulators';
import { orderPlaced } from '../../helpers/records';

const run = promisify(execFile);
const fixture = path.join(__dirname, 'fixtures', 'crashing-consumer.ts');
const endpoints = {
  dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
  sqs: process.env.AWS_ENDPOINT_URL_SQS as string,
  kinesis: process.env.AWS_ENDPOINT_URL_KINESIS as string,
};

test('GIVEN a process that dies after the effect and before the COMPLETED record THEN the retry leaves the effect once', async () => {
  // GIVEN a consumer in its own process, and an order
  const clients = emulatorClients(endpoints);
  const id = randomUUID().slice(0, 8);
  const env = {
    ...process.env,
    IDEMPOTENCY_TABLE: `idempotency-${id}`,
    EFFECTS_TABLE: `effects-${id}`,
    DEAD_LETTER_QUEUE: await createQueue(clients.sqs, `dead-letters-${id}`),
    [CONSUMER_ENVIRONMENT.idempotencyKeyPrefix]: idempotencyKeyPrefix(`orders-${id}`),
    ORDER: JSON.stringify(orderPlaced()),
    // The in-progress record expires this long after the first attempt starts, as on Lambda.
    REMAINING_MS: '1500',
  };
  await createTable(clients.dynamodb, env.IDEMPOTENCY_TABLE, 'id');
  await createTable(clients.dynamodb, env.EFFECTS_TABLE, 'key');
  const attempt = (crash: boolean) =>
    run(process.execPath, ['--import', 'tsx', fixture], { env: { ...env, CRASH_AFTER_EFFECT: crash ? '1' : '0' } });

  // WHEN the first attempt is killed between its effect and the COMPLETED record
  await expect(attempt(true)).rejects.toMatchObject({ signal: 'SIGKILL' });

  // THEN the effect exists and its idempotency record is stuck IN PROGRESS: the case Powertools cannot cover
  const stuck = await clients.dynamodb.send(new ScanCommand({ TableName: env.IDEMPOTENCY_TABLE }));
  expect(stuck.Items?.map((item) => item.status?.S)).toEqual(['INPROGRESS']);
  expect(stuck.Items?.[0]?.id?.S).toMatch(new RegExp(`^orders-${id}\\.OrderPlaced#`));

  // WHEN the platform retries (refused while the in-progress record lives, run again once it expires)
  const deadline = Date.now() + 20_000;
  let outcome: { response: { batchItemFailures: unknown[] }; created: boolean } | undefined;
  while (Date.now() < deadline) {
    const { stdout } = await attempt(false);
    outcome = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    if (outcome?.response.batchItemFailures.length === 0) break;
  }
  expect(outcome?.response).toEqual({ batchItemFailures: [] });
  // The handler ran again (the idempotency record never completed) but its conditional write did not repeat.
  expect(outcome?.created).toBe(false);
  const { Items = [] } = await clients.dynamodb.send(new ScanCommand({ TableName: env.EFFECTS_TABLE }));
  expect(Items).toHaveLength(1);
}, 60_000);
