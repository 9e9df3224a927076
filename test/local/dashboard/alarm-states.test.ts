import { describe, expect, test } from 'vitest';
import { AlarmRuleSyntaxError, AlarmStates, parseRule } from '../../../local/dashboard/alarm-states';
import { alarmArn, type LocalAlarm, type LocalMetricAlarm } from '../../../local/dashboard/dashboard-model';
import { LocalMetrics } from '../../../local/dashboard/local-metrics';
import { metricKey } from '../../../local/dashboard/metric-store';

const metric = { namespace: 'EdaKit', metricName: 'FailedRecords', dimensions: { service: 'orders' } };
const key = metricKey(metric);

function metricAlarm(name: string, props: Partial<LocalMetricAlarm> = {}): LocalMetricAlarm {
  return {
    kind: 'metric',
    stackName: 'S',
    logicalId: name,
    name,
    arn: alarmArn(name),
    metric,
    stat: 'Sum',
    periodSeconds: 60,
    threshold: 0,
    comparisonOperator: 'GreaterThanThreshold',
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    treatMissingData: 'missing',
    ...props,
  };
}

/** Local metrics with `values[i]` observed in the i-th of consecutive 10 s periods ending at 60 s (undefined: none). */
function metricsWith(values: (number | undefined)[]): LocalMetrics {
  const metrics = new LocalMetrics();
  values.forEach((value, index) => {
    if (value !== undefined) metrics.store.observe(key, value);
    metrics.store.tick(60_000 - (values.length - 1 - index) * 10_000);
  });
  return metrics;
}

// Local periods are template periods over 6: 60 s is 10 s.
const periodMs = (seconds: number) => (seconds * 1000) / 6;

describe('AlarmStates', () => {
  test('GIVEN 2 of 3 periods breaching and DatapointsToAlarm 2 THEN ALARM, with the datapoints in the reason', () => {
    const alarm = metricAlarm('failed', { evaluationPeriods: 3, datapointsToAlarm: 2 });
    const states = new AlarmStates([alarm], metricsWith([1, 0, 2]), periodMs);

    states.evaluate(60_000);

    expect(states.status(alarm.arn)).toEqual({
      state: 'ALARM',
      reason:
        'Threshold crossed: 2 of the last 3 datapoints (periods of 10 s) greater than the threshold (0): [1, 0, 2]',
      since: 60_000,
    });
  });

  test('GIVEN 1 of 3 periods breaching and DatapointsToAlarm 2 THEN OK', () => {
    const alarm = metricAlarm('failed', { evaluationPeriods: 3, datapointsToAlarm: 2 });
    const states = new AlarmStates([alarm], metricsWith([0, 0, 2]), periodMs);

    states.evaluate(60_000);

    expect(states.status(alarm.arn).state).toBe('OK');
  });

  test.each([
    ['missing', 'INSUFFICIENT_DATA'],
    ['notBreaching', 'OK'],
    ['breaching', 'ALARM'],
  ])('GIVEN no data and TreatMissingData %s THEN %s', (treatMissingData, state) => {
    const alarm = metricAlarm('failed', { treatMissingData });
    const states = new AlarmStates([alarm], metricsWith([undefined]), periodMs);

    states.evaluate(60_000);

    expect(states.status(alarm.arn).state).toBe(state);
  });

  test('GIVEN no data and TreatMissingData ignore THEN the alarm keeps its state', () => {
    const alarm = metricAlarm('failed', { treatMissingData: 'ignore' });
    const metrics = metricsWith([3]);
    const states = new AlarmStates([alarm], metrics, periodMs);
    states.evaluate(60_000);

    states.evaluate(90_000); // the datapoint is older than the period now

    expect(states.status(alarm.arn)).toMatchObject({ state: 'ALARM', since: 60_000 });
  });

  test('GIVEN an alarm on metric math THEN INSUFFICIENT_DATA, saying it is not evaluated locally', () => {
    const alarm = metricAlarm('math', {
      metric: undefined,
      unsupported: 'an alarm on metric math is not evaluated locally',
    });
    const states = new AlarmStates([alarm], metricsWith([1]), periodMs);

    states.evaluate(60_000);

    expect(states.status(alarm.arn)).toMatchObject({
      state: 'INSUFFICIENT_DATA',
      reason: 'an alarm on metric math is not evaluated locally',
    });
  });

  test('GIVEN a composite alarm over names and ARNs THEN it follows its rule, AND before OR', () => {
    const red = metricAlarm('red', { treatMissingData: 'breaching' });
    const green = metricAlarm('green', { treatMissingData: 'notBreaching' });
    const composite = (name: string, rule: string): LocalAlarm => ({
      kind: 'composite',
      stackName: 'S',
      logicalId: name,
      name,
      arn: alarmArn(name),
      rule,
    });
    const alarms = [
      red,
      green,
      composite('any', `ALARM("${green.arn}") OR ALARM(red)`),
      composite('both', `ALARM(green) AND ALARM(red)`),
      composite('precedence', 'ALARM(red) OR ALARM(green) AND FALSE'),
      composite('of-composite', 'NOT ALARM(both) AND OK(green)'),
      composite('unknown', 'ALARM(nowhere)'),
    ];
    const states = new AlarmStates(alarms, metricsWith([undefined]), periodMs);

    states.evaluate(60_000);

    const state = (name: string) => states.status(alarmArn(name)).state;
    expect(['any', 'both', 'precedence', 'of-composite', 'unknown'].map(state)).toEqual([
      'ALARM',
      'OK',
      'ALARM',
      'ALARM',
      'INSUFFICIENT_DATA',
    ]);
    expect(states.status(alarmArn('any')).reason).toBe('its rule is true; in ALARM: red');
  });
});

describe('parseRule', () => {
  test('reads quoted and bare alarm names, NOT, parentheses and constants', () => {
    expect(parseRule('NOT (ALARM("a") OR OK(b)) AND TRUE')).toEqual({
      kind: 'and',
      left: {
        kind: 'not',
        operand: {
          kind: 'or',
          left: { kind: 'state', state: 'ALARM', alarm: 'a' },
          right: { kind: 'state', state: 'OK', alarm: 'b' },
        },
      },
      right: { kind: 'constant', value: true },
    });
  });

  test('fails when the rule is not CloudWatch syntax, saying where', () => {
    expect(() => parseRule('ALARM("a") XOR ALARM("b")')).toThrow(
      new AlarmRuleSyntaxError('ALARM("a") XOR ALARM("b")', "unexpected 'XOR ALARM(' at character 12"),
    );
  });
});
