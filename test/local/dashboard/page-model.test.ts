import { describe, expect, test } from 'vitest';
import { AlarmStates } from '../../../local/dashboard/alarm-states';
import {
  alarmArn,
  type DashboardWidget,
  type LocalDashboard,
  type LocalMetricAlarm,
} from '../../../local/dashboard/dashboard-model';
import { LocalMetrics } from '../../../local/dashboard/local-metrics';
import { type MetricIdentity, metricKey } from '../../../local/dashboard/metric-store';
import { DashboardPage } from '../../../local/dashboard/page-model';

const records = { namespace: 'EdaKit', metricName: 'ProcessedRecords', dimensions: { service: 'orders' } };
const throttles = { namespace: 'AWS/DynamoDB', metricName: 'ReadThrottleEvents', dimensions: { TableName: 't' } };
const widget = (props: Partial<DashboardWidget>): DashboardWidget => ({
  type: 'metric',
  x: 0,
  y: 0,
  width: 6,
  height: 6,
  metrics: [],
  alarms: [],
  horizontalAnnotations: [],
  view: 'timeSeries',
  ...props,
});
const line = (metric: MetricIdentity, stat = 'Sum') => ({
  metric,
  label: metric.metricName,
  stat,
  periodSeconds: 60,
  yAxis: 'left' as const,
  visible: true,
});
const alarm: LocalMetricAlarm = {
  kind: 'metric',
  stackName: 'S',
  logicalId: 'A',
  name: 'orders-processed',
  arn: alarmArn('orders-processed'),
  metric: records,
  stat: 'Sum',
  periodSeconds: 300,
  threshold: 10,
  comparisonOperator: 'GreaterThanThreshold',
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
  treatMissingData: 'notBreaching',
};

function page(widgets: DashboardWidget[]) {
  const metrics = new LocalMetrics();
  const periodMs = (seconds: number) => Math.max(2_000, (seconds * 1000) / 6);
  const dashboard: LocalDashboard = { stackName: 'S', logicalId: 'D', name: 'D', widgets };
  const built = new DashboardPage([dashboard], new AlarmStates([alarm], metrics, periodMs), metrics, {
    periodScale: 6,
    sampleSeconds: 2,
    windowMinutes: 30,
    periodMs,
    notices: [],
  });
  return { built, metrics, widgets: built.model.dashboards[0].widgets };
}

describe('DashboardPage', () => {
  test('GIVEN a graph with a line that has a local source and one that has none THEN it draws the first and names the second', () => {
    const { built, metrics, widgets } = page([widget({ metrics: [line(records), line(throttles)] })]);
    metrics.store.observe(metricKey(records), 4);
    metrics.store.tick(20_000);

    expect(widgets[0].lines.map((each) => each.local)).toEqual([true, false]);
    expect(widgets[0].missing).toEqual([
      'no local source for AWS/DynamoDB ReadThrottleEvents (dynalite does not throttle)',
    ]);
    expect(widgets[0].spec).toBeDefined();
    // A 1-minute period is 10 s locally
    expect(built.data(20_000, 0).widgets[widgets[0].id]).toEqual([
      { start: 0, step: 10_000, values: [null, 4, null] },
      null,
    ]);
  });

  test('GIVEN a graph of an alarm (AlarmWidget) THEN it draws the alarm metric and its threshold', () => {
    const { widgets } = page([widget({ alarms: [alarm.arn] })]);

    expect(widgets[0].lines).toEqual([expect.objectContaining({ label: 'ProcessedRecords', local: true })]);
    expect(JSON.stringify(widgets[0].spec)).toContain('"values":[{"value":10,"label":"orders-processed"}]');
  });

  test('GIVEN a single value widget, a line with a statistic not computed locally and an unknown widget type THEN each says what it shows', () => {
    const { widgets } = page([
      widget({ view: 'singleValue', metrics: [line(records)] }),
      widget({ metrics: [line(records, 'tm99')] }),
      widget({ type: 'log' }),
    ]);

    expect(widgets[0].spec).toBeUndefined();
    expect(widgets[0].lines[0].local).toBe(true);
    expect(widgets[1].missing).toEqual(['the statistic tm99 of ProcessedRecords is not computed locally']);
    expect(widgets[2].missing).toEqual(['no local source for a widget of type log']);
  });
});
