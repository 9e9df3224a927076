import { describe, expect, test } from 'vitest';
import type { TemplateResource } from '../../../local/assembly';
import { alarmArn, readMonitoring } from '../../../local/dashboard/dashboard-model';
import { renderMarkdown } from '../../../local/dashboard/markdown';
import { IntrinsicResolver, type LocalResource } from '../../../local/intrinsics';
import type { ProvisionedStack } from '../../../local/provision';

/** A stack as the local cloud provisioned it: `local` are the identities it gave. */
function provisioned(template: Record<string, TemplateResource>, local: Record<string, LocalResource>) {
  const resources = new Map(Object.entries(local));
  const stack = {
    stackName: 'Shop',
    directory: '.',
    templateFile: 'Shop.template.json',
    resources: template,
    outputs: {},
  };
  return {
    stack,
    resources,
    resolver: new IntrinsicResolver('Shop', resources),
    queueAttributes: new Map(),
  } as ProvisionedStack;
}

const queue: LocalResource = {
  type: 'AWS::SQS::Queue',
  ref: 'http://127.0.0.1/000000000000/Shop-Queue',
  attributes: { QueueName: 'Shop-Queue', Arn: 'arn:aws:sqs:us-east-1:000000000000:Shop-Queue' },
};

describe('readMonitoring', () => {
  test('GIVEN a dashboard body of strings and tokens THEN its widgets are read with local names, shorthands expanded', () => {
    // Prepare: a body as CDK writes it (Fn::Join), with CloudWatch's "." and "..." shorthands and a math line
    const body = JSON.stringify({
      widgets: [
        { type: 'text', x: 0, y: 0, width: 24, height: 1, properties: { markdown: '## Orders' } },
        {
          type: 'metric',
          x: 0,
          y: 1,
          width: 12,
          height: 6,
          properties: {
            title: 'Queue',
            stat: 'Maximum',
            period: 60,
            metrics: [
              ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', 'TOKEN', { label: 'visible' }],
              ['.', 'ApproximateNumberOfMessagesNotVisible', '.', '.', { yAxis: 'right' }],
              ['...', 'other-queue', { stat: 'p99', period: 300 }],
              [{ expression: 'm1 + m2', label: 'total', id: 'e1' }],
            ],
          },
        },
        { type: 'alarm', properties: { title: 'Alarms', alarms: ['ALARM_ARN'] } },
      ],
    });
    const [before, middle, after] = body.split(/TOKEN|ALARM_ARN/);
    const stack = provisioned(
      {
        Queue: { Type: 'AWS::SQS::Queue' },
        Dashboard: {
          Type: 'AWS::CloudWatch::Dashboard',
          Properties: {
            DashboardBody: {
              'Fn::Join': [
                '',
                [before, { 'Fn::GetAtt': ['Queue', 'QueueName'] }, middle, { 'Fn::GetAtt': ['Alarm', 'Arn'] }, after],
              ],
            },
          },
        },
        Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'M', Namespace: 'N' } },
      },
      { Queue: queue },
    );

    // Act
    const { dashboards } = readMonitoring([stack]);

    // Assess
    const [dashboard] = dashboards;
    expect(dashboard.name).toBe('Shop-Dashboard');
    expect(dashboard.widgets.map((widget) => [widget.type, widget.x, widget.y, widget.width, widget.height])).toEqual([
      ['text', 0, 0, 24, 1],
      ['metric', 0, 1, 12, 6],
      // No position: placed after the widgets above, as CloudWatch flows them
      ['alarm', 12, 1, 6, 6],
    ]);
    expect(dashboard.widgets[1].metrics).toEqual([
      expect.objectContaining({
        metric: {
          namespace: 'AWS/SQS',
          metricName: 'ApproximateNumberOfMessagesVisible',
          dimensions: { QueueName: 'Shop-Queue' },
        },
        label: 'visible',
        stat: 'Maximum',
        periodSeconds: 60,
        yAxis: 'left',
      }),
      expect.objectContaining({
        metric: {
          namespace: 'AWS/SQS',
          metricName: 'ApproximateNumberOfMessagesNotVisible',
          dimensions: { QueueName: 'Shop-Queue' },
        },
        yAxis: 'right',
      }),
      expect.objectContaining({
        metric: {
          namespace: 'AWS/SQS',
          metricName: 'ApproximateNumberOfMessagesNotVisible',
          dimensions: { QueueName: 'other-queue' },
        },
        stat: 'p99',
        periodSeconds: 300,
      }),
      expect.objectContaining({ expression: 'm1 + m2', label: 'total' }),
    ]);
    expect(dashboard.widgets[2].alarms).toEqual([alarmArn('Shop-Alarm')]);
  });

  test('GIVEN alarms THEN they get their AlarmName (else a name of the stack) and local ARNs, dimensions resolved', () => {
    const stack = provisioned(
      {
        Queue: { Type: 'AWS::SQS::Queue' },
        Named: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            AlarmName: 'orders-dlq',
            Namespace: 'AWS/SQS',
            MetricName: 'ApproximateNumberOfMessagesVisible',
            Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['Queue', 'QueueName'] } }],
            Statistic: 'Maximum',
            Period: 300,
            Threshold: 0,
            ComparisonOperator: 'GreaterThanThreshold',
            EvaluationPeriods: 3,
            DatapointsToAlarm: 2,
            TreatMissingData: 'notBreaching',
          },
        },
        Math: { Type: 'AWS::CloudWatch::Alarm', Properties: { Metrics: [], Threshold: 1, EvaluationPeriods: 1 } },
        Pipeline: {
          Type: 'AWS::CloudWatch::CompositeAlarm',
          Properties: {
            AlarmName: 'pipeline',
            AlarmRule: { 'Fn::Join': ['', ['ALARM("', { 'Fn::GetAtt': ['Named', 'Arn'] }, '")']] },
          },
        },
      },
      { Queue: queue },
    );

    const { alarms } = readMonitoring([stack]);

    expect(alarms).toEqual([
      expect.objectContaining({
        kind: 'metric',
        name: 'orders-dlq',
        arn: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:orders-dlq',
        metric: {
          namespace: 'AWS/SQS',
          metricName: 'ApproximateNumberOfMessagesVisible',
          dimensions: { QueueName: 'Shop-Queue' },
        },
        stat: 'Maximum',
        periodSeconds: 300,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: 'notBreaching',
      }),
      expect.objectContaining({
        name: 'Shop-Math',
        unsupported: 'an alarm on metric math is not evaluated locally',
      }),
      expect.objectContaining({ kind: 'composite', name: 'pipeline', rule: `ALARM("${alarmArn('orders-dlq')}")` }),
    ]);
  });

  test('GIVEN a token the local cloud cannot answer THEN it stays visible as a placeholder', () => {
    const body = {
      'Fn::Join': [
        '',
        ['{"widgets":[{"type":"text","properties":{"markdown":"', { 'Fn::GetAtt': ['Topic', 'TopicName'] }, '"}}]}'],
      ],
    };
    const stack = provisioned(
      {
        Topic: { Type: 'AWS::SNS::Topic' },
        Dashboard: { Type: 'AWS::CloudWatch::Dashboard', Properties: { DashboardBody: body } },
      },
      {},
    );

    const [dashboard] = readMonitoring([stack]).dashboards;

    expect(dashboard.widgets[0].markdown).toBe('<Topic.TopicName>');
  });
});

describe('renderMarkdown', () => {
  test('renders headings, lists, emphasis and links, and escapes the rest', () => {
    expect(renderMarkdown('## Orders <b>\n\n- **one**\n- `two`\n\nSee [docs](https://example.com) *now*')).toBe(
      [
        '<h2>Orders &lt;b&gt;</h2>',
        '<ul><li><strong>one</strong></li><li><code>two</code></li></ul>',
        '<p>See <a href="https://example.com" target="_blank" rel="noopener">docs</a> <em>now</em></p>',
      ].join('\n'),
    );
  });
});
