import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  applyWhenKeyFree,
  FIRST_IN_PROGRESS_WAIT_MS,
  LONGEST_IN_PROGRESS_WAIT_MS,
  TIME_LEFT_AFTER_WAIT_MS,
} from '../../../lambdas/runtime/in-progress-backoff';

const inProgress = () => new IdempotencyAlreadyInProgressError('There is already an execution in progress');

/** An `apply` that is refused as in progress `refusals` times, then succeeds; it notes when each call came. */
function refusedTimes(refusals: number) {
  const calledAtMs: number[] = [];
  const apply = vi.fn(async () => {
    calledAtMs.push(Date.now());
    if (calledAtMs.length <= refusals) throw inProgress();
    return 'applied';
  });
  return { apply, calledAtMs };
}

describe('applyWhenKeyFree', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('GIVEN a key freed after two refusals THEN it waits 50 then 100 ms and applies', async () => {
    const { apply, calledAtMs } = refusedTimes(2);

    const result = applyWhenKeyFree(apply, () => 60_000);
    await vi.runAllTimersAsync();

    await expect(result).resolves.toBe('applied');
    expect(calledAtMs).toEqual([0, FIRST_IN_PROGRESS_WAIT_MS, FIRST_IN_PROGRESS_WAIT_MS * 3]);
  });

  test('GIVEN a key that stays in progress THEN it gives up after the longest wait, rethrowing', async () => {
    const { apply, calledAtMs } = refusedTimes(Number.POSITIVE_INFINITY);

    const result = applyWhenKeyFree(apply, () => 60_000);
    const settled = expect(result).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);
    await vi.runAllTimersAsync();
    await settled;

    // 50, 100, 200, 400, 800, 1600: six waits, seven tries.
    const waits = calledAtMs.slice(1).map((at, index) => at - calledAtMs[index]);
    expect(waits).toEqual([50, 100, 200, 400, 800, 1_600]);
    expect(Math.max(...waits)).toBe(LONGEST_IN_PROGRESS_WAIT_MS);
  });

  test('GIVEN too little time left for a wait THEN it rethrows without waiting', async () => {
    const { apply } = refusedTimes(1);

    const result = applyWhenKeyFree(apply, () => TIME_LEFT_AFTER_WAIT_MS + FIRST_IN_PROGRESS_WAIT_MS - 1);

    await expect(result).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);
    expect(apply).toHaveBeenCalledTimes(1);
  });

  test('GIVEN another error THEN it rethrows at once', async () => {
    const apply = vi.fn(async () => {
      throw new Error('throttled');
    });

    await expect(applyWhenKeyFree(apply, () => 60_000)).rejects.toThrow('throttled');
    expect(apply).toHaveBeenCalledTimes(1);
  });
});
