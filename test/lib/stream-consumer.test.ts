import { CfnParameter, Duration, type IResource, RemovalPolicy, type Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, test } from 'vitest';
import { IdempotencyTable } from '../../lib/idempotency-table';
import { StreamConsumer, type StreamConsumerOptions, type StreamConsumerProps } from '../../lib/stream-consumer';
import { createTestStack, HANDLER_ENTRY, snapshotTemplate } from '../helpers/template';

const functionProps = { entry: HANDLER_ENTRY };
const streamArn = 'arn:aws:kinesis:eu-west-1:123456789012:stream/events';

/** The logical ID of the CloudFormation resource behind an L2 construct. */
function logicalId(stack: Stack, resource: IResource): string {
  return stack.getLogicalId(resource.node.defaultChild as never);
}

/** Builds a StreamConsumer called 'Events' with one consumer called 'audit' in a new stack and synthesizes it. */
function build(props: StreamConsumerProps = {}, audit: Partial<StreamConsumerOptions> = {}) {
  const { stack } = createTestStack();
  const events = new StreamConsumer(stack, 'Events', {
    ...props,
    consumers: { audit: { functionProps, ...audit } },
  });
  return { stack, events, template: Template.fromStack(stack) };
}

describe('StreamConsumer with one consumer and default props', () => {
  let stack: Stack;
  let events: StreamConsumer;
  let template: Template;
  let streamId: string;
  let failureQueueId: string;
  let functionId: string;
  let tableId: string;

  beforeAll(() => {
    // GIVEN / WHEN
    ({ stack, events, template } = build());
    const audit = events.consumer('audit');
    streamId = logicalId(stack, events.stream);
    failureQueueId = logicalId(stack, audit.failureQueue);
    functionId = logicalId(stack, audit.function);
    tableId = logicalId(stack, events.idempotencyTable.table);
  });

  test('THEN it creates one stream, one idempotency table, and one function, failure queue and event source', () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.resourceCountIs('AWS::Kinesis::StreamConsumer', 0);
  });

  test('THEN the stream is on demand, keeps records 24 hours and is encrypted with aws/kinesis', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      ShardCount: Match.absent(),
      RetentionPeriodHours: 24,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      Name: Match.absent(),
    });
  });

  test('THEN the stream is retained when it leaves the stack', () => {
    template.hasResource('AWS::Kinesis::Stream', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('THEN the failure queue keeps messages 14 days, is encrypted with SSE-SQS and is TLS-only', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 1_209_600,
      SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: failureQueueId }],
      PolicyDocument: {
        Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
      },
    });
  });

  test('THEN the event source has the kit defaults and sends failures to the failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [streamId, 'Arn'] },
      FunctionName: { Ref: functionId },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 21_600,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [failureQueueId, 'Arn'] } } },
      MaximumBatchingWindowInSeconds: Match.absent(),
      TumblingWindowInSeconds: Match.absent(),
    });
  });

  test('THEN the environment names the consumer as service, the idempotency table and the failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectEquals({
          POWERTOOLS_SERVICE_NAME: 'audit',
          POWERTOOLS_METRICS_NAMESPACE: 'EdaKit',
          IDEMPOTENCY_TABLE_NAME: { Ref: tableId },
          IDEMPOTENCY_KEY_PREFIX: 'audit.',
          DEAD_LETTER_QUEUE_URL: { Ref: failureQueueId },
        }),
      },
    });
  });

  test('THEN the function may read the stream, send to the failure queue and use the idempotency table', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
            Resource: { 'Fn::GetAtt': [failureQueueId, 'Arn'] },
          },
          Match.objectLike({
            Action: Match.arrayWith(['kinesis:GetRecords', 'kinesis:GetShardIterator']),
            Resource: { 'Fn::GetAtt': [streamId, 'Arn'] },
          }),
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
            // Only this consumer's records: the runtime keys them '<service name>.<event type>#<hash>'.
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['audit.*'] } },
            Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
          },
        ]),
      },
    });
  });

  test('THEN consumer(name) returns the binding with its parts', () => {
    const audit = events.consumer('audit');
    expect(audit.name).toBe('audit');
    expect(audit.function).toBe(audit.consumerFunction.function);
    expect(audit.consumerFunction.serviceName).toBe('audit');
    expect(audit.eventSource).toBeInstanceOf(sources.KinesisEventSource);
    expect(audit.streamConsumer).toBeUndefined();
    expect(events.consumers).toEqual([audit]);
    expect(events.idempotencyTable).toBeInstanceOf(IdempotencyTable);
    expect(events.stream).toBeInstanceOf(kinesis.Stream);
  });

  test('THEN consumers is a copy that callers cannot change', () => {
    const consumers = events.consumers as unknown[];
    consumers.pop();
    expect(events.consumers).toHaveLength(1);
  });

  test('THEN the metricRecords of a consumer are the runtime kit metrics of that consumer', () => {
    const records = events.consumer('audit').metricRecords();
    const processed = records.processed as cloudwatch.Metric;
    expect(processed.namespace).toBe('EdaKit');
    expect(processed.metricName).toBe('ProcessedRecords');
    expect(processed.dimensions).toEqual({ service: 'audit' });
    expect((records.recordAgeP99 as cloudwatch.Metric).metricName).toBe('RecordAge');
  });

  test('fails when consumer(name) names no consumer, listing the known ones', () => {
    expect(() => events.consumer('search')).toThrow(
      "StreamConsumer at 'TestStack/Events' has no consumer 'search' (consumers: audit)",
    );
  });

  test('THEN no warning is raised', () => {
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('THEN it matches the snapshot', () => {
    expect(snapshotTemplate(template)).toMatchSnapshot();
  });
});

describe('StreamConsumer stream props', () => {
  test('GIVEN a shardCount THEN the stream is provisioned with that many shards', () => {
    // GIVEN / WHEN
    const { template } = build({ shardCount: 2 });

    // THEN
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      ShardCount: 2,
    });
  });

  test('GIVEN an encryptionKey THEN the stream is encrypted with that key and consumers may decrypt', () => {
    // GIVEN
    const { stack } = createTestStack();
    const key = new kms.Key(stack, 'Key');

    // WHEN
    new StreamConsumer(stack, 'Events', { encryptionKey: key, consumers: { audit: { functionProps } } });

    // THEN
    const template = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': [logicalId(stack, key), 'Arn'] };
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: keyArn },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: 'kms:Decrypt', Resource: keyArn })]),
      },
    });
  });

  test.each([
    [Duration.hours(24), 24],
    [Duration.days(7), 168],
    [Duration.hours(8_760), 8_760],
  ])('GIVEN retentionPeriod %s THEN the stream keeps records that long', (retentionPeriod, hours) => {
    // GIVEN / WHEN
    const { template } = build({ retentionPeriod });

    // THEN
    template.hasResourceProperties('AWS::Kinesis::Stream', { RetentionPeriodHours: hours });
  });

  test('GIVEN a streamName and removalPolicy DESTROY THEN the stream has that name and is deleted with the stack', () => {
    // GIVEN / WHEN
    const { template } = build({ streamName: 'order-events', removalPolicy: RemovalPolicy.DESTROY });

    // THEN
    template.hasResourceProperties('AWS::Kinesis::Stream', { Name: 'order-events' });
    template.hasResource('AWS::Kinesis::Stream', { DeletionPolicy: 'Delete' });
  });

  test('GIVEN an existingStream THEN no stream is created and the consumers read the existing one', () => {
    // GIVEN
    const { stack } = createTestStack();
    const existingStream = kinesis.Stream.fromStreamArn(stack, 'Existing', streamArn);

    // WHEN
    const events = new StreamConsumer(stack, 'Events', {
      existingStream,
      consumers: { audit: { functionProps, maxRecordAge: Duration.days(7) } },
    });

    // THEN
    const template = Template.fromStack(stack);
    expect(events.stream).toBe(existingStream);
    template.resourceCountIs('AWS::Kinesis::Stream', 0);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: streamArn });
    // The retention of an existing stream is unknown, so there is nothing to warn about.
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('GIVEN a shared idempotencyTable THEN no other table is created', () => {
    // GIVEN
    const { stack } = createTestStack();
    const table = new IdempotencyTable(stack, 'Idempotency');

    // WHEN
    const events = new StreamConsumer(stack, 'Events', {
      idempotencyTable: table,
      consumers: { audit: { functionProps } },
    });

    // THEN
    const template = Template.fromStack(stack);
    expect(events.idempotencyTable).toBe(table);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { IDEMPOTENCY_TABLE_NAME: { Ref: logicalId(stack, table.table) } } },
    });
  });

  test('GIVEN Tokens for shardCount and retentionPeriod THEN they pass through unvalidated', () => {
    // GIVEN
    const { stack } = createTestStack();
    const value = Token.asNumber(new CfnParameter(stack, 'P', { type: 'Number' }).valueAsNumber);

    // WHEN
    new StreamConsumer(stack, 'Events', {
      shardCount: value,
      retentionPeriod: Duration.hours(value),
      consumers: { audit: { functionProps } },
    });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      ShardCount: { Ref: 'P' },
      RetentionPeriodHours: { Ref: 'P' },
    });
  });
});

describe('StreamConsumer with several consumers', () => {
  let stack: Stack;
  let events: StreamConsumer;
  let template: Template;

  beforeAll(() => {
    // GIVEN
    ({ stack } = createTestStack());
    events = new StreamConsumer(stack, 'Events', { consumers: { audit: { functionProps } } });

    // WHEN
    events.addConsumer('search-index', { functionProps, enhancedFanOut: true });
    template = Template.fromStack(stack);
  });

  test('THEN each consumer gets its own function, failure queue and event source, and they share one table', () => {
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    expect(events.consumers.map((consumer) => consumer.name)).toEqual(['audit', 'search-index']);
  });

  test('THEN each event source sends failures to the failure queue of its own consumer', () => {
    for (const consumer of events.consumers) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(stack, consumer.function) },
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack, consumer.failureQueue), 'Arn'] } },
        },
      });
    }
  });

  test('THEN enhancedFanOut registers a stream consumer named after the consumer, and the event source reads it', () => {
    const searchIndex = events.consumer('search-index');
    template.resourceCountIs('AWS::Kinesis::StreamConsumer', 1);
    template.hasResourceProperties('AWS::Kinesis::StreamConsumer', {
      ConsumerName: 'search-index',
      StreamARN: { 'Fn::GetAtt': [logicalId(stack, events.stream), 'Arn'] },
    });
    expect(searchIndex.streamConsumer).toBeInstanceOf(kinesis.StreamConsumer);
    expect(searchIndex.eventSource).toBeInstanceOf(sources.KinesisConsumerEventSource);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(stack, searchIndex.function) },
      EventSourceArn: {
        'Fn::GetAtt': [logicalId(stack, searchIndex.streamConsumer as kinesis.StreamConsumer), 'ConsumerARN'],
      },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('THEN the consumer without enhancedFanOut reads the stream directly', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(stack, events.consumer('audit').function) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, events.stream), 'Arn'] },
    });
  });

  test('fails when consumer(name) names no consumer, listing every known one', () => {
    expect(() => events.consumer('billing')).toThrow(
      "StreamConsumer at 'TestStack/Events' has no consumer 'billing' (consumers: audit, search-index)",
    );
  });
});

describe('StreamConsumer consumer options', () => {
  test('GIVEN every event source option THEN the event source mapping has them', () => {
    // GIVEN / WHEN
    const { template } = build(
      { retentionPeriod: Duration.days(7) },
      {
        batchSize: 10_000,
        maxBatchingWindow: Duration.seconds(300),
        startingPosition: lambda.StartingPosition.LATEST,
        bisectBatchOnError: false,
        retryAttempts: 0,
        maxRecordAge: Duration.days(2),
        parallelizationFactor: 10,
        tumblingWindow: Duration.minutes(15),
      },
    );

    // THEN
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10_000,
      MaximumBatchingWindowInSeconds: 300,
      StartingPosition: 'LATEST',
      BisectBatchOnFunctionError: false,
      MaximumRetryAttempts: 0,
      MaximumRecordAgeInSeconds: 172_800,
      ParallelizationFactor: 10,
      TumblingWindowInSeconds: 900,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('GIVEN the lowest values of every range THEN the event source mapping has them', () => {
    // GIVEN / WHEN
    const { template } = build(
      {},
      {
        batchSize: 1,
        maxBatchingWindow: Duration.seconds(0),
        retryAttempts: 10_000,
        maxRecordAge: Duration.seconds(60),
        parallelizationFactor: 1,
        tumblingWindow: Duration.seconds(0),
      },
    );

    // THEN
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      MaximumRetryAttempts: 10_000,
      MaximumRecordAgeInSeconds: 60,
      ParallelizationFactor: 1,
    });
  });

  test('GIVEN function props THEN the consumer function has them', () => {
    // GIVEN / WHEN
    const { template } = build(
      {},
      { functionProps: { entry: HANDLER_ENTRY, serviceName: 'audit-log', memorySize: 512 } },
    );

    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'audit-log' } },
    });
  });

  test('GIVEN Tokens for the consumer options THEN they pass through unvalidated', () => {
    // GIVEN
    const { stack } = createTestStack();
    const value = Token.asNumber(new CfnParameter(stack, 'P', { type: 'Number' }).valueAsNumber);
    const events = new StreamConsumer(stack, 'Events');

    // WHEN
    events.addConsumer('audit', {
      functionProps,
      batchSize: value,
      maxBatchingWindow: Duration.seconds(value),
      retryAttempts: value,
      parallelizationFactor: value,
      tumblingWindow: Duration.seconds(value),
    });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: { Ref: 'P' },
      MaximumBatchingWindowInSeconds: { Ref: 'P' },
      MaximumRetryAttempts: { Ref: 'P' },
      ParallelizationFactor: { Ref: 'P' },
      TumblingWindowInSeconds: { Ref: 'P' },
    });
  });
});

describe('StreamConsumer failure bucket', () => {
  test('GIVEN failureBucket true THEN the mapping sends failed batches to a bucket of the consumer: encrypted, TLS only, private, expiring', () => {
    // GIVEN / WHEN
    const { stack, events, template } = build({}, { failureBucket: true });
    const audit = events.consumer('audit');
    const bucketId = logicalId(stack, audit.failureBucket as s3.IBucket);

    // THEN
    expect(audit.ownsFailureBucket).toBe(true);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: [
            { ExpirationInDays: 90, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
          ],
        },
        MetricsConfigurations: [{ Id: 'FailedBatches' }],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [bucketId, 'Arn'] } } },
    });
    // The failure queue stays: the runtime's dead letters.
    template.resourceCountIs('AWS::SQS::Queue', 1);
  });

  test('GIVEN failureBucket true THEN the function may put objects and list the bucket, and neither read nor delete them', () => {
    // GIVEN / WHEN
    const { stack, events, template } = build({}, { failureBucket: true });
    const bucketId = logicalId(stack, events.consumer('audit').failureBucket as s3.IBucket);

    // THEN
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );
    const onBucket = statements.filter((statement) => JSON.stringify(statement.Resource).includes(bucketId));
    const actions = onBucket.flatMap((statement) => [statement.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['s3:PutObject', 's3:ListBucket']));
    expect(actions.filter((action) => /^s3:(Get|Delete)/.test(action))).toEqual([]);
  });

  test('GIVEN failureBucket true on a stream with its own key THEN the bucket is encrypted with that key', () => {
    // GIVEN
    const { stack } = createTestStack();
    const encryptionKey = new kms.Key(stack, 'Key');

    // WHEN
    new StreamConsumer(stack, 'Events', {
      encryptionKey,
      consumers: { audit: { functionProps, failureBucket: true } },
    });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [logicalId(stack, encryptionKey), 'Arn'] },
            },
          },
        ],
      },
    });
  });

  test('GIVEN a bucket of the app THEN the mapping writes to it and no bucket is created', () => {
    // GIVEN
    const { stack } = createTestStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Kept', 'kept-failures');

    // WHEN
    const events = new StreamConsumer(stack, 'Events', {
      consumers: { audit: { functionProps, failureBucket: bucket } },
    });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(events.consumer('audit').ownsFailureBucket).toBe(false);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::Join': ['', Match.arrayWith([':s3:::kept-failures'])] } },
      },
    });
  });

  test('GIVEN failureBucketRetention and a removal policy THEN the bucket expires objects then and follows the policy', () => {
    const { template } = build(
      { removalPolicy: RemovalPolicy.DESTROY },
      { failureBucket: true, failureBucketRetention: Duration.days(400) },
    );

    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Delete',
      Properties: { LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 400 })] } },
    });
  });

  test('GIVEN failureBucket and a maxRecordAge above the retention THEN there is no warning: the records are kept whole', () => {
    const { stack } = build({}, { failureBucket: true, maxRecordAge: Duration.days(2) });

    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  const consumerPrefix = "StreamConsumer consumer 'audit' at 'TestStack/Events' has invalid props:\n  - ";
  test.each<[Partial<StreamConsumerOptions>, string]>([
    [
      { failureBucket: true, failureBucketRetention: Duration.hours(12) },
      'failureBucketRetention must be a whole number of seconds from 86400 seconds (24 hours) to 315360000 seconds (87600 hours), got 43200 seconds (720 minutes)',
    ],
    [
      { failureBucket: true, failureBucketRetention: Duration.days(3_651) },
      'failureBucketRetention must be a whole number of seconds from 86400 seconds (24 hours) to 315360000 seconds (87600 hours), got 315446400 seconds (87624 hours)',
    ],
    [
      { failureBucket: true, failureBucketRetention: Duration.hours(36) },
      'failureBucketRetention must be whole days (an S3 lifecycle rule counts days), got 1 day 12 hours',
    ],
    [
      { failureBucketRetention: Duration.days(7) },
      'failureBucketRetention needs failureBucket: true, got failureBucket undefined: a bucket of your own keeps its own lifecycle rules',
    ],
  ])('fails when %o', (options, message) => {
    const { stack } = createTestStack();
    const events = new StreamConsumer(stack, 'Events');

    expect(() => events.addConsumer('audit', { functionProps, ...options })).toThrow(`${consumerPrefix}${message}`);
  });
});

describe('StreamConsumer warnings', () => {
  test('GIVEN a maxRecordAge equal to the stream retention THEN a warning says records may expire', () => {
    // GIVEN / WHEN
    const { stack } = build({}, { maxRecordAge: Duration.hours(24) });

    // THEN
    Annotations.fromStack(stack).hasWarning(
      '/TestStack/Events',
      "Consumer 'audit': maxRecordAge (1 day) is not below the stream's retention (1 day): records may expire " +
        'before they can be replayed from the failure queue. [ack: cdk-eda-kit:maxRecordAgeAboveRetention]',
    );
  });

  test('GIVEN a maxRecordAge above the stream retention THEN a warning says records may expire', () => {
    // GIVEN / WHEN
    const { stack } = build({ retentionPeriod: Duration.hours(48) }, { maxRecordAge: Duration.days(3) });

    // THEN
    Annotations.fromStack(stack).hasWarning(
      '/TestStack/Events',
      Match.stringLikeRegexp("maxRecordAge \\(3 days\\) is not below the stream's retention \\(2 days\\)"),
    );
  });

  test('GIVEN a maxRecordAge just below the stream retention THEN there is no warning', () => {
    // GIVEN / WHEN
    const { stack } = build({}, { maxRecordAge: Duration.hours(23) });

    // THEN
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('maxRecordAgeAboveRetention'));
  });
});

describe('StreamConsumer validation', () => {
  const streamPrefix = "StreamConsumer at 'TestStack/Events' has invalid props:\n  - ";
  const consumerPrefix = (name: string) =>
    `StreamConsumer consumer '${name}' at 'TestStack/Events' has invalid props:\n  - `;

  /** A function that adds a consumer with `options` to a new StreamConsumer, for `toThrow`. */
  function attemptConsumer(options: Partial<StreamConsumerOptions>, name = 'audit'): () => unknown {
    const { stack } = createTestStack();
    const events = new StreamConsumer(stack, 'Events');
    return () => events.addConsumer(name, { functionProps, ...options });
  }

  test('fails at synth when the stream has no consumer', () => {
    // GIVEN
    const { app, stack } = createTestStack();

    // WHEN
    new StreamConsumer(stack, 'Events');

    // THEN
    expect(() => app.synth()).toThrow(
      "Validation failed with the following errors:\n  [TestStack/Events] StreamConsumer at 'TestStack/Events' has no consumers: add one with addConsumer(name, options)",
    );
  });

  test('fails when consumer(name) is called before any consumer is added', () => {
    // GIVEN
    const { stack } = createTestStack();
    const events = new StreamConsumer(stack, 'Events');

    // WHEN / THEN
    expect(() => events.consumer('audit')).toThrow(
      "StreamConsumer at 'TestStack/Events' has no consumer 'audit' (consumers: none)",
    );
  });

  test.each<[string, (stack: Stack) => StreamConsumerProps, string]>([
    ['streamName', () => ({ streamName: 'events' }), 'events'],
    ['shardCount', () => ({ shardCount: 2 }), '2'],
    ['retentionPeriod', () => ({ retentionPeriod: Duration.hours(48) }), '2 days'],
    ['encryptionKey', (stack) => ({ encryptionKey: new kms.Key(stack, 'Key') }), 'TestStack/Key'],
    ['removalPolicy', () => ({ removalPolicy: RemovalPolicy.DESTROY }), 'destroy'],
  ])('fails when existingStream is combined with %s', (prop, props, described) => {
    // GIVEN
    const { stack } = createTestStack();
    const existingStream = kinesis.Stream.fromStreamArn(stack, 'Existing', streamArn);
    const resolved = props(stack);

    // WHEN / THEN
    expect(() => new StreamConsumer(stack, 'Events', { existingStream, ...resolved })).toThrow(
      `${streamPrefix}${prop} cannot be combined with existingStream, got ${described}: set it on the existing stream itself`,
    );
  });

  test.each([0, 1.5])('fails when shardCount is %d', (shardCount) => {
    // GIVEN
    const { stack } = createTestStack();

    // WHEN / THEN
    expect(() => new StreamConsumer(stack, 'Events', { shardCount })).toThrow(
      `${streamPrefix}shardCount must be an integer of 1 or more (up to the account's shard quota), got ${shardCount}`,
    );
  });

  test.each([
    [Duration.hours(23), '82800 seconds (1380 minutes)'],
    [Duration.hours(8_761), '31539600 seconds (8761 hours)'],
  ])('fails when retentionPeriod is %s', (retentionPeriod, described) => {
    // GIVEN
    const { stack } = createTestStack();

    // WHEN / THEN
    expect(() => new StreamConsumer(stack, 'Events', { retentionPeriod })).toThrow(
      `${streamPrefix}retentionPeriod must be a whole number of seconds from 86400 seconds (24 hours) to 31536000 seconds (8760 hours), got ${described}`,
    );
  });

  test('fails when several stream props are invalid, with every problem in one error', () => {
    // GIVEN
    const { stack } = createTestStack();
    const existingStream = kinesis.Stream.fromStreamArn(stack, 'Existing', streamArn);

    // WHEN / THEN
    expect(
      () => new StreamConsumer(stack, 'Events', { existingStream, shardCount: 0, retentionPeriod: Duration.hours(1) }),
    ).toThrow(
      "StreamConsumer at 'TestStack/Events' has invalid props:\n" +
        '  - shardCount cannot be combined with existingStream, got 0: set it on the existing stream itself\n' +
        '  - retentionPeriod cannot be combined with existingStream, got 1 hour: set it on the existing stream itself\n' +
        "  - shardCount must be an integer of 1 or more (up to the account's shard quota), got 0\n" +
        '  - retentionPeriod must be a whole number of seconds from 86400 seconds (24 hours) to 31536000 seconds (8760 hours), got 3600 seconds (60 minutes)',
    );
  });

  test.each(['', 'audit log', 'audit/log', 'a'.repeat(129), 'audit:log'])(
    'fails when the consumer name is %j',
    (name) => {
      expect(attemptConsumer({}, name)).toThrow(
        `${consumerPrefix(name)}name must be 1 to 128 of the characters a-z A-Z 0-9 _ . -, got '${name}'`,
      );
    },
  );

  test('GIVEN a name of 128 allowed characters, with a service name of its own THEN the consumer is added', () => {
    // GIVEN a name with a dot, which Kinesis allows and a service name does not
    const name = `${'a'.repeat(125)}_.-`;

    // WHEN
    const binding = attemptConsumer({ functionProps: { ...functionProps, serviceName: 'audit' } }, name)();

    // THEN
    expect((binding as { name: string }).name).toBe(name);
  });

  test.each(['Stream', 'Idempotency'])('fails when a consumer is named after a child of the construct: %s', (name) => {
    expect(attemptConsumer({}, name)).toThrow(
      `${consumerPrefix(name)}name must not be one of the construct's own children (Stream, Idempotency), got '${name}'`,
    );
  });

  test('fails when a consumer name is used a second time', () => {
    // GIVEN
    const { stack } = createTestStack();
    const events = new StreamConsumer(stack, 'Events', { consumers: { audit: { functionProps } } });

    // WHEN / THEN
    expect(() => events.addConsumer('audit', { functionProps })).toThrow(
      `${consumerPrefix('audit')}name must be unique within the stream, got 'audit' a second time`,
    );
  });

  test.each([0, 10_001, 1.5])('fails when batchSize is %d', (batchSize) => {
    expect(attemptConsumer({ batchSize })).toThrow(
      `${consumerPrefix('audit')}batchSize must be an integer from 1 to 10000, got ${batchSize}`,
    );
  });

  test('fails when maxBatchingWindow is above 300 seconds', () => {
    expect(attemptConsumer({ maxBatchingWindow: Duration.seconds(301) })).toThrow(
      `${consumerPrefix('audit')}maxBatchingWindow must be a whole number of seconds from 0 seconds to 300 seconds (5 minutes), got 301 seconds`,
    );
  });

  test.each([-1, 10_001])('fails when retryAttempts is %d', (retryAttempts) => {
    expect(attemptConsumer({ retryAttempts })).toThrow(
      `${consumerPrefix('audit')}retryAttempts must be an integer from 0 to 10000, got ${retryAttempts}`,
    );
  });

  test.each([
    [Duration.seconds(59), '59 seconds'],
    [Duration.seconds(604_801), '604801 seconds'],
  ])('fails when maxRecordAge is %s', (maxRecordAge, described) => {
    expect(attemptConsumer({ maxRecordAge })).toThrow(
      `${consumerPrefix('audit')}maxRecordAge must be a whole number of seconds from 60 seconds to 604800 seconds (168 hours), got ${described}`,
    );
  });

  test.each([0, 11])('fails when parallelizationFactor is %d', (parallelizationFactor) => {
    expect(attemptConsumer({ parallelizationFactor })).toThrow(
      `${consumerPrefix('audit')}parallelizationFactor must be an integer from 1 to 10, got ${parallelizationFactor}`,
    );
  });

  test('fails when tumblingWindow is above 15 minutes', () => {
    expect(attemptConsumer({ tumblingWindow: Duration.seconds(901) })).toThrow(
      `${consumerPrefix('audit')}tumblingWindow must be a whole number of seconds from 0 seconds to 900 seconds (15 minutes), got 901 seconds`,
    );
  });

  test('fails when startingPosition is AT_TIMESTAMP', () => {
    expect(attemptConsumer({ startingPosition: lambda.StartingPosition.AT_TIMESTAMP })).toThrow(
      `${consumerPrefix('audit')}startingPosition must be TRIM_HORIZON or LATEST, got AT_TIMESTAMP: a consumer of this kit starts at a position, not a time`,
    );
  });

  test('fails when consumers given as props are invalid, before any of them is built', () => {
    // GIVEN
    const { stack } = createTestStack();

    // WHEN / THEN
    expect(
      () => new StreamConsumer(stack, 'Events', { consumers: { audit: { functionProps, batchSize: 0 } } }),
    ).toThrow(`${consumerPrefix('audit')}batchSize must be an integer from 1 to 10000, got 0`);
  });

  test('fails when several consumer options are invalid, with every problem in one error', () => {
    expect(
      attemptConsumer(
        {
          batchSize: 0,
          retryAttempts: -1,
          maxRecordAge: Duration.seconds(30),
          parallelizationFactor: 11,
          startingPosition: lambda.StartingPosition.AT_TIMESTAMP,
        },
        'audit log',
      ),
    ).toThrow(
      "StreamConsumer consumer 'audit log' at 'TestStack/Events' has invalid props:\n" +
        "  - name must be 1 to 128 of the characters a-z A-Z 0-9 _ . -, got 'audit log'\n" +
        '  - batchSize must be an integer from 1 to 10000, got 0\n' +
        '  - retryAttempts must be an integer from 0 to 10000, got -1\n' +
        '  - maxRecordAge must be a whole number of seconds from 60 seconds to 604800 seconds (168 hours), got 30 seconds\n' +
        '  - parallelizationFactor must be an integer from 1 to 10, got 11\n' +
        '  - startingPosition must be TRIM_HORIZON or LATEST, got AT_TIMESTAMP: a consumer of this kit starts at a position, not a time',
    );
  });
});

describe('StreamConsumer pass-through props and keys', () => {
  test('GIVEN a stream with a customer managed key THEN each failure queue, which receives whole records, uses that key', () => {
    // GIVEN
    const { stack } = createTestStack();
    const key = new kms.Key(stack, 'Key');

    // WHEN
    const events = new StreamConsumer(stack, 'Events', { encryptionKey: key, consumers: { audit: { functionProps } } });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(stack, key), 'Arn'] },
      SqsManagedSseEnabled: Match.absent(),
    });
    expect(events.consumer('audit').failureQueue.encryptionMasterKey).toBe(key);
    // The function can write into it: the key's use is granted with the send.
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain('kms:GenerateDataKey');
  });

  test('GIVEN an existing stream imported with its key THEN the failure queue uses that key too', () => {
    // GIVEN
    const { stack } = createTestStack();
    const key = kms.Key.fromKeyArn(
      stack,
      'Key',
      'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    const existingStream = kinesis.Stream.fromStreamAttributes(stack, 'Existing', { streamArn, encryptionKey: key });

    // WHEN
    new StreamConsumer(stack, 'Events', { existingStream, consumers: { audit: { functionProps } } });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: key.keyArn });
  });

  test('GIVEN streamProps, eventSourceProps and failureQueueProps THEN each reaches its resource, and the kit keeps what it requires', () => {
    // WHEN
    const { template } = build(
      { streamProps: { shardLevelMetrics: [kinesis.ShardLevelMetrics.INCOMING_RECORDS] } },
      {
        eventSourceProps: {
          enabled: false,
          filters: [{ pattern: JSON.stringify({ data: { type: ['OrderPlaced'] } }) }],
          metricsConfig: { metrics: [lambda.MetricType.EVENT_COUNT] },
          ...({ reportBatchItemFailures: false, onFailure: undefined } as object),
        },
        failureQueueProps: { retentionPeriod: Duration.days(7) },
      },
    );

    // THEN
    template.hasResourceProperties('AWS::Kinesis::Stream', { DesiredShardLevelMetrics: ['IncomingRecords'] });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      Enabled: false,
      FilterCriteria: { Filters: [{ Pattern: '{"data":{"type":["OrderPlaced"]}}' }] },
      MetricsConfig: { Metrics: ['EventCount'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 7 * 86_400 });
  });

  test('GIVEN an existing idempotency table by ARN THEN each consumer is granted only its own key prefix on it', () => {
    // GIVEN
    const { stack } = createTestStack();
    const idempotencyTable = IdempotencyTable.fromTableArn(
      stack,
      'Shared',
      'arn:aws:dynamodb:eu-west-1:123456789012:table/shared-idempotency',
    );

    // WHEN
    const events = new StreamConsumer(stack, 'Events', {
      idempotencyTable,
      consumers: {
        audit: { functionProps: { ...functionProps, serviceName: 'audit-log' } },
        stats: { functionProps: { ...functionProps, serviceName: 'stats' } },
      },
    });

    // THEN
    expect(events.consumers.map((binding) => binding.idempotencyKeyPrefix)).toEqual(['audit-log.', 'stats.']);
    const policies = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    expect(policies).toContain('"dynamodb:LeadingKeys":["audit-log.*"]');
    expect(policies).toContain('"dynamodb:LeadingKeys":["stats.*"]');
  });

  test('GIVEN forEachConsumer THEN the callback sees the consumers added before and after it, once each', () => {
    // GIVEN
    const { stack } = createTestStack();
    const events = new StreamConsumer(stack, 'Events', { consumers: { audit: { functionProps } } });
    const seen: string[] = [];

    // WHEN
    events.forEachConsumer((binding) => seen.push(binding.name));
    events.addConsumer('stats', { functionProps });

    // THEN
    expect(seen).toEqual(['audit', 'stats']);
  });
});

describe('StreamConsumer consumers sharing an idempotency table', () => {
  test('fails when two consumers of one table have the same service name: they would share idempotency records', () => {
    // GIVEN
    const { stack } = createTestStack();
    const idempotencyTable = new IdempotencyTable(stack, 'Shared');
    new StreamConsumer(stack, 'Orders', { idempotencyTable, consumers: { audit: { functionProps } } });

    // WHEN / THEN
    expect(
      () => new StreamConsumer(stack, 'Payments', { idempotencyTable, consumers: { audit: { functionProps } } }),
    ).toThrow(
      "The consumer at 'TestStack/Payments/audit/Consumer/Function' has the service name of the consumer at " +
        "'TestStack/Orders/audit/Consumer/Function' ('audit'), and both keep idempotency records in the same table: " +
        'give one of them another serviceName',
    );
  });

  test('GIVEN the same service name on two tables THEN both are allowed: their records never meet', () => {
    // GIVEN
    const { stack } = createTestStack();

    // WHEN
    new StreamConsumer(stack, 'Orders', { consumers: { audit: { functionProps } } });
    new StreamConsumer(stack, 'Payments', { consumers: { audit: { functionProps } } });

    // THEN
    Template.fromStack(stack).resourceCountIs('AWS::DynamoDB::Table', 2);
  });
});
