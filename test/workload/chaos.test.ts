import { expect, test } from 'vitest';
import { runChaos } from '../../workload/chaos';

test('GIVEN every fault kind injected while orders flow THEN recovery leaves each effect exactly once and nothing lost', async () => {
  // A small run of `npm run chaos`: its own emulators and local cloud, faults at about one call in ten.
  const report = await runChaos({
    events: 24,
    // A kill after a conditional write is drawn per invocation: at 0.3, a run this small is sure to have some.
    rates: { throw: 0.1, kill: 0.05, killAfterEffect: 0.3, hang: 0.02, dynamodb: 0.05, poller: 0.05 },
    duplicates: 0.25,
    invalid: 0.1,
    seed: 11,
    // Shorter than `npm run chaos`: hangs are killed after 3 s, failed messages come back after 3 s, and what the
    // faults push out is put back every 2 s.
    functionTimeoutSeconds: 3,
    visibilityTimeoutSeconds: 3,
    recoveryIntervalSeconds: 2,
  });

  // The faults did happen: DynamoDB and the pollers' calls fail often enough at these rates to be certain.
  const injected = (prefix: string) =>
    Object.entries(report.faults)
      .filter(([kind]) => kind.startsWith(prefix))
      .reduce((sum, [, count]) => sum + count, 0);
  expect(injected('dynamodb:')).toBeGreaterThan(0);
  expect(injected('poller:')).toBeGreaterThan(0);
  // The consumers' conditional writes are seen on the wire, and some are followed by a kill.
  expect(report.faults.killAfterEffect ?? 0).toBeGreaterThan(0);
  expect(report.retries).toBeGreaterThan(0);
  expect(report.environments.coldStarts).toBeGreaterThan(Object.keys(report.consumers).length);
  // And the invariants held: every valid event's effect once per consumer, every invalid event in each DLQ once.
  expect(report.invalidInjected).toBeGreaterThan(0);
  for (const consumer of Object.values(report.consumers)) {
    expect(consumer.effects).toBe(consumer.expectedEffects);
    expect(consumer.dlqDistinct).toBe(consumer.expectedDlq);
  }
  // An environment killed between sending a dead letter and marking it leaves a second copy (never a lost one),
  // counted apart: delivered twice, counted once.
  const killed = (report.faults.kill ?? 0) + (report.faults.killAfterEffect ?? 0) + (report.faults.hang ?? 0);
  expect(report.extraDeadLetterCopies).toBeLessThanOrEqual(killed);
  expect(report.lost).toBe(0);
  expect(report.duplicatedEffects).toBe(0);
  // Where the time went, phase by phase.
  expect(report.phases.total).toBeGreaterThanOrEqual(
    report.phases.start + report.phases.publish + report.phases.processing + report.phases.tail,
  );
}, 400_000);
