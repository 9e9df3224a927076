import { CfnParameter, Duration, type Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { beforeAll, describe, expect, test } from 'vitest';
import { AlarmFactory, validateThresholds } from '../../../lib/monitoring/alarm-factory';
import { createTestStack, snapshotTemplate } from '../../helpers/template';

/** A metric with a statistic and period the factory must replace. */
function metric(metricName: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'Test',
    metricName,
    dimensionsMap: { name: 'orders' },
    statistic: 'Average',
    period: Duration.minutes(1),
  });
}

/** The properties of the alarm called `alarmName`. */
function alarmProperties(template: Template, alarmName: string) {
  const alarms = Object.values(
    template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: alarmName } }),
  );
  expect(alarms).toHaveLength(1);
  return alarms[0].Properties;
}

const DEFAULTS = {
  ComparisonOperator: 'GreaterThanThreshold',
  EvaluationPeriods: 1,
  TreatMissingData: 'notBreaching',
  Period: 300,
  Namespace: 'Test',
  Dimensions: [{ Name: 'name', Value: 'orders' }],
};

describe('AlarmFactory with default props and default thresholds', () => {
  let template: Template;
  let alarms: cloudwatch.Alarm[];

  beforeAll(() => {
    // GIVEN
    const { stack } = createTestStack();
    const factory = new AlarmFactory(stack, { alarmNamePrefix: 'Pipeline' });

    // WHEN
    alarms = [
      factory.deadLetterMessages('Orders-DeadLetterMessages', metric('Visible')),
      factory.ageOfOldestMessage('Orders-AgeOfOldestMessage', metric('Age')),
      factory.iteratorAge('Audit-IteratorAge', metric('IteratorAge')),
      factory.functionErrors('Orders-Errors', metric('Errors')),
      factory.functionThrottles('Orders-Throttles', metric('Throttles')),
    ];
    template = Template.fromStack(stack);
  });

  test('THEN it creates one alarm per call, with the id as construct ID', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    expect(alarms.map((alarm) => alarm.node.id)).toEqual([
      'Orders-DeadLetterMessages',
      'Orders-AgeOfOldestMessage',
      'Audit-IteratorAge',
      'Orders-Errors',
      'Orders-Throttles',
    ]);
  });

  test('THEN the dead-letter alarm fires on any visible message, on the maximum', () => {
    expect(alarmProperties(template, 'Pipeline-Orders-DeadLetterMessages')).toEqual({
      ...DEFAULTS,
      AlarmName: 'Pipeline-Orders-DeadLetterMessages',
      AlarmDescription: 'Pipeline-Orders-DeadLetterMessages: messages are in a dead-letter queue (above 0).',
      MetricName: 'Visible',
      Statistic: 'Maximum',
      Threshold: 0,
    });
  });

  test('THEN the age alarm fires when the oldest message is older than 300 seconds', () => {
    expect(alarmProperties(template, 'Pipeline-Orders-AgeOfOldestMessage')).toEqual({
      ...DEFAULTS,
      AlarmName: 'Pipeline-Orders-AgeOfOldestMessage',
      AlarmDescription: 'Pipeline-Orders-AgeOfOldestMessage: the oldest message is too old (above 300).',
      MetricName: 'Age',
      Statistic: 'Maximum',
      Threshold: 300,
    });
  });

  test('THEN the iterator age alarm fires above 60,000 milliseconds', () => {
    expect(alarmProperties(template, 'Pipeline-Audit-IteratorAge')).toEqual({
      ...DEFAULTS,
      AlarmName: 'Pipeline-Audit-IteratorAge',
      AlarmDescription: 'Pipeline-Audit-IteratorAge: the consumer lags the stream (above 60000).',
      MetricName: 'IteratorAge',
      Statistic: 'Maximum',
      Threshold: 60_000,
    });
  });

  test('THEN the error and throttle alarms fire on any error or throttle, on the sum', () => {
    expect(alarmProperties(template, 'Pipeline-Orders-Errors')).toEqual({
      ...DEFAULTS,
      AlarmName: 'Pipeline-Orders-Errors',
      AlarmDescription: 'Pipeline-Orders-Errors: the function fails (above 0).',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Threshold: 0,
    });
    expect(alarmProperties(template, 'Pipeline-Orders-Throttles')).toEqual({
      ...DEFAULTS,
      AlarmName: 'Pipeline-Orders-Throttles',
      AlarmDescription: 'Pipeline-Orders-Throttles: the function is throttled (above 0).',
      MetricName: 'Throttles',
      Statistic: 'Sum',
      Threshold: 0,
    });
  });

  test('THEN no alarm has an action', () => {
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: Match.absent(),
      OKActions: Match.absent(),
    });
  });

  test('THEN it matches the snapshot', () => {
    expect(snapshotTemplate(template)).toMatchSnapshot();
  });
});

describe('AlarmFactory thresholds and props', () => {
  test('GIVEN thresholds WHEN alarms are built THEN each alarm has its threshold in the unit of its metric', () => {
    // GIVEN
    const { stack } = createTestStack();
    const factory = new AlarmFactory(stack, { alarmNamePrefix: 'Pipeline' });

    // WHEN
    factory.deadLetterMessages('DeadLetterMessages', metric('Visible'), 3);
    factory.ageOfOldestMessage('AgeOfOldestMessage', metric('Age'), Duration.minutes(10));
    factory.iteratorAge('IteratorAge', metric('IteratorAge'), Duration.minutes(2));
    factory.functionErrors('Errors', metric('Errors'), 2);
    factory.functionThrottles('Throttles', metric('Throttles'), 4);

    // THEN
    const template = Template.fromStack(stack);
    expect(alarmProperties(template, 'Pipeline-DeadLetterMessages').Threshold).toBe(3);
    expect(alarmProperties(template, 'Pipeline-AgeOfOldestMessage').Threshold).toBe(600);
    expect(alarmProperties(template, 'Pipeline-IteratorAge').Threshold).toBe(120_000);
    expect(alarmProperties(template, 'Pipeline-IteratorAge').AlarmDescription).toBe(
      'Pipeline-IteratorAge: the consumer lags the stream (above 120000).',
    );
    expect(alarmProperties(template, 'Pipeline-Errors').Threshold).toBe(2);
    expect(alarmProperties(template, 'Pipeline-Throttles').Threshold).toBe(4);
  });

  test('GIVEN a period THEN every alarm evaluates that window', () => {
    // GIVEN
    const { stack } = createTestStack();
    const factory = new AlarmFactory(stack, { alarmNamePrefix: 'Pipeline', period: Duration.minutes(1) });

    // WHEN
    factory.deadLetterMessages('DeadLetterMessages', metric('Visible'));
    factory.functionErrors('Errors', metric('Errors'));

    // THEN
    Template.fromStack(stack).allResourcesProperties('AWS::CloudWatch::Alarm', { Period: 60 });
  });

  test('GIVEN an alarmTopic THEN every alarm notifies it on ALARM and on OK', () => {
    // GIVEN
    const { stack } = createTestStack();
    const topic = new sns.Topic(stack, 'Alarms');
    const factory = new AlarmFactory(stack, { alarmNamePrefix: 'Pipeline', alarmTopic: topic });

    // WHEN
    factory.deadLetterMessages('DeadLetterMessages', metric('Visible'));
    factory.iteratorAge('IteratorAge', metric('IteratorAge'));

    // THEN
    const topicRef = { Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) };
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [topicRef], OKActions: [topicRef] });
  });

  test('GIVEN a math expression THEN the alarm uses it as it is', () => {
    // GIVEN
    const { stack } = createTestStack();
    const factory = new AlarmFactory(stack, { alarmNamePrefix: 'Pipeline' });
    const expression = new cloudwatch.MathExpression({
      expression: 'errors + throttles',
      usingMetrics: { errors: metric('Errors'), throttles: metric('Throttles') },
    });

    // WHEN
    factory.functionErrors('Errors', expression);

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 0,
      Statistic: Match.absent(),
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'errors + throttles' })]),
    });
  });

  test('GIVEN a Token threshold THEN it passes through to the alarm', () => {
    // GIVEN
    const { stack } = createTestStack();
    const threshold = Token.asNumber(new CfnParameter(stack, 'P', { type: 'Number' }).valueAsNumber);
    const factory = new AlarmFactory(stack, { alarmNamePrefix: 'Pipeline' });

    // WHEN
    factory.deadLetterMessages('DeadLetterMessages', metric('Visible'), threshold);

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: { Ref: 'P' } });
  });
});

describe('validateThresholds', () => {
  const prefix = "PipelineMonitoring at 'TestStack/Monitoring' has invalid props:\n  - ";
  let scope: Construct;

  beforeAll(() => {
    scope = new Construct(createTestStack().stack, 'Monitoring');
  });

  test('GIVEN thresholds at the edges of their ranges THEN they are accepted', () => {
    expect(() =>
      validateThresholds(scope, {
        maxDeadLetterMessages: 0,
        maxFailureQueueMessages: 0,
        maxErrors: 0,
        maxThrottles: 0,
        maxAgeOfOldestMessage: Duration.days(14),
        maxIteratorAge: Duration.seconds(1),
      }),
    ).not.toThrow();
  });

  test('GIVEN Token thresholds THEN they are skipped', () => {
    // GIVEN
    const stack: Stack = createTestStack().stack;
    const value = Token.asNumber(new CfnParameter(stack, 'P', { type: 'Number' }).valueAsNumber);

    // WHEN / THEN
    expect(() =>
      validateThresholds(scope, {
        maxDeadLetterMessages: value,
        maxFailureQueueMessages: value,
        maxErrors: value,
        maxThrottles: value,
        maxAgeOfOldestMessage: Duration.seconds(value),
        maxIteratorAge: Duration.seconds(value),
      }),
    ).not.toThrow();
  });

  test.each(['maxDeadLetterMessages', 'maxFailureQueueMessages', 'maxErrors', 'maxThrottles'] as const)(
    'fails when %s is negative or fractional',
    (prop) => {
      expect(() => validateThresholds(scope, { [prop]: -1 })).toThrow(
        `${prefix}${prop} must be an integer of 0 or more, got -1`,
      );
      expect(() => validateThresholds(scope, { [prop]: 0.5 })).toThrow(
        `${prefix}${prop} must be an integer of 0 or more, got 0.5`,
      );
    },
  );

  test.each([
    [Duration.seconds(0), '0 seconds'],
    [Duration.days(15), '1296000 seconds (360 hours)'],
  ])('fails when maxAgeOfOldestMessage is %s', (maxAgeOfOldestMessage, described) => {
    expect(() => validateThresholds(scope, { maxAgeOfOldestMessage })).toThrow(
      `${prefix}maxAgeOfOldestMessage must be a whole number of seconds from 1 second to 1209600 seconds (336 hours), got ${described}`,
    );
  });

  test.each([
    [Duration.seconds(0), '0 seconds'],
    [Duration.days(8), '691200 seconds (192 hours)'],
    [Duration.millis(500), '0.5 seconds'],
  ])('fails when maxIteratorAge is %s', (maxIteratorAge, described) => {
    expect(() => validateThresholds(scope, { maxIteratorAge })).toThrow(
      `${prefix}maxIteratorAge must be a whole number of seconds from 1 second to 604800 seconds (168 hours), got ${described}`,
    );
  });
});
