/** What became of an idempotency key earlier in a batch: applied or found done (`done`), or failed (`failed`). */
export type KeyOutcome = 'done' | 'failed';

/**
 * The outcome of each idempotency key in one batch, so a later record with the same key follows the first without
 * a request: a duplicate of a done key is skipped, a duplicate of a failed key fails with it (and is retried with
 * it). A record dead-lettered for a permanent error counts as done: its duplicates are duplicates.
 */
export class InBatchDedupe {
  private readonly outcomes = new Map<string, KeyOutcome>();

  /** What became of `dedupeKey` earlier in the batch, if it was seen. */
  public earlierOutcome(dedupeKey: string): KeyOutcome | undefined {
    return this.outcomes.get(dedupeKey);
  }

  /** Records what became of `dedupeKey`. */
  public settle(dedupeKey: string, outcome: KeyOutcome): void {
    this.outcomes.set(dedupeKey, outcome);
  }
}
