import { CfnParameter, Duration, type IResource, type Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, test } from 'vitest';
import { IdempotencyTable } from '../../lib/idempotency-table';
import { DEAD_LETTER_RETENTION, QueueConsumer, type QueueConsumerProps } from '../../lib/queue-consumer';
import { createTestStack, HANDLER_ENTRY, snapshotTemplate } from '../helpers/template';

const functionProps = { entry: HANDLER_ENTRY };

/** The logical ID of the CloudFormation resource behind an L2 construct. */
function logicalId(stack: Stack, resource: IResource): string {
  return stack.getLogicalId(resource.node.defaultChild as never);
}

/** A TLS-only queue policy on the queue with logical ID `queueId`. */
function tlsOnlyPolicy(queueId: string) {
  return {
    Queues: [{ Ref: queueId }],
    PolicyDocument: {
      Statement: [
        {
          Effect: 'Deny',
          Action: 'sqs:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
        },
      ],
    },
  };
}

/** Builds a QueueConsumer called 'Orders' in a new stack and synthesizes it. */
function build(props: Partial<QueueConsumerProps> = {}) {
  const { stack } = createTestStack();
  const consumer = new QueueConsumer(stack, 'Orders', { functionProps, ...props });
  return { stack, consumer, template: Template.fromStack(stack) };
}

describe('QueueConsumer with default props', () => {
  let stack: Stack;
  let consumer: QueueConsumer;
  let template: Template;
  let queueId: string;
  let deadLetterQueueId: string;
  let tableId: string;
  let functionId: string;

  beforeAll(() => {
    // GIVEN / WHEN
    ({ stack, consumer, template } = build());
    queueId = logicalId(stack, consumer.queue);
    deadLetterQueueId = logicalId(stack, consumer.deadLetterQueue);
    tableId = logicalId(stack, consumer.idempotencyTable.table);
    functionId = logicalId(stack, consumer.function);
  });

  test('THEN it creates a queue, a dead-letter queue, a function, an idempotency table and one event source', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::SQS::QueuePolicy', 2);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
  });

  test('THEN the queue redrives to the dead-letter queue after 5 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] }, maxReceiveCount: 5 },
    });
  });

  test('THEN the visibility timeout is 6 times the function timeout', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 180 });
  });

  test('THEN the queue keeps messages 4 days, is encrypted with SSE-SQS, is standard and has a generated name', () => {
    const queue = template.findResources('AWS::SQS::Queue')[queueId];
    expect(queue.Properties).toMatchObject({ MessageRetentionPeriod: 345_600, SqsManagedSseEnabled: true });
    expect(queue.Properties).not.toHaveProperty('FifoQueue');
    expect(queue.Properties).not.toHaveProperty('QueueName');
    expect(queue.Properties).not.toHaveProperty('KmsMasterKeyId');
  });

  test('THEN the dead-letter queue keeps messages 14 days, is encrypted with SSE-SQS and redrives nowhere', () => {
    expect(DEAD_LETTER_RETENTION.toSeconds()).toBe(1_209_600);
    const deadLetterQueue = template.findResources('AWS::SQS::Queue')[deadLetterQueueId];
    expect(deadLetterQueue.Properties).toEqual({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
  });

  test('THEN both queues deny every request without TLS', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', tlsOnlyPolicy(queueId));
    template.hasResourceProperties('AWS::SQS::QueuePolicy', tlsOnlyPolicy(deadLetterQueueId));
  });

  test('THEN the event source reads batches of 10 from the queue and reports batch item failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: functionId },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumBatchingWindowInSeconds: Match.absent(),
      ScalingConfig: Match.absent(),
    });
  });

  test('THEN the environment names the service, the namespace, the idempotency table, its key prefix and the dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectEquals({
          POWERTOOLS_SERVICE_NAME: 'Orders',
          POWERTOOLS_METRICS_NAMESPACE: 'EdaKit',
          IDEMPOTENCY_TABLE_NAME: { Ref: tableId },
          IDEMPOTENCY_KEY_PREFIX: 'Orders.',
          DEAD_LETTER_QUEUE_URL: { Ref: deadLetterQueueId },
        }),
      },
    });
  });

  test('THEN the function may send to the dead-letter queue, consume the queue and use the idempotency table', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
            Resource: { 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] },
          },
          {
            Effect: 'Allow',
            Action: [
              'sqs:ReceiveMessage',
              'sqs:ChangeMessageVisibility',
              'sqs:GetQueueUrl',
              'sqs:DeleteMessage',
              'sqs:GetQueueAttributes',
            ],
            Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
          },
        ]),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
            // Only this consumer's records: the runtime keys them '<service name>.<event type>#<hash>'.
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['Orders.*'] } },
            Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
          },
        ]),
      },
    });
  });

  test('THEN the function may not receive from the dead-letter queue', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement,
    );
    const onDeadLetterQueue = statements.filter(
      (statement) =>
        JSON.stringify(statement.Resource) === JSON.stringify({ 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] }),
    );
    expect(onDeadLetterQueue.flatMap((statement) => statement.Action)).not.toContain('sqs:ReceiveMessage');
  });

  test('THEN it exposes its parts as public fields', () => {
    expect(consumer.function).toBe(consumer.consumerFunction.function);
    expect(consumer.serviceName).toBe('Orders');
    expect(consumer.eventSource).toBeInstanceOf(sources.SqsEventSource);
    expect(consumer.idempotencyTable).toBeInstanceOf(IdempotencyTable);
    expect(consumer.queue).toBeInstanceOf(sqs.Queue);
    expect(consumer.deadLetterQueue).toBeInstanceOf(sqs.Queue);
  });

  test('THEN the queue metrics are the official SQS metrics of the right queue', () => {
    const expectMetric = (metric: cloudwatch.Metric, metricName: string, queue: string) => {
      expect(metric.namespace).toBe('AWS/SQS');
      expect(metric.metricName).toBe(metricName);
      expect(stack.resolve(metric.dimensions)).toEqual({ QueueName: { 'Fn::GetAtt': [queue, 'QueueName'] } });
    };
    expectMetric(consumer.metricApproximateNumberOfMessagesVisible(), 'ApproximateNumberOfMessagesVisible', queueId);
    expectMetric(consumer.metricApproximateAgeOfOldestMessage(), 'ApproximateAgeOfOldestMessage', queueId);
    expectMetric(
      consumer.metricDeadLetterQueueMessagesVisible(),
      'ApproximateNumberOfMessagesVisible',
      deadLetterQueueId,
    );
    expect(consumer.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum' }).statistic).toBe('Maximum');
  });

  test('THEN metricRecords are the runtime kit metrics of this service in the EdaKit namespace', () => {
    const records = consumer.metricRecords();
    const metrics = [records.processed, records.duplicate, records.invalid, records.failed, records.recordAgeP99];
    expect(metrics.map((metric) => (metric as cloudwatch.Metric).metricName)).toEqual([
      'ProcessedRecords',
      'DuplicateRecords',
      'InvalidRecords',
      'FailedRecords',
      'RecordAge',
    ]);
    for (const metric of metrics as cloudwatch.Metric[]) {
      expect(metric.namespace).toBe('EdaKit');
      expect(metric.dimensions).toEqual({ service: 'Orders' });
    }
  });

  test('THEN it matches the snapshot', () => {
    expect(snapshotTemplate(template)).toMatchSnapshot();
  });
});

describe('QueueConsumer props', () => {
  test('GIVEN a function timeout and a batching window THEN the visibility timeout is 6 x timeout + window', () => {
    // GIVEN / WHEN
    const { template } = build({
      functionProps: { entry: HANDLER_ENTRY, timeout: Duration.minutes(1) },
      maxBatchingWindow: Duration.seconds(20),
    });

    // THEN
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 6 * 60 + 20 });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumBatchingWindowInSeconds: 20 });
  });

  test('GIVEN provisionedPollers THEN the mapping runs in provisioned mode, with the defaults AWS documents', () => {
    const { template } = build({ provisionedPollers: { minimumPollers: 5 } });

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ProvisionedPollerConfig: { MinimumPollers: 5, MaximumPollers: 200 },
      ScalingConfig: Match.absent(),
    });
  });

  test('GIVEN no provisionedPollers THEN the mapping polls on demand', () => {
    build().template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ProvisionedPollerConfig: Match.absent(),
      MetricsConfig: { Metrics: ['EventCount'] },
    });
  });

  test('GIVEN a batching window THEN batchSize may be up to 10,000', () => {
    // GIVEN / WHEN
    const { template } = build({ maxBatchingWindow: Duration.seconds(1), batchSize: 10_000 });

    // THEN
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10_000,
      MaximumBatchingWindowInSeconds: 1,
    });
  });

  test('GIVEN batchSize 1 THEN the event source reads one record at a time', () => {
    // GIVEN / WHEN
    const { template } = build({ batchSize: 1 });

    // THEN
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 1 });
  });

  test.each([30, 45])(
    'GIVEN a visibilityTimeout of %d seconds, not below the function timeout, THEN the queue has it',
    (seconds) => {
      // GIVEN / WHEN
      const { template } = build({ visibilityTimeout: Duration.seconds(seconds) });

      // THEN
      template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: seconds });
    },
  );

  test('GIVEN maxReceiveCount THEN the redrive policy uses it', () => {
    // GIVEN / WHEN
    const { template } = build({ maxReceiveCount: 3 });

    // THEN
    template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: { maxReceiveCount: 3 } });
  });

  test.each([
    [Duration.seconds(60), 60],
    [Duration.days(14), 1_209_600],
  ])('GIVEN retentionPeriod %s THEN the queue keeps messages that long', (retentionPeriod, seconds) => {
    // GIVEN / WHEN
    const { stack, consumer, template } = build({ retentionPeriod });

    // THEN
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: seconds,
      RedrivePolicy: Match.anyValue(),
    });
    expect(
      template.findResources('AWS::SQS::Queue')[logicalId(stack, consumer.deadLetterQueue)].Properties,
    ).toMatchObject({ MessageRetentionPeriod: 1_209_600 });
  });

  test('GIVEN maxConcurrency THEN the event source scales up to it', () => {
    // GIVEN / WHEN
    const { template } = build({ maxConcurrency: 2 });

    // THEN
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 2 } });
  });

  test('GIVEN a queueName THEN the queue has that physical name', () => {
    // GIVEN / WHEN
    const { template } = build({ queueName: 'orders' });

    // THEN
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'orders', RedrivePolicy: Match.anyValue() });
  });

  test('GIVEN fifo THEN the queue and its dead-letter queue are FIFO', () => {
    // GIVEN / WHEN
    const { stack, consumer, template } = build({ fifo: true });

    // THEN
    const queues = template.findResources('AWS::SQS::Queue');
    expect(queues[logicalId(stack, consumer.queue)].Properties).toMatchObject({ FifoQueue: true });
    expect(queues[logicalId(stack, consumer.deadLetterQueue)].Properties).toMatchObject({ FifoQueue: true });
    expect(consumer.queue.fifo).toBe(true);
    expect(consumer.deadLetterQueue.fifo).toBe(true);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: Match.absent(),
    });
  });

  test.each([
    ['orders', 'orders.fifo'],
    ['orders.fifo', 'orders.fifo'],
  ])('GIVEN fifo and queueName %s THEN the queue is called %s', (queueName, expected) => {
    // GIVEN / WHEN
    const { template } = build({ fifo: true, queueName });

    // THEN
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: expected, FifoQueue: true });
  });

  test('GIVEN an encryptionKey THEN both queues are encrypted with it and the function may use it', () => {
    // GIVEN
    const { stack } = createTestStack();
    const key = new kms.Key(stack, 'Key');

    // WHEN
    const consumer = new QueueConsumer(stack, 'Orders', { functionProps, encryptionKey: key });

    // THEN
    const template = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': [logicalId(stack, key), 'Arn'] };
    const queues = template.findResources('AWS::SQS::Queue');
    for (const queue of [consumer.queue, consumer.deadLetterQueue]) {
      expect(queues[logicalId(stack, queue)].Properties.KmsMasterKeyId).toEqual(keyArn);
      expect(queues[logicalId(stack, queue)].Properties).not.toHaveProperty('SqsManagedSseEnabled');
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['kms:Decrypt']), Resource: keyArn })]),
      },
    });
  });

  test('GIVEN a shared idempotencyTable THEN no other table is created and both consumers use it', () => {
    // GIVEN
    const { stack } = createTestStack();
    const table = new IdempotencyTable(stack, 'Idempotency');

    // WHEN
    const orders = new QueueConsumer(stack, 'Orders', { functionProps, idempotencyTable: table });
    const payments = new QueueConsumer(stack, 'Payments', { functionProps, idempotencyTable: table });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    expect(orders.idempotencyTable).toBe(table);
    expect(payments.idempotencyTable).toBe(table);
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(2);
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables.IDEMPOTENCY_TABLE_NAME).toEqual({
        Ref: logicalId(stack, table.table),
      });
    }
  });

  test('GIVEN a Token maxBatchingWindow THEN the visibility timeout counts the window at its 300-second maximum', () => {
    // GIVEN
    const { stack } = createTestStack();
    const window = new CfnParameter(stack, 'Window', { type: 'Number' }).valueAsNumber;

    // WHEN
    new QueueConsumer(stack, 'Orders', { functionProps, maxBatchingWindow: Duration.seconds(window) });

    // THEN 6 x 30 s + 300 s
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 480,
      RedrivePolicy: Match.anyValue(),
    });
  });

  test('GIVEN Tokens for batchSize, maxReceiveCount, maxConcurrency and retentionPeriod THEN they pass through unvalidated', () => {
    // GIVEN
    const { stack } = createTestStack();
    const value = Token.asNumber(new CfnParameter(stack, 'P', { type: 'Number' }).valueAsNumber);

    // WHEN
    new QueueConsumer(stack, 'Orders', {
      functionProps,
      batchSize: value,
      maxReceiveCount: value,
      maxConcurrency: value,
      retentionPeriod: Duration.seconds(value),
    });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: { Ref: 'P' },
      ScalingConfig: { MaximumConcurrency: { Ref: 'P' } },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: { Ref: 'P' },
      RedrivePolicy: { maxReceiveCount: { Ref: 'P' } },
    });
  });
});

describe('QueueConsumer with an existingQueue', () => {
  test('GIVEN a Queue with a dead-letter queue THEN both are used and no queue is created', () => {
    // GIVEN
    const { stack } = createTestStack();
    const existingDeadLetterQueue = new sqs.Queue(stack, 'ExistingDeadLetterQueue');
    const existingQueue = new sqs.Queue(stack, 'Existing', {
      deadLetterQueue: { queue: existingDeadLetterQueue, maxReceiveCount: 3 },
    });

    // WHEN
    const consumer = new QueueConsumer(stack, 'Orders', { functionProps, existingQueue });

    // THEN
    const template = Template.fromStack(stack);
    expect(consumer.queue).toBe(existingQueue);
    expect(consumer.deadLetterQueue).toBe(existingDeadLetterQueue);
    template.resourceCountIs('AWS::SQS::Queue', 2);
    const deadLetterQueueId = logicalId(stack, existingDeadLetterQueue);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, existingQueue), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { DEAD_LETTER_QUEUE_URL: { Ref: deadLetterQueueId } } },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            Resource: { 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] },
          }),
        ]),
      },
    });
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('cdk-eda-kit:existingQueueRedrive'));
  });

  test('GIVEN a Queue without a dead-letter queue THEN a dead-letter queue is created and a warning says so', () => {
    // GIVEN
    const { stack } = createTestStack();
    const existingQueue = new sqs.Queue(stack, 'Existing');

    // WHEN
    const consumer = new QueueConsumer(stack, 'Orders', { functionProps, existingQueue });

    // THEN
    Template.fromStack(stack).resourceCountIs('AWS::SQS::Queue', 2);
    expect(consumer.deadLetterQueue.node.path).toBe('TestStack/Orders/DeadLetterQueue');
    Annotations.fromStack(stack).hasWarning(
      '/TestStack/Orders',
      Match.stringLikeRegexp(
        'existingQueue has no dead-letter queue known to this app.*cdk-eda-kit:existingQueueRedrive',
      ),
    );
  });

  describe('GIVEN an imported queue', () => {
    let stack: Stack;
    let consumer: QueueConsumer;
    let template: Template;
    const queueArn = 'arn:aws:sqs:eu-west-1:123456789012:orders';

    beforeAll(() => {
      // GIVEN
      ({ stack } = createTestStack());
      const existingQueue = sqs.Queue.fromQueueArn(stack, 'Imported', queueArn);

      // WHEN
      consumer = new QueueConsumer(stack, 'Orders', { functionProps, existingQueue });
      template = Template.fromStack(stack);
    });

    test('THEN a warning with the id cdk-eda-kit:existingQueueRedrive says that redrive is the queue owner job', () => {
      Annotations.fromStack(stack).hasWarning(
        '/TestStack/Orders',
        Match.stringLikeRegexp(
          'messages that keep failing are redriven only if the existing queue has a redrive policy\\. \\[ack: cdk-eda-kit:existingQueueRedrive\\]',
        ),
      );
    });

    test('THEN a new standard, TLS-only dead-letter queue is created and named in the environment', () => {
      template.resourceCountIs('AWS::SQS::Queue', 1);
      const deadLetterQueueId = logicalId(stack, consumer.deadLetterQueue);
      template.hasResourceProperties('AWS::SQS::Queue', {
        MessageRetentionPeriod: 1_209_600,
        SqsManagedSseEnabled: true,
        FifoQueue: Match.absent(),
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', tlsOnlyPolicy(deadLetterQueueId));
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: { DEAD_LETTER_QUEUE_URL: { Ref: deadLetterQueueId } } },
      });
    });

    test('THEN the event source reads the imported queue, which the function may consume', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: queueArn,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: Match.arrayWith(['sqs:ReceiveMessage', 'sqs:DeleteMessage']),
              Resource: queueArn,
            }),
          ]),
        },
      });
    });
  });

  test('GIVEN an imported FIFO queue THEN the new dead-letter queue is FIFO', () => {
    // GIVEN
    const { stack } = createTestStack();
    const existingQueue = sqs.Queue.fromQueueArn(stack, 'Imported', 'arn:aws:sqs:eu-west-1:123456789012:orders.fifo');

    // WHEN
    const consumer = new QueueConsumer(stack, 'Orders', { functionProps, existingQueue });

    // THEN
    expect(consumer.deadLetterQueue.fifo).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', { FifoQueue: true });
  });

  test('fails when an imported FIFO queue is given a batchSize above the FIFO limit', () => {
    // GIVEN
    const { stack } = createTestStack();
    const existingQueue = sqs.Queue.fromQueueArn(stack, 'Imported', 'arn:aws:sqs:eu-west-1:123456789012:orders.fifo');

    // WHEN / THEN
    expect(() => new QueueConsumer(stack, 'Orders', { functionProps, existingQueue, batchSize: 11 })).toThrow(
      "QueueConsumer at 'TestStack/Orders' has invalid props:\n  - batchSize must be an integer from 1 to 10 for a FIFO queue, got 11",
    );
  });
});

describe('QueueConsumer validation', () => {
  const prefix = "QueueConsumer at 'TestStack/Orders' has invalid props:\n  - ";

  /** A function that builds the consumer with `props` in a new stack, for `toThrow`. */
  function attempt(props: (stack: Stack) => Partial<QueueConsumerProps>): () => QueueConsumer {
    const { stack } = createTestStack();
    const resolved = props(stack);
    return () => new QueueConsumer(stack, 'Orders', { functionProps, ...resolved });
  }

  const existingQueue = (stack: Stack) =>
    sqs.Queue.fromQueueArn(stack, 'Imported', 'arn:aws:sqs:eu-west-1:123456789012:orders');

  test.each<[string, (stack: Stack) => Partial<QueueConsumerProps>, string]>([
    ['fifo', () => ({ fifo: true }), 'true'],
    ['queueName', () => ({ queueName: 'orders' }), 'orders'],
    ['encryptionKey', (stack) => ({ encryptionKey: new kms.Key(stack, 'Key') }), 'TestStack/Key'],
    ['retentionPeriod', () => ({ retentionPeriod: Duration.days(1) }), '1 day'],
    ['visibilityTimeout', () => ({ visibilityTimeout: Duration.minutes(5) }), '5 minutes'],
    ['maxReceiveCount', () => ({ maxReceiveCount: 3 }), '3'],
  ])('fails when existingQueue is combined with %s', (prop, props, described) => {
    expect(attempt((stack) => ({ existingQueue: existingQueue(stack), ...props(stack) }))).toThrow(
      `${prefix}${prop} cannot be combined with existingQueue, got ${described}: set it on the existing queue itself`,
    );
  });

  test.each([
    [Duration.seconds(59), '59 seconds'],
    [Duration.days(15), '1296000 seconds (360 hours)'],
  ])('fails when retentionPeriod is %s', (retentionPeriod, described) => {
    expect(attempt(() => ({ retentionPeriod }))).toThrow(
      `${prefix}retentionPeriod must be a whole number of seconds from 60 seconds to 1209600 seconds (336 hours), got ${described}`,
    );
  });

  test('fails when visibilityTimeout is above 12 hours', () => {
    expect(attempt(() => ({ visibilityTimeout: Duration.seconds(43_201) }))).toThrow(
      `${prefix}visibilityTimeout must be a whole number of seconds from 0 seconds to 43200 seconds (720 minutes), got 43201 seconds`,
    );
  });

  test('fails when visibilityTimeout is below the function timeout', () => {
    expect(
      attempt(() => ({
        functionProps: { entry: HANDLER_ENTRY, timeout: Duration.minutes(1) },
        visibilityTimeout: Duration.seconds(59),
      })),
    ).toThrow(
      `${prefix}visibilityTimeout must be at least the function timeout (1 minute), got 59 seconds: a message would reappear while its batch is still running`,
    );
  });

  test('fails when visibilityTimeout is not whole seconds, with every other problem still reported', () => {
    expect(attempt(() => ({ visibilityTimeout: Duration.millis(1500), batchSize: 11 }))).toThrow(
      `${prefix}visibilityTimeout must be a whole number of seconds from 0 seconds to 43200 seconds (720 minutes), got 1.5 seconds\n` +
        '  - visibilityTimeout must be at least the function timeout (30 seconds), got 1 second 500 millis: a message would reappear while its batch is still running\n' +
        '  - batchSize must be an integer from 1 to 10 without a maxBatchingWindow, got 11',
    );
  });

  test('fails when the function timeout is a Token and no visibilityTimeout is given', () => {
    expect(
      attempt((stack) => ({
        functionProps: {
          entry: HANDLER_ENTRY,
          timeout: Duration.seconds(new CfnParameter(stack, 'Timeout', { type: 'Number' }).valueAsNumber),
        },
      })),
    ).toThrow(
      `${prefix}visibilityTimeout must be given when functionProps.timeout is a Token, got none: the default is derived from the function timeout`,
    );
  });

  test('fails when visibilityTimeout is below the default function timeout of 30 seconds', () => {
    expect(attempt(() => ({ visibilityTimeout: Duration.seconds(29) }))).toThrow(
      `${prefix}visibilityTimeout must be at least the function timeout (30 seconds), got 29 seconds: a message would reappear while its batch is still running`,
    );
  });

  test.each([0, 1_001, 2.5])('fails when maxReceiveCount is %d', (maxReceiveCount) => {
    expect(attempt(() => ({ maxReceiveCount }))).toThrow(
      `${prefix}maxReceiveCount must be an integer from 1 to 1000, got ${maxReceiveCount}`,
    );
  });

  test.each([1, 1_001])('fails when maxConcurrency is %d', (maxConcurrency) => {
    expect(attempt(() => ({ maxConcurrency }))).toThrow(
      `${prefix}maxConcurrency must be an integer from 2 to 1000, got ${maxConcurrency}`,
    );
  });

  test.each([
    [{ minimumPollers: 1 }, 'provisionedPollers.minimumPollers must be an integer from 2 to 200, got 1'],
    [{ minimumPollers: 201 }, 'provisionedPollers.minimumPollers must be an integer from 2 to 200, got 201'],
    [{ maximumPollers: 10_001 }, 'provisionedPollers.maximumPollers must be an integer from 2 to 10000, got 10001'],
    [
      { minimumPollers: 10, maximumPollers: 5 },
      'provisionedPollers.maximumPollers must be at least minimumPollers (10), got 5',
    ],
  ])('fails when provisionedPollers is %j', (provisionedPollers, message) => {
    expect(attempt(() => ({ provisionedPollers }))).toThrow(`${prefix}${message}`);
  });

  test('fails when provisionedPollers is combined with maxConcurrency, as AWS refuses it', () => {
    expect(attempt(() => ({ provisionedPollers: { minimumPollers: 2 }, maxConcurrency: 5 }))).toThrow(
      `${prefix}maxConcurrency cannot be combined with provisionedPollers, got 5: AWS refuses a maximum concurrency in provisioned mode; cap the function's reserved concurrency instead`,
    );
  });

  test('fails when maxBatchingWindow is above 300 seconds', () => {
    expect(attempt(() => ({ maxBatchingWindow: Duration.seconds(301) }))).toThrow(
      `${prefix}maxBatchingWindow must be a whole number of seconds from 0 seconds to 300 seconds (5 minutes), got 301 seconds`,
    );
  });

  test.each([
    [Duration.seconds(10), '10 seconds'],
    [Duration.seconds(0), '0 seconds'],
  ])('fails when a FIFO queue is given a maxBatchingWindow of %s', (maxBatchingWindow, described) => {
    expect(attempt(() => ({ fifo: true, maxBatchingWindow }))).toThrow(
      `${prefix}maxBatchingWindow is not supported for FIFO queues, got ${described}`,
    );
  });

  test('fails when a FIFO queue is given a batchSize above 10', () => {
    expect(attempt(() => ({ fifo: true, batchSize: 11 }))).toThrow(
      `${prefix}batchSize must be an integer from 1 to 10 for a FIFO queue, got 11`,
    );
  });

  test.each([0, 11])('fails when batchSize is %d without a maxBatchingWindow', (batchSize) => {
    expect(attempt(() => ({ batchSize }))).toThrow(
      `${prefix}batchSize must be an integer from 1 to 10 without a maxBatchingWindow, got ${batchSize}`,
    );
  });

  test('fails when batchSize is above 10 with a zero maxBatchingWindow, which is no window', () => {
    expect(attempt(() => ({ batchSize: 100, maxBatchingWindow: Duration.seconds(0) }))).toThrow(
      `${prefix}batchSize must be an integer from 1 to 10 without a maxBatchingWindow, got 100`,
    );
  });

  test('fails when batchSize is above 10,000 with a maxBatchingWindow', () => {
    expect(attempt(() => ({ batchSize: 10_001, maxBatchingWindow: Duration.seconds(1) }))).toThrow(
      `${prefix}batchSize must be an integer from 1 to 10000 with a maxBatchingWindow, got 10001`,
    );
  });

  test('fails when the function props are invalid, at the path of the consumer function', () => {
    expect(attempt(() => ({ functionProps: { entry: HANDLER_ENTRY, memorySize: 64 } }))).toThrow(
      "ConsumerFunction at 'TestStack/Orders/Consumer' has invalid props:\n  - memorySize must be an integer from 128 to 10240, got 64",
    );
  });

  test('fails when several props are invalid, with every problem in one error', () => {
    expect(
      attempt((stack) => ({
        existingQueue: existingQueue(stack),
        queueName: 'orders',
        maxConcurrency: 1,
        maxBatchingWindow: Duration.seconds(301),
        batchSize: 20_000,
      })),
    ).toThrow(
      "QueueConsumer at 'TestStack/Orders' has invalid props:\n" +
        '  - queueName cannot be combined with existingQueue, got orders: set it on the existing queue itself\n' +
        '  - maxConcurrency must be an integer from 2 to 1000, got 1\n' +
        '  - maxBatchingWindow must be a whole number of seconds from 0 seconds to 300 seconds (5 minutes), got 301 seconds\n' +
        '  - batchSize must be an integer from 1 to 10000 with a maxBatchingWindow, got 20000',
    );
  });
});

describe('QueueConsumer pass-through props', () => {
  test('GIVEN queueProps, deadLetterQueueProps and eventSourceProps THEN each reaches its resource, and the kit keeps what it requires', () => {
    // GIVEN
    const { stack } = createTestStack();

    // WHEN
    new QueueConsumer(stack, 'Orders', {
      functionProps,
      queueProps: { deliveryDelay: Duration.seconds(5), receiveMessageWaitTime: Duration.seconds(20) },
      deadLetterQueueProps: { retentionPeriod: Duration.days(7) },
      eventSourceProps: {
        enabled: false,
        filters: [{ pattern: JSON.stringify({ body: { type: ['OrderPlaced'] } }) }],
        metricsConfig: { metrics: [lambda.MetricType.EVENT_COUNT] },
        // A JavaScript caller can pass what the type leaves out: the kit's requirement still wins.
        ...({ reportBatchItemFailures: false } as object),
      },
    });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', {
      DelaySeconds: 5,
      ReceiveMessageWaitTimeSeconds: 20,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
      SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 7 * 86_400,
      RedrivePolicy: Match.absent(),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      Enabled: false,
      FilterCriteria: { Filters: [{ Pattern: '{"body":{"type":["OrderPlaced"]}}' }] },
      MetricsConfig: { Metrics: ['EventCount'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // TLS-only access stays on both queues.
    expect(JSON.stringify(template.findResources('AWS::SQS::QueuePolicy'))).toContain('aws:SecureTransport');
    template.resourceCountIs('AWS::SQS::QueuePolicy', 2);
  });

  test('fails when queueProps is combined with existingQueue', () => {
    // GIVEN
    const { stack } = createTestStack();
    const existingQueue = sqs.Queue.fromQueueArn(stack, 'Existing', 'arn:aws:sqs:eu-west-1:123456789012:orders');

    // WHEN / THEN
    expect(
      () =>
        new QueueConsumer(stack, 'Orders', {
          functionProps,
          existingQueue,
          queueProps: { deliveryDelay: Duration.seconds(5) },
        }),
    ).toThrow(
      "QueueConsumer at 'TestStack/Orders' has invalid props:\n  - queueProps cannot be combined with existingQueue, got { deliveryDelay }: set it on the existing queue itself",
    );
  });

  test('GIVEN an existing idempotency table by name THEN the function is granted its own keys on it and no table is created', () => {
    // GIVEN
    const { stack } = createTestStack();
    const idempotencyTable = IdempotencyTable.fromTableName(stack, 'Shared', 'shared-idempotency');

    // WHEN
    const orders = new QueueConsumer(stack, 'Orders', { functionProps, idempotencyTable });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    expect(orders.idempotencyKeyPrefix).toBe('Orders.');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          IDEMPOTENCY_TABLE_NAME: 'shared-idempotency',
          IDEMPOTENCY_KEY_PREFIX: 'Orders.',
        }),
      },
    });
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain(':table/shared-idempotency');
    expect(policies).toContain('"dynamodb:LeadingKeys":["Orders.*"]');
  });
});

describe('QueueConsumer pass-through props with an existing queue', () => {
  test('fails when deadLetterQueueProps is given for an existingQueue that has its own dead-letter queue', () => {
    // GIVEN
    const { stack } = createTestStack();
    const existingDeadLetterQueue = new sqs.Queue(stack, 'ExistingDeadLetterQueue');
    const existingQueue = new sqs.Queue(stack, 'Existing', {
      deadLetterQueue: { queue: existingDeadLetterQueue, maxReceiveCount: 3 },
    });

    // WHEN / THEN
    expect(
      () =>
        new QueueConsumer(stack, 'Orders', {
          functionProps,
          existingQueue,
          deadLetterQueueProps: { retentionPeriod: Duration.days(7) },
        }),
    ).toThrow(
      "QueueConsumer at 'TestStack/Orders' has invalid props:\n  - deadLetterQueueProps cannot be combined with an existingQueue that has its own dead-letter queue, got { retentionPeriod }: that queue is used as it is",
    );
  });
});
