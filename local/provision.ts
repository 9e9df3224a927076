import { CreateTableCommand, type DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, type KinesisClient, waitUntilStreamExists } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { AssemblyStack, TemplateResource } from './assembly';
import { IntrinsicResolver, LOCAL_ACCOUNT, LOCAL_REGION, type LocalResource } from './intrinsics';

/** Shards an on-demand stream gets locally (AWS scales them with traffic; kinesalite cannot). */
export const LOCAL_ON_DEMAND_SHARDS = 2;

/** The clients provisioning talks to. */
export interface ProvisioningClients {
  readonly sqs: SQSClient;
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  /** Needed only by an app with a bucket. */
  readonly s3?: S3Client;
}

/**
 * Changes a queue's attributes (`VisibilityTimeout`, `RedrivePolicy`...) before it is created: a plugin's hook.
 * Returns the attributes to create it with.
 */
export type QueueConfigurer = (queue: {
  readonly logicalId: string;
  readonly attributes: Readonly<Record<string, string>>;
}) => Record<string, string>;

/** One stack made local: every resource's local identity, and a resolver for the rest of the template. */
export interface ProvisionedStack {
  readonly stack: AssemblyStack;
  readonly resources: Map<string, LocalResource>;
  readonly resolver: IntrinsicResolver;
  /** The attributes each queue was created with, by logical ID (after the plugins' changes). */
  readonly queueAttributes: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/**
 * Creates every queue (with its redrive policy, FIFO attributes and visibility timeout), stream (shards) and table
 * (keys) of a synthesized stack in the emulators, and gives every other resource a local identity (functions by
 * name, roles, log groups...). Dead-letter queues are created before the queues that redrive to them.
 * Settings that cannot be honoured locally are reported through `notice`, once each.
 */
export async function provisionStack(
  stack: AssemblyStack,
  clients: ProvisioningClients,
  notice: (message: string) => void,
  configureQueue: QueueConfigurer = ({ attributes }) => ({ ...attributes }),
): Promise<ProvisionedStack> {
  const resources = new Map<string, LocalResource>();
  const queueAttributes = new Map<string, Record<string, string>>();
  const resolver = new IntrinsicResolver(stack.stackName, resources);
  const entries = Object.entries(stack.resources);
  const prefix = stack.stackName.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 30);
  const arn = (service: string, resource: string) => `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource}`;

  // Names and identities first: everything a Ref or GetAtt may point at.
  for (const [logicalId, resource] of entries) {
    const name = `${prefix}-${logicalId}`.slice(0, 75);
    switch (resource.Type) {
      case 'AWS::Lambda::Function':
        resources.set(logicalId, {
          type: resource.Type,
          ref: name,
          attributes: { Arn: arn('lambda', `function:${name}`) },
        });
        break;
      case 'AWS::IAM::Role':
        resources.set(logicalId, {
          type: resource.Type,
          ref: name,
          attributes: { Arn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${name}` },
        });
        break;
      case 'AWS::Logs::LogGroup':
        resources.set(logicalId, {
          type: resource.Type,
          ref: `/aws/lambda/${name}`,
          attributes: { Arn: arn('logs', `log-group:/aws/lambda/${name}:*`) },
        });
        break;
      case 'AWS::Kinesis::StreamConsumer':
        notice(
          `${logicalId}: enhanced fan-out has no local equivalent; its consumer reads the stream with GetRecords.`,
        );
        resources.set(logicalId, { type: resource.Type, ref: name, attributes: { ConsumerARN: name } });
        break;
      case 'AWS::Lambda::Url':
        resources.set(logicalId, { type: resource.Type, ref: name, attributes: { FunctionUrl: `local://${name}/` } });
        break;
      default:
        break;
    }
  }
  // Everything the local cloud does not create still gets a name, so a function's environment that refers to it
  // (a topic's ARN, a parameter's name) resolves: to a placeholder that names it, since it does not exist here.
  const created = new Set(['AWS::DynamoDB::Table', 'AWS::Kinesis::Stream', 'AWS::SQS::Queue', 'AWS::S3::Bucket']);
  for (const [logicalId, resource] of entries) {
    if (resources.has(logicalId) || created.has(resource.Type)) continue;
    resources.set(logicalId, placeholderResource(resource.Type, `${prefix}-${logicalId}`));
  }

  // Tables and streams have no dependencies on each other.
  for (const [logicalId, resource] of entries) {
    const name = `${prefix}-${logicalId}`.slice(0, 100);
    if (resource.Type === 'AWS::DynamoDB::Table') {
      await createTable(clients.dynamodb, name, resource);
      resources.set(logicalId, {
        type: resource.Type,
        ref: name,
        attributes: { Arn: arn('dynamodb', `table/${name}`), StreamArn: arn('dynamodb', `table/${name}/stream/local`) },
      });
    } else if (resource.Type === 'AWS::Kinesis::Stream') {
      const props = resource.Properties ?? {};
      const onDemand = (props.StreamModeDetails as { StreamMode?: string } | undefined)?.StreamMode === 'ON_DEMAND';
      const shards = onDemand ? LOCAL_ON_DEMAND_SHARDS : Number(props.ShardCount ?? 1);
      if (onDemand) notice(`${logicalId}: an on-demand stream runs with ${shards} shards locally.`);
      await ignoreExisting(clients.kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards })));
      await waitUntilStreamExists(
        { client: clients.kinesis, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 },
        { StreamName: name },
      );
      resources.set(logicalId, {
        type: resource.Type,
        ref: name,
        attributes: { Arn: arn('kinesis', `stream/${name}`) },
      });
    }
  }

  for (const [logicalId, resource] of entries) {
    if (resource.Type !== 'AWS::S3::Bucket') continue;
    const name = bucketName(prefix, logicalId, resource);
    if (!clients.s3) throw new Error(`${logicalId}: the app has a bucket, and the local cloud started no S3 emulator`);
    const { CreateBucketCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    await ignoreExisting(clients.s3.send(new CreateBucketCommand({ Bucket: name })));
    const lifecycle = (resource.Properties?.LifecycleConfiguration as { Rules?: unknown[] } | undefined)?.Rules;
    if (lifecycle?.length) notice(`${logicalId}: lifecycle rules are not emulated; objects stay until deleted.`);
    resources.set(logicalId, {
      type: resource.Type,
      ref: name,
      attributes: {
        Arn: `arn:aws:s3:::${name}`,
        DomainName: `${name}.s3.amazonaws.com`,
        RegionalDomainName: `${name}.s3.${LOCAL_REGION}.amazonaws.com`,
      },
    });
  }

  // Queues: those without a redrive policy first, so every dead-letter target exists when it is named.
  const queues = entries.filter(([, resource]) => resource.Type === 'AWS::SQS::Queue');
  const ordered = [
    ...queues.filter(([, resource]) => !resource.Properties?.RedrivePolicy),
    ...queues.filter(([, resource]) => resource.Properties?.RedrivePolicy),
  ];
  for (const [logicalId, resource] of ordered) {
    const props = resource.Properties ?? {};
    const fifo = props.FifoQueue === true || props.FifoQueue === 'true';
    const name = `${prefix}-${logicalId}`.slice(0, fifo ? 75 : 80) + (fifo ? '.fifo' : '');
    const attributes: Record<string, string> = {};
    if (fifo) attributes.FifoQueue = 'true';
    if (props.ContentBasedDeduplication) attributes.ContentBasedDeduplication = String(props.ContentBasedDeduplication);
    if (props.VisibilityTimeout !== undefined) {
      attributes.VisibilityTimeout = resolver.resolveString(props.VisibilityTimeout, `${logicalId}.VisibilityTimeout`);
    }
    if (props.MessageRetentionPeriod !== undefined)
      attributes.MessageRetentionPeriod = resolver.resolveString(
        props.MessageRetentionPeriod,
        `${logicalId}.MessageRetentionPeriod`,
      );
    if (props.RedrivePolicy) {
      const redrive = resolver.resolve(props.RedrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: number };
      attributes.RedrivePolicy = JSON.stringify(redrive);
    }
    if (props.KmsMasterKeyId) notice(`${logicalId}: KMS encryption is not emulated; messages are kept in memory.`);
    const configured = configureQueue({ logicalId, attributes });
    queueAttributes.set(logicalId, configured);
    const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: configured }));
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    resources.set(logicalId, {
      type: resource.Type,
      ref: QueueUrl as string,
      attributes: { Arn: Attributes?.QueueArn as string, QueueName: name, QueueUrl: QueueUrl as string },
    });
  }

  return { stack, resources, resolver, queueAttributes };
}

/**
 * The local identity of a resource the local cloud does not run: `Ref` is its name, and every attribute a
 * placeholder ARN-like string that says what it stands for (`arn:aws:sns:us-east-1:000000000000:<name>`, or
 * `<name>.<attribute>`).
 */
function placeholderResource(type: string, name: string): LocalResource {
  const service = type.split('::')[1]?.toLowerCase() ?? 'unknown';
  const arn = `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;
  const attributes = new Proxy({} as Record<string, string>, {
    get: (_, attribute) => (attribute === 'Arn' ? arn : `${name}.${String(attribute)}`),
  });
  return { type, ref: name, attributes };
}

/**
 * Creates a table the app uses but does not define (imported by name, as `IdempotencyTable.fromTableName` does)
 * with a string partition key, unless it exists (a kept data folder).
 */
export async function createImportedTable(
  client: DynamoDBClient,
  tableName: string,
  partitionKey: string,
): Promise<void> {
  await createTable(client, tableName, {
    Type: 'AWS::DynamoDB::Table',
    Properties: {
      KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: partitionKey, AttributeType: 'S' }],
    },
  });
}

async function createTable(client: DynamoDBClient, tableName: string, resource: TemplateResource): Promise<void> {
  const props = resource.Properties ?? {};
  await ignoreExisting(
    client.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: props.KeySchema as never,
        AttributeDefinitions: props.AttributeDefinitions as never,
        BillingMode: 'PAY_PER_REQUEST',
      }),
    ),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { TableName: tableName });
}

/** With a data folder, tables, streams and buckets survive a restart: creating them again is not an error. */
async function ignoreExisting(create: Promise<unknown>): Promise<void> {
  try {
    await create;
  } catch (error) {
    const name = (error as Error).name;
    if (name !== 'ResourceInUseException' && name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists')
      throw error;
  }
}

/** The bucket's own name when the template gives a plain one, else a valid S3 name made of the stack's and its ID. */
function bucketName(prefix: string, logicalId: string, resource: TemplateResource): string {
  const given = resource.Properties?.BucketName;
  if (typeof given === 'string') return given;
  const name = `${prefix}-${logicalId}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  // At most 63 characters; the end of a logical ID is its hash, which tells two long names apart.
  return name.length <= 63 ? name : `${name.slice(0, 54)}-${name.slice(-8)}`;
}
