import { CfnParameter, Duration, type IResource, type Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, test } from 'vitest';
import { IdempotencyTable } from '../../../lib/idempotency-table';
import { PipelineMonitoring, type PipelineMonitoringProps } from '../../../lib/monitoring/pipeline-monitoring';
import { QueueConsumer } from '../../../lib/queue-consumer';
import { StreamConsumer } from '../../../lib/stream-consumer';
import { createTestStack, HANDLER_ENTRY, snapshotTemplate } from '../../helpers/template';

const functionProps = { entry: HANDLER_ENTRY };

/** The logical ID of the CloudFormation resource behind an L2 construct. */
function logicalId(stack: Stack, resource: IResource): string {
  return stack.getLogicalId(resource.node.defaultChild as never);
}

/** A stack with a queue consumer 'Orders' and a stream 'Events' with the consumers named in `streamConsumers`. */
function pipeline(streamConsumers: string[] = ['audit']) {
  const { app, stack } = createTestStack();
  const table = new IdempotencyTable(stack, 'Idempotency');
  const orders = new QueueConsumer(stack, 'Orders', { functionProps, idempotencyTable: table });
  const events = new StreamConsumer(stack, 'Events', {
    idempotencyTable: table,
    consumers: Object.fromEntries(streamConsumers.map((name) => [name, { functionProps }])),
  });
  return { app, stack, table, orders, events };
}

interface Widget {
  readonly type: string;
  readonly properties: {
    readonly markdown?: string;
    readonly title?: string;
    readonly alarms?: string[];
    readonly metrics?: unknown[][];
  };
}

/**
 * The widgets of the only dashboard. The body is an Fn::Join of JSON text and references; each reference is written
 * as `LogicalId` or `LogicalId.Attribute`, which leaves valid JSON to parse.
 */
function dashboardWidgets(template: Template): Widget[] {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const [, parts] = dashboards[0].Properties.DashboardBody['Fn::Join'] as [string, unknown[]];
  const body = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const reference = part as { Ref?: string; 'Fn::GetAtt'?: string[] };
      return reference.Ref ?? reference['Fn::GetAtt']?.join('.');
    })
    .join('');
  return JSON.parse(body).widgets;
}

/** The properties of every alarm, by alarm name. */
function alarmsByName(template: Template): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((alarm) => [
      alarm.Properties.AlarmName,
      alarm.Properties,
    ]),
  );
}

describe('PipelineMonitoring of a queue consumer, a stream with two consumers and a table', () => {
  let stack: Stack;
  let built: ReturnType<typeof pipeline>;
  let monitoring: PipelineMonitoring;
  let returned: PipelineMonitoring[];
  let template: Template;
  let alarms: Record<string, Record<string, unknown>>;

  beforeAll(() => {
    // GIVEN
    built = pipeline(['audit', 'search']);
    stack = built.stack;
    monitoring = new PipelineMonitoring(stack, 'Monitoring');

    // WHEN
    returned = [
      monitoring.monitorQueueConsumer(built.orders),
      monitoring.monitorStreamConsumer(built.events),
      monitoring.monitorIdempotencyTable(built.table),
    ];
    template = Template.fromStack(stack);
    alarms = alarmsByName(template);
  });

  test('THEN each monitor method returns the monitoring, for chaining', () => {
    for (const result of returned) expect(result).toBe(monitoring);
  });

  test('THEN it creates one dashboard', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: Match.absent() });
  });

  test('THEN it creates 6 alarms for the queue consumer and 7 for each stream consumer', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 20);
    expect(monitoring.alarms).toHaveLength(20);
    const streamConsumerAlarms = (name: string) =>
      [
        'FailureQueueMessages',
        'IteratorAge',
        'FailedRecords',
        'DroppedEvents',
        'OnFailureDestinationDeliveries',
        'Errors',
        'Throttles',
      ].map((alarm) => `TestStack-${name}-${alarm}`);
    expect(Object.keys(alarms).sort()).toEqual(
      [
        'TestStack-Orders-DeadLetterMessages',
        'TestStack-Orders-AgeOfOldestMessage',
        'TestStack-Orders-FailedRecords',
        'TestStack-Orders-DroppedEvents',
        'TestStack-Orders-Errors',
        'TestStack-Orders-Throttles',
        ...streamConsumerAlarms('audit'),
        ...streamConsumerAlarms('search'),
      ].sort(),
    );
  });

  test('THEN alarms returns a copy that callers cannot change', () => {
    (monitoring.alarms as unknown[]).pop();
    expect(monitoring.alarms).toHaveLength(20);
  });

  test('THEN a failed-records alarm per consumer watches the runtime kit metric, failures in 2 of 3 periods', () => {
    expect(alarms['TestStack-Orders-FailedRecords']).toMatchObject({
      Namespace: 'EdaKit',
      MetricName: 'FailedRecords',
      Dimensions: [{ Name: 'service', Value: 'Orders' }],
      Statistic: 'Sum',
      Threshold: 0,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
    expect(alarms['TestStack-audit-FailedRecords']).toMatchObject({ MetricName: 'FailedRecords', Threshold: 0 });
  });

  test("THEN the mapping alarms watch each event source mapping's dropped and failure-destination counts", () => {
    expect(alarms['TestStack-Orders-DroppedEvents']).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'DroppedEventCount',
      Dimensions: [{ Name: 'EventSourceMappingUUID', Value: { Ref: expect.stringMatching(/SqsEventSource/) } }],
      Threshold: 0,
    });
    expect(alarms['TestStack-audit-OnFailureDestinationDeliveries']).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'OnFailureDestinationDeliveredEventCount',
      Dimensions: [{ Name: 'EventSourceMappingUUID', Value: { Ref: expect.stringMatching(/KinesisEventSource/) } }],
      Threshold: 0,
    });
  });

  test('THEN one composite alarm says the pipeline is unhealthy when any of its alarms is in ALARM', () => {
    const composites = Object.values(template.findResources('AWS::CloudWatch::CompositeAlarm'));
    expect(composites).toHaveLength(1);
    const { AlarmName, AlarmRule } = composites[0].Properties;
    expect(AlarmName).toBe('TestStack-PipelineUnhealthy');
    const rule = JSON.stringify(AlarmRule);
    for (const alarm of monitoring.alarms) expect(rule).toContain(logicalId(stack, alarm));
    expect(monitoring.pipelineAlarm).toBeDefined();
  });

  test('THEN the queue consumer alarms watch its dead-letter queue, its queue and its function', () => {
    const queueName = (queue: IResource) => [
      { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, queue), 'QueueName'] } },
    ];
    const functionName = [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, built.orders.function) } }];
    expect(alarms['TestStack-Orders-DeadLetterMessages']).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: queueName(built.orders.deadLetterQueue),
      Statistic: 'Maximum',
      Threshold: 0,
    });
    expect(alarms['TestStack-Orders-AgeOfOldestMessage']).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: queueName(built.orders.queue),
      Threshold: 300,
    });
    expect(alarms['TestStack-Orders-Errors']).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: functionName,
      Statistic: 'Sum',
      Threshold: 0,
    });
    expect(alarms['TestStack-Orders-Throttles']).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Dimensions: functionName,
      Threshold: 0,
    });
  });

  test('THEN each stream consumer alarms watch its own failure queue and function', () => {
    for (const name of ['audit', 'search']) {
      const consumer = built.events.consumer(name);
      const functionName = [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, consumer.function) } }];
      expect(alarms[`TestStack-${name}-FailureQueueMessages`]).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, consumer.failureQueue), 'QueueName'] } },
        ],
        Threshold: 0,
      });
      expect(alarms[`TestStack-${name}-IteratorAge`]).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'IteratorAge',
        Dimensions: functionName,
        Statistic: 'Maximum',
        Threshold: 60_000,
      });
      expect(alarms[`TestStack-${name}-Errors`]).toMatchObject({ MetricName: 'Errors', Dimensions: functionName });
      expect(alarms[`TestStack-${name}-Throttles`]).toMatchObject({
        MetricName: 'Throttles',
        Dimensions: functionName,
      });
    }
  });

  test('THEN no alarm has an action', () => {
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: Match.absent(),
      OKActions: Match.absent(),
    });
  });

  test('THEN the dashboard has a section per queue consumer, stream, stream consumer and table, in order', () => {
    const headings = dashboardWidgets(template)
      .filter((widget) => widget.type === 'text')
      .map((widget) => widget.properties.markdown);
    expect(headings).toEqual([
      '## Queue consumer: Orders',
      '## Stream: Events',
      '## Stream consumer: audit',
      '## Stream consumer: search',
      '## Idempotency table: Idempotency',
    ]);
  });

  test('THEN the dashboard shows the alarms of each consumer in its section', () => {
    const alarmWidgets = dashboardWidgets(template).filter((widget) => widget.type === 'alarm');
    expect(alarmWidgets).toHaveLength(3);
    expect(alarmWidgets.map((widget) => widget.properties.alarms?.length)).toEqual([6, 7, 7]);
    const alarmArns = alarmWidgets.flatMap((widget) => widget.properties.alarms);
    expect(alarmArns).toEqual(monitoring.alarms.map((alarm) => `${logicalId(stack, alarm)}.Arn`));
  });

  test('THEN the dashboard graphs the runtime kit record metrics of each consumer', () => {
    const recordWidgets = dashboardWidgets(template).filter(
      (widget) => widget.properties.title === 'Records: processed / duplicate / invalid / failed',
    );
    expect(recordWidgets).toHaveLength(3);
    const services = recordWidgets.map((widget) => widget.properties.metrics?.map((metric) => metric.slice(0, 4)));
    expect(services).toEqual(
      ['Orders', 'audit', 'search'].map((service) =>
        ['ProcessedRecords', 'DuplicateRecords', 'InvalidRecords', 'FailedRecords'].map((name) => [
          'EdaKit',
          name,
          'service',
          service,
        ]),
      ),
    );
  });

  test("THEN each consumer's section graphs its event source mapping's funnel, and its function row the record age", () => {
    const widgets = dashboardWidgets(template);
    const funnels = widgets.filter((widget) => widget.properties.title?.startsWith('Event source mapping:'));
    expect(funnels.map((widget) => widget.properties.metrics?.map((metric) => metric[1]))).toEqual([
      ['PolledEventCount', 'FilteredOutEventCount', 'InvokedEventCount', 'FailedInvokeEventCount', 'DeletedEventCount'],
      ...[1, 2].map(() => [
        'PolledEventCount',
        'FilteredOutEventCount',
        'InvokedEventCount',
        'FailedInvokeEventCount',
        'DroppedEventCount',
        'OnFailureDestinationDeliveredEventCount',
      ]),
    ]);
    const ages = widgets.filter((widget) => widget.properties.title?.startsWith('Record age'));
    expect(ages).toHaveLength(3);
    expect(ages[0].properties.metrics?.map((metric) => metric[1])).toEqual(['RecordAge', 'RecordAge']);
  });

  test('THEN the dashboard graphs the table throttles', () => {
    const [throttles] = dashboardWidgets(template).filter((widget) => widget.properties.title === 'Throttled requests');
    expect(throttles.properties.metrics?.map((metric) => metric.slice(0, 4))).toEqual([
      ['AWS/DynamoDB', 'ReadThrottleEvents', 'TableName', logicalId(stack, built.table.table)],
      ['AWS/DynamoDB', 'WriteThrottleEvents', 'TableName', logicalId(stack, built.table.table)],
    ]);
  });

  test('THEN it matches the snapshot of its dashboard and alarms', () => {
    const resources = {
      ...template.findResources('AWS::CloudWatch::Dashboard'),
      ...template.findResources('AWS::CloudWatch::Alarm'),
    };
    expect(snapshotTemplate(Template.fromJSON({ Resources: resources }))).toMatchSnapshot();
  });
});

describe('PipelineMonitoring alarm counts', () => {
  test('GIVEN one queue consumer WHEN monitored THEN it has 6 alarms', () => {
    // GIVEN
    const { stack, orders } = pipeline();

    // WHEN
    const monitoring = new PipelineMonitoring(stack, 'Monitoring').monitorQueueConsumer(orders);

    // THEN
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 6);
    expect(monitoring.alarms).toHaveLength(6);
  });

  test('GIVEN a stream with one consumer WHEN monitored THEN it has 7 alarms', () => {
    // GIVEN
    const { stack, events } = pipeline(['audit']);

    // WHEN
    new PipelineMonitoring(stack, 'Monitoring').monitorStreamConsumer(events);

    // THEN
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 7);
  });

  test('GIVEN consumers whose mappings publish no metrics THEN they get neither the funnel nor the mapping alarms', () => {
    // GIVEN
    const { stack } = createTestStack();
    const table = new IdempotencyTable(stack, 'Idempotency');
    const orders = new QueueConsumer(stack, 'Orders', {
      functionProps,
      idempotencyTable: table,
      eventSourceMappingMetrics: false,
    });
    const events = new StreamConsumer(stack, 'Events', {
      idempotencyTable: table,
      consumers: { audit: { functionProps, eventSourceMappingMetrics: false } },
    });

    // WHEN
    const monitoring = new PipelineMonitoring(stack, 'Monitoring')
      .monitorQueueConsumer(orders)
      .monitorStreamConsumer(events);

    // THEN
    const template = Template.fromStack(stack);
    template.allResourcesProperties('AWS::Lambda::EventSourceMapping', { MetricsConfig: Match.absent() });
    // Each keeps its failed-records alarm: the runtime kit's metric needs no mapping metrics.
    expect(monitoring.alarms).toHaveLength(5 + 5);
    expect(
      dashboardWidgets(template).filter((widget) => widget.properties.title?.startsWith('Event source mapping')),
    ).toEqual([]);
  });

  test('GIVEN a consumer with its own failure bucket THEN an alarm fires on the first batch written, and its section graphs the bucket', () => {
    // GIVEN
    const { stack } = createTestStack();
    const events = new StreamConsumer(stack, 'Events', {
      consumers: { audit: { functionProps, failureBucket: true } },
    });

    // WHEN
    const monitoring = new PipelineMonitoring(stack, 'Monitoring').monitorStreamConsumer(events);

    // THEN
    const template = Template.fromStack(stack);
    expect(monitoring.alarms).toHaveLength(8);
    const bucketId = logicalId(stack, events.consumer('audit').failureBucket as IResource);
    expect(alarmsByName(template)['TestStack-audit-FailureBucketWrites']).toMatchObject({
      Namespace: 'AWS/S3',
      MetricName: 'PutRequests',
      Dimensions: expect.arrayContaining([
        { Name: 'BucketName', Value: { Ref: bucketId } },
        { Name: 'FilterId', Value: 'FailedBatches' },
      ]),
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const titles = dashboardWidgets(template).map((widget) => widget.properties.title);
    expect(titles).toContain('Failure bucket: batches written / kept (daily)');
    expect(titles).toContain(
      'Event source mapping: polled / filtered out / invoked / failed / dropped / sent to failure bucket',
    );
  });

  test('GIVEN a consumer writing to a bucket of the app THEN there is no bucket alarm: the mapping alarms watch the deliveries', () => {
    // GIVEN
    const { stack } = createTestStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Kept', 'kept-failures');
    const events = new StreamConsumer(stack, 'Events', {
      consumers: { audit: { functionProps, failureBucket: bucket } },
    });

    // WHEN
    const monitoring = new PipelineMonitoring(stack, 'Monitoring').monitorStreamConsumer(events);

    // THEN
    expect(monitoring.alarms).toHaveLength(7);
    expect(Object.keys(alarmsByName(Template.fromStack(stack)))).toContain(
      'TestStack-audit-OnFailureDestinationDeliveries',
    );
  });

  test('GIVEN pipelineAlarm false THEN there is no composite alarm', () => {
    const { stack, orders } = pipeline();

    const monitoring = new PipelineMonitoring(stack, 'Monitoring', { pipelineAlarm: false }).monitorQueueConsumer(
      orders,
    );

    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::CompositeAlarm', 0);
    expect(monitoring.pipelineAlarm).toBeUndefined();
  });

  test('GIVEN only a table WHEN monitored THEN it has a dashboard and no alarm', () => {
    // GIVEN
    const { stack } = createTestStack();
    const table = new IdempotencyTable(stack, 'Idempotency');

    // WHEN
    new PipelineMonitoring(stack, 'Monitoring').monitorIdempotencyTable(table);

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('PipelineMonitoring props', () => {
  test('GIVEN thresholds in props THEN the alarm thresholds change, in the unit of each metric', () => {
    // GIVEN
    const { stack, orders, events } = pipeline();

    // WHEN
    new PipelineMonitoring(stack, 'Monitoring', {
      queueThresholds: {
        maxAgeOfOldestMessage: Duration.minutes(10),
        maxDeadLetterMessages: 5,
        maxFailedRecords: 10,
        maxDroppedEvents: 1,
      },
      streamThresholds: {
        maxIteratorAge: Duration.minutes(2),
        maxFailureQueueMessages: 2,
        maxFailedRecords: 20,
        maxDroppedEvents: 6,
        maxOnFailureDestinationDeliveries: 7,
      },
      functionThresholds: { maxErrors: 3, maxThrottles: 4 },
    })
      .monitorQueueConsumer(orders)
      .monitorStreamConsumer(events);

    // THEN
    const thresholds = Object.fromEntries(
      Object.entries(alarmsByName(Template.fromStack(stack))).map(([name, alarm]) => [name, alarm.Threshold]),
    );
    expect(thresholds).toEqual({
      'TestStack-Orders-DeadLetterMessages': 5,
      'TestStack-Orders-AgeOfOldestMessage': 600,
      'TestStack-Orders-FailedRecords': 10,
      'TestStack-Orders-DroppedEvents': 1,
      'TestStack-Orders-Errors': 3,
      'TestStack-Orders-Throttles': 4,
      'TestStack-audit-FailureQueueMessages': 2,
      'TestStack-audit-IteratorAge': 120_000,
      'TestStack-audit-FailedRecords': 20,
      'TestStack-audit-DroppedEvents': 6,
      'TestStack-audit-OnFailureDestinationDeliveries': 7,
      'TestStack-audit-Errors': 3,
      'TestStack-audit-Throttles': 4,
    });
  });

  test('GIVEN threshold objects THEN each alarm takes its periods, datapoints, missing-data treatment, actions and runbook', () => {
    // GIVEN
    const { stack, orders, events } = pipeline();
    const topic = new sns.Topic(stack, 'AlarmTopic');
    const pager = new sns.Topic(stack, 'Pager');

    // WHEN
    new PipelineMonitoring(stack, 'Monitoring', {
      alarmTopic: topic,
      queueThresholds: {
        maxFailedRecords: {
          maxCount: 5,
          evaluationPeriods: 6,
          datapointsToAlarm: 4,
          treatMissingData: cloudwatch.TreatMissingData.IGNORE,
          actions: [new actions.SnsAction(pager)],
          runbookUrl: 'https://runbooks.example.com/orders-failing',
        },
        maxAgeOfOldestMessage: { maxAge: Duration.minutes(15), evaluationPeriods: 2 },
      },
      streamThresholds: { maxIteratorAge: { maxAge: Duration.seconds(90) } },
    })
      .monitorQueueConsumer(orders)
      .monitorStreamConsumer(events);

    // THEN
    const alarms = alarmsByName(Template.fromStack(stack));
    const pagerRef = { Ref: logicalId(stack, pager) };
    expect(alarms['TestStack-Orders-FailedRecords']).toMatchObject({
      Threshold: 5,
      EvaluationPeriods: 6,
      DatapointsToAlarm: 4,
      TreatMissingData: 'ignore',
      AlarmActions: [pagerRef],
      OKActions: [pagerRef],
      AlarmDescription:
        'TestStack-Orders-FailedRecords: records keep failing and are being retried (above 5). ' +
        'Runbook: https://runbooks.example.com/orders-failing',
    });
    expect(alarms['TestStack-Orders-AgeOfOldestMessage']).toMatchObject({ Threshold: 900, EvaluationPeriods: 2 });
    expect(alarms['TestStack-Orders-AgeOfOldestMessage'].AlarmActions).toEqual([{ Ref: logicalId(stack, topic) }]);
    expect(alarms['TestStack-audit-IteratorAge']).toMatchObject({ Threshold: 90_000, EvaluationPeriods: 1 });
  });

  test.each([
    [{ maxFailedRecords: { maxCount: -1 } }, 'maxFailedRecords.maxCount must be an integer of 0 or more, got -1'],
    [
      { maxFailedRecords: { maxCount: 1, evaluationPeriods: 0 } },
      'maxFailedRecords.evaluationPeriods must be an integer from 1 to 288, got 0',
    ],
    [
      { maxFailedRecords: { maxCount: 1, evaluationPeriods: 3, datapointsToAlarm: 4 } },
      'maxFailedRecords.datapointsToAlarm must be an integer from 1 to 3, got 4',
    ],
    [{ maxAgeOfOldestMessage: { maxAge: Duration.days(15) } }, 'maxAgeOfOldestMessage.maxAge'],
  ])('fails when a threshold object is out of range: %j', (queueThresholds, message) => {
    const { stack } = pipeline();

    expect(() => new PipelineMonitoring(stack, 'Monitoring', { queueThresholds })).toThrow(message);
  });

  test('GIVEN thresholds in a monitor call THEN they win over the props, and the other props still apply', () => {
    // GIVEN
    const { stack, orders, events } = pipeline();
    const monitoring = new PipelineMonitoring(stack, 'Monitoring', {
      queueThresholds: { maxAgeOfOldestMessage: Duration.minutes(10), maxDeadLetterMessages: 5 },
      streamThresholds: { maxIteratorAge: Duration.minutes(2), maxFailureQueueMessages: 2 },
    });

    // WHEN
    monitoring
      .monitorQueueConsumer(orders, { maxDeadLetterMessages: 7 })
      .monitorStreamConsumer(events, { maxIteratorAge: Duration.seconds(30) });

    // THEN
    const alarms = alarmsByName(Template.fromStack(stack));
    expect(alarms['TestStack-Orders-DeadLetterMessages'].Threshold).toBe(7);
    expect(alarms['TestStack-Orders-AgeOfOldestMessage'].Threshold).toBe(600);
    expect(alarms['TestStack-audit-IteratorAge'].Threshold).toBe(30_000);
    expect(alarms['TestStack-audit-FailureQueueMessages'].Threshold).toBe(2);
  });

  test('GIVEN an alarmTopic THEN every alarm notifies it on ALARM and on OK', () => {
    // GIVEN
    const { stack, orders, events } = pipeline();
    const topic = new sns.Topic(stack, 'AlarmTopic');

    // WHEN
    new PipelineMonitoring(stack, 'Monitoring', { alarmTopic: topic })
      .monitorQueueConsumer(orders)
      .monitorStreamConsumer(events);

    // THEN
    const template = Template.fromStack(stack);
    const topicRef = { Ref: logicalId(stack, topic) };
    template.resourceCountIs('AWS::CloudWatch::Alarm', 13);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [topicRef], OKActions: [topicRef] });
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmActions: [topicRef],
      OKActions: [topicRef],
    });
  });

  test('GIVEN an alarmNamePrefix and a dashboardName THEN the alarms and the dashboard use them', () => {
    // GIVEN
    const { stack, orders } = pipeline();

    // WHEN
    new PipelineMonitoring(stack, 'Monitoring', {
      alarmNamePrefix: 'shop-prod',
      dashboardName: 'shop-pipeline',
    }).monitorQueueConsumer(orders);

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'shop-pipeline' });
    expect(Object.keys(alarmsByName(template)).sort()).toEqual([
      'shop-prod-Orders-AgeOfOldestMessage',
      'shop-prod-Orders-DeadLetterMessages',
      'shop-prod-Orders-DroppedEvents',
      'shop-prod-Orders-Errors',
      'shop-prod-Orders-FailedRecords',
      'shop-prod-Orders-Throttles',
    ]);
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmName: 'shop-prod-PipelineUnhealthy' });
  });

  test('GIVEN Token thresholds THEN they pass through to the alarms unvalidated', () => {
    // GIVEN
    const { stack, orders } = pipeline();
    const value = Token.asNumber(new CfnParameter(stack, 'P', { type: 'Number' }).valueAsNumber);

    // WHEN
    new PipelineMonitoring(stack, 'Monitoring', {
      queueThresholds: { maxDeadLetterMessages: value },
      functionThresholds: { maxErrors: value },
    }).monitorQueueConsumer(orders);

    // THEN
    const alarms = alarmsByName(Template.fromStack(stack));
    expect(alarms['TestStack-Orders-DeadLetterMessages'].Threshold).toEqual({ Ref: 'P' });
    expect(alarms['TestStack-Orders-Errors'].Threshold).toEqual({ Ref: 'P' });
  });
});

describe('PipelineMonitoring validation', () => {
  const prefix = "PipelineMonitoring at 'TestStack/Monitoring' has invalid props:\n  - ";

  function attempt(props: PipelineMonitoringProps): () => PipelineMonitoring {
    const { stack } = createTestStack();
    return () => new PipelineMonitoring(stack, 'Monitoring', props);
  }

  test.each([-1, 0.5])('fails when queueThresholds.maxDeadLetterMessages is %d', (value) => {
    expect(attempt({ queueThresholds: { maxDeadLetterMessages: value } })).toThrow(
      `${prefix}maxDeadLetterMessages must be an integer of 0 or more, got ${value}`,
    );
  });

  test.each([
    [Duration.seconds(0), '0 seconds'],
    [Duration.days(15), '1296000 seconds (360 hours)'],
  ])('fails when queueThresholds.maxAgeOfOldestMessage is %s', (value, described) => {
    expect(attempt({ queueThresholds: { maxAgeOfOldestMessage: value } })).toThrow(
      `${prefix}maxAgeOfOldestMessage must be a whole number of seconds from 1 second to 1209600 seconds (336 hours), got ${described}`,
    );
  });

  test('fails when streamThresholds.maxFailureQueueMessages is negative', () => {
    expect(attempt({ streamThresholds: { maxFailureQueueMessages: -1 } })).toThrow(
      `${prefix}maxFailureQueueMessages must be an integer of 0 or more, got -1`,
    );
  });

  test.each([
    [Duration.seconds(0), '0 seconds'],
    [Duration.days(8), '691200 seconds (192 hours)'],
  ])('fails when streamThresholds.maxIteratorAge is %s', (value, described) => {
    expect(attempt({ streamThresholds: { maxIteratorAge: value } })).toThrow(
      `${prefix}maxIteratorAge must be a whole number of seconds from 1 second to 604800 seconds (168 hours), got ${described}`,
    );
  });

  test('fails when functionThresholds.maxErrors is negative', () => {
    expect(attempt({ functionThresholds: { maxErrors: -1 } })).toThrow(
      `${prefix}maxErrors must be an integer of 0 or more, got -1`,
    );
  });

  test('fails when functionThresholds.maxThrottles is fractional', () => {
    expect(attempt({ functionThresholds: { maxThrottles: 1.5 } })).toThrow(
      `${prefix}maxThrottles must be an integer of 0 or more, got 1.5`,
    );
  });

  test('fails when several thresholds are invalid, with every problem in one error', () => {
    expect(
      attempt({
        queueThresholds: { maxDeadLetterMessages: -1, maxAgeOfOldestMessage: Duration.seconds(0) },
        streamThresholds: { maxFailureQueueMessages: -2, maxIteratorAge: Duration.days(8) },
        functionThresholds: { maxErrors: -3, maxThrottles: -4 },
      }),
    ).toThrow(
      "PipelineMonitoring at 'TestStack/Monitoring' has invalid props:\n" +
        '  - maxDeadLetterMessages must be an integer of 0 or more, got -1\n' +
        '  - maxFailureQueueMessages must be an integer of 0 or more, got -2\n' +
        '  - maxErrors must be an integer of 0 or more, got -3\n' +
        '  - maxThrottles must be an integer of 0 or more, got -4\n' +
        '  - maxAgeOfOldestMessage must be a whole number of seconds from 1 second to 1209600 seconds (336 hours), got 0 seconds\n' +
        '  - maxIteratorAge must be a whole number of seconds from 1 second to 604800 seconds (168 hours), got 691200 seconds (192 hours)',
    );
  });

  describe('GIVEN a valid monitoring of a pipeline', () => {
    let built: ReturnType<typeof pipeline>;
    let monitoring: PipelineMonitoring;

    beforeAll(() => {
      built = pipeline();
      monitoring = new PipelineMonitoring(built.stack, 'Monitoring');
    });

    test('fails when monitorQueueConsumer is given invalid thresholds', () => {
      expect(() =>
        monitoring.monitorQueueConsumer(built.orders, {
          maxDeadLetterMessages: -1,
          maxAgeOfOldestMessage: Duration.millis(1_500),
        }),
      ).toThrow(
        `${prefix}maxDeadLetterMessages must be an integer of 0 or more, got -1\n` +
          '  - maxAgeOfOldestMessage must be a whole number of seconds from 1 second to 1209600 seconds (336 hours), got 1.5 seconds',
      );
      expect(monitoring.alarms).toHaveLength(0);
    });

    test('fails when monitorStreamConsumer is given invalid thresholds', () => {
      expect(() => monitoring.monitorStreamConsumer(built.events, { maxFailureQueueMessages: 0.5 })).toThrow(
        `${prefix}maxFailureQueueMessages must be an integer of 0 or more, got 0.5`,
      );
      expect(monitoring.alarms).toHaveLength(0);
    });
  });
});

describe('PipelineMonitoring of a stream consumer added to after it is monitored', () => {
  test('GIVEN a consumer added with addConsumer after monitorStreamConsumer THEN it gets its section and alarms too', () => {
    // GIVEN
    const { stack } = createTestStack();
    const events = new StreamConsumer(stack, 'Events', {
      consumers: { audit: { functionProps: { entry: HANDLER_ENTRY, serviceName: 'audit' } } },
    });
    const monitoring = new PipelineMonitoring(stack, 'Monitoring').monitorStreamConsumer(events);
    const alarmsBefore = monitoring.alarms.length;

    // WHEN
    events.addConsumer('late', { functionProps: { entry: HANDLER_ENTRY, serviceName: 'late' } });

    // THEN
    expect(monitoring.alarms.length).toBe(alarmsBefore * 2);
    const body = JSON.stringify(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
    expect(body).toContain('Stream consumer: late');
    expect(monitoring.alarms.map((alarm) => alarm.node.id)).toEqual(
      expect.arrayContaining(['late-FailureQueueMessages', 'late-IteratorAge', 'late-Errors', 'late-Throttles']),
    );
  });
});
