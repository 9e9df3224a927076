import { describe, expect, test } from 'vitest';
import { MetricStore, metricKey, parseStatistic, type Statistic } from '../../../local/dashboard/metric-store';

const stat = (name: string) => parseStatistic(name) as Statistic;

describe('MetricStore', () => {
  test('GIVEN observations over three intervals THEN each statistic is computed over the datapoints of a window', () => {
    // Prepare
    const store = new MetricStore({ retentionMs: 60_000 });
    const key = metricKey({ namespace: 'AWS/Lambda', metricName: 'Duration', dimensions: { FunctionName: 'f' } });
    // Act
    for (const value of [10, 30]) store.observe(key, value);
    store.tick(2_000);
    store.observe(key, 20);
    store.tick(4_000);
    store.tick(6_000); // nothing observed: no datapoint
    // Assess
    expect(store.statistic(key, stat('Sum'), 0, 6_000)).toBe(60);
    expect(store.statistic(key, stat('SampleCount'), 0, 6_000)).toBe(3);
    expect(store.statistic(key, stat('Average'), 0, 6_000)).toBe(20);
    expect(store.statistic(key, stat('Minimum'), 0, 6_000)).toBe(10);
    expect(store.statistic(key, stat('Maximum'), 0, 6_000)).toBe(30);
    expect(store.statistic(key, stat('p50'), 0, 6_000)).toBe(20);
    expect(store.statistic(key, stat('p99'), 0, 6_000)).toBe(30);
    expect(store.statistic(key, stat('Sum'), 2_000, 4_000)).toBe(20);
    expect(store.statistic(key, stat('Sum'), 4_000, 6_000)).toBeUndefined();
  });

  test('GIVEN datapoints THEN periods aligned to the epoch hold one value each, null where nothing was observed', () => {
    const store = new MetricStore({ retentionMs: 60_000 });
    for (const [at, value] of [
      [12_000, 1],
      [14_000, 2],
      [32_000, 5],
    ]) {
      store.observe('k', value);
      store.tick(at);
    }

    expect(store.periods('k', stat('Sum'), 10_000, 11_000, 35_000)).toEqual({ start: 10_000, values: [3, null, 5] });
  });

  test('GIVEN datapoints older than the retention THEN they are dropped', () => {
    const store = new MetricStore({ retentionMs: 10_000 });
    store.observe('k', 1);
    store.tick(1_000);
    store.observe('k', 2);
    store.tick(20_000);

    expect(store.statistic('k', stat('Sum'), 0, 20_000)).toBe(2);
  });

  test('GIVEN more metrics than maxSeries THEN observations of new ones are dropped and counted', () => {
    const store = new MetricStore({ retentionMs: 10_000, maxSeries: 2 });
    for (const key of ['a', 'b', 'c']) store.observe(key, 1);

    expect(store.size).toBe(2);
    expect(store.droppedObservations).toBe(1);
  });

  test('GIVEN more values in an interval than kept for percentiles THEN the sample is bounded and the sums exact', () => {
    const store = new MetricStore({ retentionMs: 10_000, valuesPerDatapoint: 16 });
    for (let value = 1; value <= 1_000; value++) store.observe('k', value);
    store.tick(1_000);

    expect(store.statistic('k', stat('Sum'), 0, 1_000)).toBe(500_500);
    expect(store.statistic('k', stat('Maximum'), 0, 1_000)).toBe(1_000);
    const median = store.statistic('k', stat('p50'), 0, 1_000) as number;
    expect(median).toBeGreaterThan(100);
    expect(median).toBeLessThan(900);
  });

  test('the key of a metric does not depend on the order of its dimensions', () => {
    expect(metricKey({ namespace: 'N', metricName: 'M', dimensions: { b: '2', a: '1' } })).toBe(
      metricKey({ namespace: 'N', metricName: 'M', dimensions: { a: '1', b: '2' } }),
    );
  });

  test('parses the statistics computed locally, and not the others', () => {
    expect(parseStatistic('p99.9')).toEqual({ kind: 'percentile', percentile: 99.9 });
    expect(parseStatistic('Maximum')).toEqual({ kind: 'Maximum' });
    expect(parseStatistic('tm99')).toBeUndefined();
    expect(parseStatistic('IQR')).toBeUndefined();
  });
});
