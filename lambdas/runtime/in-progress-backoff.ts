import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';

/** The first wait for a key another invocation holds in progress; each later wait is twice the one before. */
export const FIRST_IN_PROGRESS_WAIT_MS = 50;
/**
 * The longest single wait: with the waits before it (50, 100 ... 1,600 ms), about 3 s in all, past which the other
 * invocation is more likely stuck than slow.
 */
export const LONGEST_IN_PROGRESS_WAIT_MS = 1_600;
/**
 * The time a wait must leave before the function times out, for this record's own work and the rest of the batch.
 */
export const TIME_LEFT_AFTER_WAIT_MS = 5_000;

/**
 * Runs `apply`; while another invocation holds the key in progress, waits for it a little (it usually completes
 * within moments) and tries again, instead of failing at once, which would send the record back for a whole
 * visibility timeout. Gives up, rethrowing Powertools' `IdempotencyAlreadyInProgressError` so the platform retries
 * the record, after the longest wait or before the invocation runs short of time. Any other error is rethrown at once.
 *
 * @param apply - applies the record; rejects with `IdempotencyAlreadyInProgressError` while its key is in progress.
 * @param remainingMs - the invocation's remaining time (`context.getRemainingTimeInMillis`).
 */
export async function applyWhenKeyFree<T>(apply: () => Promise<T>, remainingMs: () => number): Promise<T> {
  for (let waitMs = FIRST_IN_PROGRESS_WAIT_MS; ; waitMs *= 2) {
    try {
      return await apply();
    } catch (error) {
      const inProgress = error instanceof IdempotencyAlreadyInProgressError;
      if (!inProgress || waitMs > LONGEST_IN_PROGRESS_WAIT_MS || remainingMs() < waitMs + TIME_LEFT_AFTER_WAIT_MS) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}
