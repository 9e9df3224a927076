/**
 * What flows through the app, and how long things take: the figures the template cannot give. The user gives the
 * first few (`eda-kit cost --rate ... --record-bytes ...`); the rest are estimates, each with where it comes from.
 *
 * @module
 */

/** DynamoDB requests the idempotency store makes per record (each writes an item under 1 KB: 1 WRU). */
export interface IdempotencyRequests {
  /** A new key: conditional PutItem (INPROGRESS) + UpdateItem (COMPLETED). */
  readonly newWrites: number;
  /** A duplicate of a key earlier in the same batch (the kit settles it in memory). */
  readonly duplicateInBatchWrites: number;
  /** A duplicate of a key completed in an earlier invocation, not in the local cache: the failed PutItem. */
  readonly duplicateAcrossInvocationsWrites: number;
  /** Reads for such a duplicate: 0 on AWS, which returns the stored record with the failed PutItem. */
  readonly duplicateAcrossInvocationsReads: number;
}

/** The workload the app is costed at. Every field is an assumption the output states. */
export interface Workload {
  /** Events entering the app per second, steady (`--rate`): every entry point receives each. */
  readonly eventsPerSecond: number;
  /** Bytes of one event as a producer sends it (`--record-bytes`). */
  readonly recordBytes: number;
  /**
   * Share of events that repeat an earlier event's business key (`--duplicate-share`): a producer's retry, a new
   * event (new ID) for the same thing. A consumer keyed by that key treats it as a duplicate.
   */
  readonly duplicateShare: number;
  /** Seconds between an event and its repeat (`--retry-delay`). */
  readonly retryDelaySeconds: number;
  /**
   * DynamoDB write units of one record's effect (`--effect-writes`), for a consumer whose environment names a
   * table of the app; a consumer that names none writes nothing the model sees.
   */
  readonly effectWrites: number;
  /** Share of records that match a mapping's filter criteria (`--filter-match`); mappings without filters: all. */
  readonly filterMatchShare: number;
  /** Distinct Kinesis partition keys at a time (`--partition-keys`): how many keys a batch can process at once. */
  readonly partitionKeys: number;
  /** Wall time of one DynamoDB request from Lambda (`--latency-ms`). */
  readonly dynamoDBLatencyMs: number;
  /** Wall time of a producer's sends (made at once), or of one send a consumer makes onward. */
  readonly publishLatencyMs: number;
  /** CPU time to parse, validate and issue the requests of one record, on one full vCPU (`--cpu-ms`). */
  readonly cpuMsPerRecord: number;
  /** CPU time each invocation spends besides its records (event decoding, batch response, metrics flush). */
  readonly cpuMsPerInvocation: number;
  /** Keys (SQS: idempotency keys; Kinesis: partition keys) processed at once: the runtime kit's `maxConcurrency`. */
  readonly maxConcurrency: number;
  /** Share of later-invocation duplicates the kit finds in its in-memory cache of completed keys (0 requests). */
  readonly cachedDuplicates: number;
  readonly idempotencyRequests: IdempotencyRequests;
  /** CloudWatch Logs bytes per invocation: START/END/REPORT lines, one EMF document or log line, 26 B per event. */
  readonly logBytesPerInvocation: number;
  /** CloudWatch Logs bytes per record (its values in the EMF document). */
  readonly logBytesPerRecord: number;
  /** How long the advice may let a record wait in a batching window (`--window-budget`); 0: no window advice. */
  readonly windowBudgetSeconds: number;
}

/** The default workload, each value with where it comes from. */
export const DEFAULT_WORKLOAD: Workload = {
  eventsPerSecond: 100,
  recordBytes: 1024,
  duplicateShare: 0,
  // A producer retries after its first attempt timed out, not at once.
  retryDelaySeconds: 1,
  effectWrites: 1,
  filterMatchShare: 1,
  partitionKeys: 100,
  // bench/runtime.ts --latency-ms.
  dynamoDBLatencyMs: 5,
  // SendMessage and PutRecord within a region.
  publishLatencyMs: 10,
  // Estimates, not measurements: JSON, valibot, a hash and three signed SDK requests per record.
  cpuMsPerRecord: 0.5,
  cpuMsPerInvocation: 0.3,
  // createQueueConsumer / createStreamConsumer default.
  maxConcurrency: 10,
  // Conservative: every later duplicate meets a new execution environment (bench: 0 requests when warm).
  cachedDuplicates: 0,
  // bench/runtime.ts: ddb.requestsPerRecord.new and .duplicateInBatch; on AWS, the failed PutItem of a later
  // duplicate returns the stored record (dynalite needs a GetItem too).
  idempotencyRequests: {
    newWrites: 2,
    duplicateInBatchWrites: 0,
    duplicateAcrossInvocationsWrites: 1,
    duplicateAcrossInvocationsReads: 0,
  },
  // START (~75 B), END (~55 B), REPORT (~160 B), one EMF document or JSON log line (~600 B), 26 B per log event.
  logBytesPerInvocation: 1000,
  // A record's values in the EMF document (RecordAge, ProcessedRecords).
  logBytesPerRecord: 8,
  windowBudgetSeconds: 1,
};

/** Overrides of the default workload; `idempotencyRequests` merges field by field. */
export type WorkloadOverrides = Partial<Omit<Workload, 'idempotencyRequests'>> & {
  readonly idempotencyRequests?: Partial<IdempotencyRequests>;
};

/** {@link DEFAULT_WORKLOAD} with `overrides`. */
export function workloadOf(overrides: WorkloadOverrides = {}): Workload {
  return {
    ...DEFAULT_WORKLOAD,
    ...overrides,
    idempotencyRequests: { ...DEFAULT_WORKLOAD.idempotencyRequests, ...overrides.idempotencyRequests },
  };
}

/** Distinct business keys per second: events less their repeats. */
export function keysPerSecond(workload: Workload): number {
  return workload.eventsPerSecond * (1 - workload.duplicateShare);
}
