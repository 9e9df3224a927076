import { expect, test } from 'vitest';
import { runChaos } from '../../local/chaos';

test('GIVEN faults of every kind injected into the reference app THEN after recovery nothing is lost and no effect is applied twice', async () => {
  // A small run of npm run chaos: 40 orders, 10% sent twice, 5% of everything fails.
  const report = await runChaos({
    events: 40,
    duplicates: 0.1,
    invalid: 0.05,
    seed: 7,
    rates: { throw: 0.05, kill: 0.03, killAfterEffect: 0.03, hang: 0.01, dynamodb: 0.05, poller: 0.05 },
  });

  expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
  expect(Object.keys(report.faults).length).toBeGreaterThanOrEqual(4);
  expect(report.lost).toBe(0);
  expect(report.duplicatedEffects).toBe(0);
  for (const [label, consumer] of Object.entries(report.consumers)) {
    expect(consumer.effects, label).toBe(consumer.expectedEffects);
    expect(consumer.dlq, label).toBe(consumer.expectedDlq);
  }
}, 240_000);
