/**
 * The flags of `eda-kit cost`: each parser refuses a value out of its range with one line that names the range
 * and the value given (commander adds the flag), and the command exits 2.
 *
 * @module
 */
import { InvalidArgumentError } from 'commander';
import type { WorkloadOverrides } from './workload';

/** A number from `min` to `max` (`above`: strictly above `min`), whole if `whole`, in `what`. */
export function numberIn(
  what: string,
  range: { readonly min: number; readonly max: number; readonly above?: boolean; readonly whole?: boolean },
): (value: string) => number {
  const expected = `${range.whole ? 'a whole number of ' : ''}${what} ${range.above ? 'above' : 'from'} ${range.min} ${range.above ? 'and up to' : 'to'} ${range.max.toLocaleString('en-US')}`;
  return (value) => {
    const parsed = value.trim() === '' ? Number.NaN : Number(value);
    const inRange =
      Number.isFinite(parsed) && (range.above ? parsed > range.min : parsed >= range.min) && parsed <= range.max;
    if (!inRange || (range.whole && !Number.isInteger(parsed))) {
      throw new InvalidArgumentError(`expected ${expected}, got '${value}'`);
    }
    return parsed;
  };
}

/** Every flag of `eda-kit cost` with its parser and default: the workload figures first. */
export const COST_FLAGS = {
  rate: {
    flags: '--rate <events>',
    description: 'events entering the app per second, steady (every entry point receives each)',
    parse: numberIn('events per second', { min: 0, above: true, max: 1_000_000 }),
    default: 100,
  },
  recordBytes: {
    flags: '--record-bytes <bytes>',
    description: 'bytes of one event as a producer sends it',
    parse: numberIn('bytes', { min: 1, max: 1_048_576, whole: true }),
    default: 1024,
  },
  duplicateShare: {
    flags: '--duplicate-share <share>',
    description: "share of events that repeat an earlier event's business key (a producer's retry)",
    parse: numberIn('a share', { min: 0, max: 0.99 }),
    default: 0,
  },
  effectWrites: {
    flags: '--effect-writes <units>',
    description: "DynamoDB write units of one record's effect, for each consumer whose environment names a table",
    parse: numberIn('write units per record', { min: 0, max: 100 }),
    default: 1,
  },
  retryDelay: {
    flags: '--retry-delay <seconds>',
    description: 'seconds between an event and its repeat',
    parse: numberIn('seconds', { min: 0, max: 86_400 }),
    default: 1,
  },
  partitionKeys: {
    flags: '--partition-keys <n>',
    description: 'distinct Kinesis partition keys at a time',
    parse: numberIn('partition keys', { min: 1, max: 10_000_000, whole: true }),
    default: 100,
  },
  filterMatch: {
    flags: '--filter-match <share>',
    description: "share of records that match a mapping's filter criteria (mappings without filters: all)",
    parse: numberIn('a share', { min: 0, above: true, max: 1 }),
    default: 1,
  },
  latencyMs: {
    flags: '--latency-ms <ms>',
    description: 'wall time of one DynamoDB request',
    parse: numberIn('milliseconds', { min: 0, max: 1000 }),
    default: 5,
  },
  cpuMs: {
    flags: '--cpu-ms <ms>',
    description: 'CPU time of one record on one full vCPU',
    parse: numberIn('milliseconds', { min: 0, max: 10_000 }),
    default: 0.5,
  },
  windowBudget: {
    flags: '--window-budget <seconds>',
    description: 'how long the advice may let a record wait in a batching window (0: no window advice)',
    parse: numberIn('seconds', { min: 0, max: 300, whole: true }),
    default: 1,
  },
  epuHourUsd: {
    flags: '--epu-hour-usd <usd>',
    description: 'price of an SQS event poller unit-hour (provisioned mode), instead of the prices file',
    parse: numberIn('US dollars', { min: 0, above: true, max: 100 }),
  },
} as const;

/** The parsed flags of `eda-kit cost`. */
export interface CostFlags {
  readonly rate: number;
  readonly recordBytes: number;
  readonly duplicateShare: number;
  readonly effectWrites: number;
  readonly retryDelay: number;
  readonly partitionKeys: number;
  readonly filterMatch: number;
  readonly latencyMs: number;
  readonly cpuMs: number;
  readonly windowBudget: number;
  readonly epuHourUsd?: number;
}

/** The workload the flags describe. */
export function workloadFromFlags(flags: CostFlags): WorkloadOverrides {
  return {
    eventsPerSecond: flags.rate,
    recordBytes: flags.recordBytes,
    duplicateShare: flags.duplicateShare,
    effectWrites: flags.effectWrites,
    retryDelaySeconds: flags.retryDelay,
    partitionKeys: flags.partitionKeys,
    filterMatchShare: flags.filterMatch,
    dynamoDBLatencyMs: flags.latencyMs,
    cpuMsPerRecord: flags.cpuMs,
    windowBudgetSeconds: flags.windowBudget,
  };
}
