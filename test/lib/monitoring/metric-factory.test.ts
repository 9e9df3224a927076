import { Duration, type IResource, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, test } from 'vitest';
import { RECORD_METRIC_NAMES } from '../../../contract';
import {
  DEFAULT_METRIC_PERIOD,
  functionMetrics,
  queueMetrics,
  recordMetrics,
  streamMetrics,
  tableMetrics,
} from '../../../lib/monitoring/metric-factory';
import { createTestStack } from '../../helpers/template';

/** What a metric is, with its Tokens resolved in `stack`. */
function describeMetric(stack: Stack, metric: cloudwatch.IMetric) {
  expect(metric).toBeInstanceOf(cloudwatch.Metric);
  const { namespace, metricName, statistic, period, dimensions } = metric as cloudwatch.Metric;
  return { namespace, metricName, statistic, periodSeconds: period.toSeconds(), dimensions: stack.resolve(dimensions) };
}

/** The logical ID of the CloudFormation resource behind an L2 construct. */
function logicalId(stack: Stack, resource: IResource): string {
  return stack.getLogicalId(resource.node.defaultChild as never);
}

describe('RECORD_METRIC_NAMES', () => {
  test('THEN they are the names the runtime kit emits', () => {
    expect(RECORD_METRIC_NAMES).toEqual({
      processed: 'ProcessedRecords',
      duplicate: 'DuplicateRecords',
      invalid: 'InvalidRecords',
      failed: 'FailedRecords',
      recordAge: 'RecordAge',
    });
  });

  test('THEN the default period is one minute', () => {
    expect(DEFAULT_METRIC_PERIOD.toSeconds()).toBe(60);
  });
});

describe('recordMetrics', () => {
  test('GIVEN the EdaKit namespace and a service WHEN built THEN each metric is in that namespace with the service dimension', () => {
    // GIVEN
    const { stack } = createTestStack();

    // WHEN
    const metrics = recordMetrics('EdaKit', 'orders');

    // THEN
    const common = { namespace: 'EdaKit', periodSeconds: 60, dimensions: { service: 'orders' } };
    expect(describeMetric(stack, metrics.processed)).toEqual({
      ...common,
      metricName: 'ProcessedRecords',
      statistic: 'Sum',
    });
    expect(describeMetric(stack, metrics.duplicate)).toEqual({
      ...common,
      metricName: 'DuplicateRecords',
      statistic: 'Sum',
    });
    expect(describeMetric(stack, metrics.invalid)).toEqual({
      ...common,
      metricName: 'InvalidRecords',
      statistic: 'Sum',
    });
    expect(describeMetric(stack, metrics.failed)).toEqual({ ...common, metricName: 'FailedRecords', statistic: 'Sum' });
    expect(describeMetric(stack, metrics.recordAgeP99)).toEqual({
      ...common,
      metricName: 'RecordAge',
      statistic: 'p99',
    });
  });

  test('GIVEN another namespace and a period WHEN built THEN the metrics use them', () => {
    // GIVEN
    const { stack } = createTestStack();

    // WHEN
    const metrics = recordMetrics('Shop', 'payments', Duration.minutes(5));

    // THEN
    expect(describeMetric(stack, metrics.failed)).toEqual({
      namespace: 'Shop',
      metricName: 'FailedRecords',
      statistic: 'Sum',
      periodSeconds: 300,
      dimensions: { service: 'payments' },
    });
  });
});

describe('metric factories of AWS resources', () => {
  let stack: Stack;
  let queue: sqs.Queue;
  let stream: kinesis.Stream;
  let fn: lambda.Function;
  let table: dynamodb.Table;

  beforeAll(() => {
    // GIVEN
    ({ stack } = createTestStack());
    queue = new sqs.Queue(stack, 'Queue');
    stream = new kinesis.Stream(stack, 'Stream');
    fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    });
    table = new dynamodb.Table(stack, 'Table', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    });
  });

  test('WHEN queueMetrics THEN they are the official SQS metrics of the queue', () => {
    // WHEN
    const metrics = queueMetrics(queue);

    // THEN
    const common = {
      namespace: 'AWS/SQS',
      periodSeconds: 60,
      dimensions: { QueueName: { 'Fn::GetAtt': [logicalId(stack, queue), 'QueueName'] } },
    };
    expect(describeMetric(stack, metrics.visibleMessages)).toEqual({
      ...common,
      metricName: 'ApproximateNumberOfMessagesVisible',
      statistic: 'Maximum',
    });
    expect(describeMetric(stack, metrics.ageOfOldestMessage)).toEqual({
      ...common,
      metricName: 'ApproximateAgeOfOldestMessage',
      statistic: 'Maximum',
    });
    expect(describeMetric(stack, metrics.sent)).toEqual({
      ...common,
      metricName: 'NumberOfMessagesSent',
      statistic: 'Sum',
    });
    expect(describeMetric(stack, metrics.received)).toEqual({
      ...common,
      metricName: 'NumberOfMessagesReceived',
      statistic: 'Sum',
    });
    expect(describeMetric(stack, metrics.deleted)).toEqual({
      ...common,
      metricName: 'NumberOfMessagesDeleted',
      statistic: 'Sum',
    });
  });

  test('WHEN streamMetrics THEN they are the official Kinesis metrics of the stream', () => {
    // WHEN
    const metrics = streamMetrics(stream);

    // THEN
    const common = {
      namespace: 'AWS/Kinesis',
      periodSeconds: 60,
      dimensions: { StreamName: { Ref: logicalId(stack, stream) } },
    };
    expect(describeMetric(stack, metrics.incomingRecords)).toEqual({
      ...common,
      metricName: 'IncomingRecords',
      statistic: 'Sum',
    });
    expect(describeMetric(stack, metrics.incomingBytes)).toEqual({
      ...common,
      metricName: 'IncomingBytes',
      statistic: 'Sum',
    });
    expect(describeMetric(stack, metrics.iteratorAge)).toEqual({
      ...common,
      metricName: 'GetRecords.IteratorAgeMilliseconds',
      statistic: 'Maximum',
    });
    expect(describeMetric(stack, metrics.readThroughputExceeded)).toEqual({
      ...common,
      metricName: 'ReadProvisionedThroughputExceeded',
      statistic: 'Sum',
    });
    expect(describeMetric(stack, metrics.writeThroughputExceeded)).toEqual({
      ...common,
      metricName: 'WriteProvisionedThroughputExceeded',
      statistic: 'Sum',
    });
  });

  test('WHEN functionMetrics THEN they are the official Lambda metrics of the function', () => {
    // WHEN
    const metrics = functionMetrics(fn);

    // THEN
    const common = {
      namespace: 'AWS/Lambda',
      periodSeconds: 60,
      dimensions: { FunctionName: { Ref: logicalId(stack, fn) } },
    };
    expect(describeMetric(stack, metrics.invocations)).toEqual({
      ...common,
      metricName: 'Invocations',
      statistic: 'Sum',
    });
    expect(describeMetric(stack, metrics.errors)).toEqual({ ...common, metricName: 'Errors', statistic: 'Sum' });
    expect(describeMetric(stack, metrics.throttles)).toEqual({ ...common, metricName: 'Throttles', statistic: 'Sum' });
    expect(describeMetric(stack, metrics.durationP50)).toEqual({ ...common, metricName: 'Duration', statistic: 'p50' });
    expect(describeMetric(stack, metrics.durationP99)).toEqual({ ...common, metricName: 'Duration', statistic: 'p99' });
    expect(describeMetric(stack, metrics.concurrentExecutions)).toEqual({
      ...common,
      metricName: 'ConcurrentExecutions',
      statistic: 'Maximum',
    });
    expect(describeMetric(stack, metrics.iteratorAge)).toEqual({
      ...common,
      metricName: 'IteratorAge',
      statistic: 'Maximum',
    });
  });

  test('WHEN tableMetrics THEN they are the DynamoDB throttle metrics of the table', () => {
    // WHEN
    const metrics = tableMetrics(table);

    // THEN
    const common = {
      namespace: 'AWS/DynamoDB',
      periodSeconds: 60,
      statistic: 'Sum',
      dimensions: { TableName: { Ref: logicalId(stack, table) } },
    };
    expect(describeMetric(stack, metrics.readThrottleEvents)).toEqual({ ...common, metricName: 'ReadThrottleEvents' });
    expect(describeMetric(stack, metrics.writeThrottleEvents)).toEqual({
      ...common,
      metricName: 'WriteThrottleEvents',
    });
  });

  test('GIVEN a period WHEN any factory builds THEN every metric uses it', () => {
    // GIVEN
    const period = Duration.minutes(5);

    // WHEN
    const metrics = [
      ...Object.values(queueMetrics(queue, period)),
      ...Object.values(streamMetrics(stream, period)),
      ...Object.values(functionMetrics(fn, period)),
      ...Object.values(tableMetrics(table, period)),
    ];

    // THEN
    expect(metrics).toHaveLength(5 + 5 + 7 + 2);
    for (const metric of metrics) {
      expect(describeMetric(stack, metric).periodSeconds).toBe(300);
    }
  });

  test('THEN building metrics creates no alarm, dashboard or other resource', () => {
    // GIVEN the factories above have all run on this stack
    queueMetrics(queue);
    streamMetrics(stream);
    functionMetrics(fn);
    tableMetrics(table);

    // WHEN
    const template = Template.fromStack(stack);

    // THEN
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });
});
