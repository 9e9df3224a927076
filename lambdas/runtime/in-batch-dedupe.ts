/** What became of an idempotency key earlier in a batch: applied or found done (`done`), or failed (`failed`). */
export type KeyOutcome = 'done' | 'failed';

/**
 * The outcome of each idempotency key in one batch, so a later record with the same key follows the first without
 * a request: a duplicate of a done key is skipped, a duplicate of a failed key fails with it (and is retried with
 * it). A record dead-lettered for a permanent error counts as done: its duplicates are duplicates.
 */
export class InBatchDedupe {
  private readonly outcomes = new Map<string, KeyOutcome>();
  private readonly waiting = new Map<string, (outcome: KeyOutcome) => void>();
  private readonly firsts = new Set<string>();

  /**
   * @param records - the batch's records that passed their checks, in arrival order: each one's key in the batch
   *   (`recordKey`) and its dedupe key.
   */
  constructor(records: Iterable<readonly [recordKey: string, dedupeKey: string]> = []) {
    const seen = new Set<string>();
    for (const [recordKey, dedupeKey] of records) {
      if (seen.has(dedupeKey)) continue;
      seen.add(dedupeKey);
      this.firsts.add(recordKey);
    }
  }

  /** Whether the record is the first of its dedupe key in the batch: the one that applies it, for all of them. */
  public isFirst(recordKey: string): boolean {
    return this.firsts.has(recordKey);
  }

  /**
   * What became of `dedupeKey` earlier in the batch: resolves once the first record of the key settled. Await it
   * only from a later record of the key, once the first one has started: every record that starts settles its key.
   */
  public earlierOutcome(dedupeKey: string): Promise<KeyOutcome> {
    const outcome = this.outcomes.get(dedupeKey);
    if (outcome) return Promise.resolve(outcome);
    return new Promise((resolve) => {
      const before = this.waiting.get(dedupeKey);
      this.waiting.set(dedupeKey, (settled) => {
        before?.(settled);
        resolve(settled);
      });
    });
  }

  /** Records what became of `dedupeKey`. */
  public settle(dedupeKey: string, outcome: KeyOutcome): void {
    this.outcomes.set(dedupeKey, outcome);
    const waiting = this.waiting.get(dedupeKey);
    if (!waiting) return;
    this.waiting.delete(dedupeKey);
    waiting(outcome);
  }
}
