import { randomUUID } from 'node:crypto';
import { paginateScan } from '@aws-sdk/client-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import * as v from 'valibot';
import { beforeAll, describe, expect, test } from 'vitest';
import { CONSUMER_ENVIRONMENT } from '../../contract';
import { createQueueConsumer, createStreamConsumer, defineEventHandler } from '../../lambdas/runtime';
import { QueueConsumer } from '../../lib/queue-consumer';
import { StreamConsumer } from '../../lib/stream-consumer';
import { createQueue, createTable, emulatorClients } from '../../local/emulators';
import { kinesisEvent, kinesisRecord, lambdaContext, sqsEvent, sqsRecord } from '../helpers/records';
import { createTestStack, HANDLER_ENTRY } from '../helpers/template';

/**
 * On AWS, the constructs' IAM policy decides which idempotency keys a consumer may write (`dynamodb:LeadingKeys`);
 * the emulators enforce no IAM. So this compares the two sides directly: the keys the runtime writes, configured
 * with the environment the constructs synthesize, against the patterns the synthesized policy allows.
 */
const clients = emulatorClients({
  dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
  sqs: process.env.AWS_ENDPOINT_URL_SQS as string,
  kinesis: process.env.AWS_ENDPOINT_URL_KINESIS as string,
});

interface SynthesizedConsumer {
  readonly environment: Record<string, unknown>;
  /** The `dynamodb:LeadingKeys` patterns of the function's idempotency grant. */
  readonly allowedKeys: string[];
}

/** Each function's environment and the LeadingKeys patterns of its role's policy, from the template. */
function synthesizedConsumers(template: Template): Map<string, SynthesizedConsumer> {
  const json = template.toJSON() as { Resources: Record<string, { Type: string; Properties: any }> };
  const consumers = new Map<string, SynthesizedConsumer>();
  for (const fn of Object.values(json.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function')) {
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const statements = Object.values(json.Resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy')
      .filter((policy) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    const allowedKeys = statements.flatMap(
      (statement: any) => statement.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? [],
    );
    const environment = fn.Properties.Environment.Variables;
    consumers.set(environment[CONSUMER_ENVIRONMENT.serviceName], { environment, allowedKeys });
  }
  return consumers;
}

/** Whether `key` matches an IAM `StringLike` pattern (`*` any run of characters, `?` one character). */
function matchesStringLike(key: string, pattern: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(key);
}

/** Runs `create` with the variables the constructs set on the function, as its cold start would see them. */
function withEnvironment<T>(environment: Record<string, unknown>, create: () => T): T {
  const names = [CONSUMER_ENVIRONMENT.idempotencyKeyPrefix, CONSUMER_ENVIRONMENT.serviceName];
  const previous = names.map((name) => process.env[name]);
  for (const name of names) process.env[name] = String(environment[name]);
  try {
    return create();
  } finally {
    names.forEach((name, index) => {
      if (previous[index] === undefined) delete process.env[name];
      else process.env[name] = previous[index];
    });
  }
}

async function keysIn(tableName: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateScan({ client: clients.dynamodb }, { TableName: tableName })) {
    for (const item of page.Items ?? []) keys.push(item.id.S as string);
  }
  return keys;
}

const SignedUp = v.object({ type: v.literal('UserSignedUp'), userId: v.string() });

describe('GIVEN consumers whose service names are not their construct IDs', () => {
  let consumers: Map<string, SynthesizedConsumer>;
  let tableName: string;
  let deadLetterQueueUrl: string;

  beforeAll(async () => {
    // GIVEN the constructs as an app would use them, with service names that differ from the construct IDs
    const { stack } = createTestStack();
    new QueueConsumer(stack, 'Signups', { functionProps: { entry: HANDLER_ENTRY, serviceName: 'welcome-mailer' } });
    new StreamConsumer(stack, 'Clicks', {
      consumers: { sessions: { functionProps: { entry: HANDLER_ENTRY, serviceName: 'click-sessionizer' } } },
    });
    consumers = synthesizedConsumers(Template.fromStack(stack));
    tableName = `idempotency-prefix-${randomUUID().slice(0, 8)}`;
    await createTable(clients.dynamodb, tableName, 'id');
    deadLetterQueueUrl = await createQueue(clients.sqs, `prefix-dead-letters-${randomUUID().slice(0, 8)}`);
  });

  test('WHEN their runtimes apply, repeat and dead-letter records THEN every key written is one the synthesized policy allows', async () => {
    const events = {
      UserSignedUp: defineEventHandler({ schema: SignedUp, idempotencyKey: 'userId', handle: async () => undefined }),
    };
    const signups = consumers.get('welcome-mailer') as SynthesizedConsumer;
    const sessions = consumers.get('click-sessionizer') as SynthesizedConsumer;
    expect(signups.allowedKeys).toEqual([`${signups.environment[CONSUMER_ENVIRONMENT.idempotencyKeyPrefix]}*`]);
    expect(sessions.allowedKeys).toEqual([`${sessions.environment[CONSUMER_ENVIRONMENT.idempotencyKeyPrefix]}*`]);

    // WHEN each runtime starts with its function's synthesized environment
    const queueHandler = withEnvironment(signups.environment, () =>
      createQueueConsumer({ events, idempotencyTableName: tableName, deadLetterQueueUrl, useLocalCache: false }),
    );
    const streamHandler = withEnvironment(sessions.environment, () =>
      createStreamConsumer({ events, idempotencyTableName: tableName, deadLetterQueueUrl, useLocalCache: false }),
    );
    const body = JSON.stringify({ type: 'UserSignedUp', userId: 'u-1' });
    await queueHandler(sqsEvent([sqsRecord(body), sqsRecord(body), sqsRecord('not json')]), lambdaContext());
    await streamHandler(kinesisEvent([kinesisRecord(body), kinesisRecord('not json')]), lambdaContext());

    // THEN effects and dead-letter marks were written, each under a pattern its own function's policy allows
    const written = await keysIn(tableName);
    expect(written.length).toBe(4);
    const allowedFor = (key: string) =>
      [...consumers.entries()]
        .filter(([, consumer]) => consumer.allowedKeys.some((pattern) => matchesStringLike(key, pattern)))
        .map(([name]) => name);
    expect(written.map(allowedFor).sort()).toEqual([
      ['click-sessionizer'],
      ['click-sessionizer'],
      ['welcome-mailer'],
      ['welcome-mailer'],
    ]);
  });
});
