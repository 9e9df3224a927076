/** What became of an idempotency key earlier in a batch: applied or found done (`done`), or failed (`failed`). */
export type KeyOutcome = 'done' | 'failed';

/**
 * The outcome of each idempotency key in one batch, so a later record with the same key follows the first without
 * a request: a duplicate of a done key is skipped, a duplicate of a failed key fails with it (and is retried with
 * it). A record dead-lettered for a permanent error counts as done: its duplicates are duplicates.
 */
export class InBatchDedupe {
  private readonly outcomes = new Map<string, KeyOutcome>();
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

  /** What became of `dedupeKey` earlier in the batch, if it was seen. */
  public earlierOutcome(dedupeKey: string): KeyOutcome | undefined {
    return this.outcomes.get(dedupeKey);
  }

  /** Records what became of `dedupeKey`. */
  public settle(dedupeKey: string, outcome: KeyOutcome): void {
    this.outcomes.set(dedupeKey, outcome);
  }
}
