import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import Table from 'cli-table3';
import { Command } from 'commander';
import { CONSUMER_ENVIRONMENT, RECORD_METRIC_NAMES } from '../contract';
import { compiledScript } from '../local/compiled';
import { spawnEmulators } from '../local/emulators';
import type { FunctionRuntime } from '../local/function-runtime';
import { KinesisPoller } from '../local/kinesis-poller';
import { LocalCloud, type LocalCloudPlugin, type PollerClients } from '../local/local-cloud';
import { MetricsCollector } from '../local/metrics-collector';
import { seededRandom } from '../local/seeded-random';
import { synthesize } from '../local/synth';
import { ratio, wholeNumber } from '../ops/cli-args';
import { emulatorClients } from '../ops/endpoint-clients';
import { redrive } from '../ops/redrive';
import { type KinesisBatchInfo, type ReplayResult, replay, replayFromBucket } from '../ops/replay';
import { runWorkload, type WorkloadReport } from './order-workload';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const projectDir = path.resolve(__dirname, '..');

/** The faults a chaos run injects, each with its own rate. */
export interface FaultRates {
  /** The handler throws (per invocation). */
  readonly throw: number;
  /** The execution environment dies in the middle of an invocation (per invocation). */
  readonly kill: number;
  /**
   * The environment dies right after one of the invocation's conditional writes, drawn among the first two per
   * record: between an effect and its idempotency record, or between a pin and its effect (per invocation).
   */
  readonly killAfterEffect: number;
  /** The function runs past its timeout, and is killed (per invocation). */
  readonly hang: number;
  /** A DynamoDB request of a consumer fails with throttling or a 5xx (per request, before the SDK's retries). */
  readonly dynamodb: number;
  /** A poller's SQS or Kinesis call fails (per call). */
  readonly poller: number;
}

/** Where a chaos run's time went, in seconds of wall time, one phase after another. */
export interface ChaosPhases {
  /** Emulators and synth (at once), then the local cloud: resources created, environments warm, mappings polling. */
  readonly start: number;
  /** Orders placed through the order API, and the invalid events written. */
  readonly publish: number;
  /**
   * From the last publish until the consumers had handled as many records as were sent to them (their processed,
   * duplicate and invalid counts), or nothing moved for twice the function timeout: faults, retries, and the
   * recovery passes that run meanwhile.
   */
  readonly processing: number;
  /**
   * Until the pipeline was at rest with nothing left to redrive or replay: the last batches of the slowest
   * consumers (their counts include redeliveries, so they can reach what was sent before every record is done),
   * and the last recovery passes.
   */
  readonly tail: number;
  /** Tables scanned and dead-letter queues read, and the local cloud stopped. */
  readonly check: number;
  readonly total: number;
}

/** A chaos run's result: the workload's report plus the faults injected and what recovery took. */
export interface ChaosReport extends WorkloadReport {
  /** Faults injected, by kind: the environments' (`throw`, `kill`, ...), `dynamodb:<error>`, `poller:<service>`. */
  readonly faults: Record<string, number>;
  /**
   * Second copies of dead letters, over every consumer (`dlq - dlqDistinct`): delivered twice, counted once. An
   * environment killed between sending a dead letter to a standard queue and marking it sent leaves one, by design
   * (a record is never lost); both copies carry one identity, so the check, the counts and `redrive` take it once.
   * At most the environments killed (`kill`, `killAfterEffect`, `hang`).
   */
  readonly extraDeadLetterCopies: number;
  /** Failed record attempts (the consumers' `FailedRecords`), each retried by its event source. */
  readonly retries: number;
  /** Execution environments started, invocations, and invocations that ran past the function timeout. */
  readonly environments: { readonly coldStarts: number; readonly invocations: number; readonly timeouts: number };
  /** Recovery passes that put something back (redrive or replay). */
  readonly recoveryPasses: number;
  /** Seconds spent in recovery passes, all of them (they overlap processing and the tail). */
  readonly recoverySeconds: number;
  /** Messages SQS moved to a dead-letter queue after `maxReceiveCount`, redriven to their source queue. */
  readonly redriven: number;
  /** Kinesis batches a mapping gave up on, re-delivered to their consumer (from its failure queue or bucket). */
  readonly replayedBatches: number;
  readonly phases: ChaosPhases;
  /** CPU seconds of the whole run: this process and every process it started (emulators, environments). Linux only. */
  readonly cpuSeconds?: number;
}

/** How a chaos run is shaped. */
export interface ChaosOptions {
  readonly events: number;
  readonly rates: FaultRates;
  readonly duplicates: number;
  readonly invalid: number;
  readonly seed: number;
  /**
   * Every function timeout is cut to this: a hang is killed sooner. Long enough for a healthy batch of 100 stream
   * records on a busy machine (a shorter one kills healthy batches, and every kill costs a cold start), and above
   * the 5 s the runtime keeps for the rest of a batch when it waits for a key another invocation holds.
   *
   * @default 10
   */
  readonly functionTimeoutSeconds?: number;
  /**
   * Every queue's visibility timeout is cut to this: a failed message comes back sooner. At least the function
   * timeout, as AWS requires, so a message does not reappear while its batch still runs.
   *
   * @default - the function timeout
   */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * While events are processed, what faults pushed out for good is put back every this many seconds.
   *
   * @default 5
   */
  readonly recoveryIntervalSeconds?: number;
  /**
   * Recovery gives up, and the check then counts what is still out as lost, after this many seconds of the tail
   * (see {@link ChaosPhases.tail}): a pipeline still busy then is stuck, not slow.
   *
   * @default 1800
   */
  readonly recoveryTimeoutSeconds?: number;
  readonly onProgress?: (message: string) => void;
}

/**
 * Drives the reference app through the local cloud while faults are injected at the given rates, puts back what the
 * faults pushed into dead-letter queues, failure queues and failure buckets with the operations tools (redrive,
 * replay) while the events flow, and checks the invariants: every valid event's effect exactly once, every invalid
 * event in its DLQ once (by identity), nothing lost.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const say = options.onProgress ?? (() => {});
  const startedAt = Date.now();
  const cpuAtStart = processTreeCpuSeconds();
  const assemblyDir = path.join(projectDir, '.local', 'chaos.out');
  const functionTimeoutSeconds = options.functionTimeoutSeconds ?? 10;
  const metrics = new MetricsCollector();
  const labels = new Map<string, string>();
  const faults: Record<string, number> = {};
  const pollerFaults: Record<string, number> = {};
  // The emulators start while the app synthesizes: they do not depend on it.
  const emulators = spawnEmulators();
  try {
    await synthesize(projectDir, assemblyDir);
  } catch (error) {
    await emulators.then(
      (started) => started.stop(),
      () => undefined,
    );
    throw error;
  }
  const cloud = await LocalCloud.start({
    assemblyDir,
    emulators,
    plugins: [
      chaosPlugin({
        rates: options.rates,
        seed: options.seed,
        functionTimeoutSeconds,
        visibilityTimeoutSeconds: Math.max(options.visibilityTimeoutSeconds ?? 0, functionTimeoutSeconds),
        pollerFaults,
        say,
      }),
    ],
    onNotice: (message) => say(`Not as on AWS: ${message}`),
    onOutput: (output) => {
      const fault = output.json?.edaKitFault;
      if (typeof fault === 'string') faults[fault] = (faults[fault] ?? 0) + 1;
      metrics.collect(output, labels.get(output.functionName));
    },
  });
  const startedCloudAt = Date.now();
  for (const fn of cloud.functions) labels.set(fn.runtime.config.name, fn.runtime.config.label);
  const recovery = new Recovery(cloud, say);
  let settledAt = 0;
  let recoveredAt = 0;
  let report: WorkloadReport;
  try {
    say(`Placing ${options.events} orders with faults...`);
    recovery.start((options.recoveryIntervalSeconds ?? 5) * 1000);
    let lastProgress = Date.now();
    report = await runWorkload(cloud, metrics, {
      orders: options.events,
      duplicates: options.duplicates,
      invalid: options.invalid,
      seed: options.seed,
      // Recovery runs meanwhile: the wait ends when the consumers have handled as many records as were sent to
      // them, or nothing moved for that long.
      settleSeconds: 2 * functionTimeoutSeconds,
      onProgress: ({ published, effects, expectedEffects }) => {
        if (Date.now() - lastProgress < 15_000) return;
        lastProgress = Date.now();
        say(`${published} orders placed; about ${effects} of ${expectedEffects} effects`);
      },
      beforeCheck: async () => {
        settledAt = Date.now();
        say(
          'Every consumer has handled as many records as were sent to it, or nothing moved for a while: on until the pipeline is at rest...',
        );
        await recovery.finish((options.recoveryTimeoutSeconds ?? 1800) * 1000);
        recoveredAt = Date.now();
      },
    });
  } finally {
    await recovery.stop();
    await cloud.stop();
  }
  const endedAt = Date.now();
  const cpuAtEnd = processTreeCpuSeconds();
  const stats = cloud.functions.filter((fn) => fn.runtime.config.label !== 'order-api').map((fn) => fn.runtime.stats);
  const publish = report.publishSeconds;
  const seconds = (from: number, to: number) => (to - from) / 1000;
  return {
    ...report,
    extraDeadLetterCopies: Object.values(report.consumers).reduce(
      (sum, consumer) => sum + consumer.dlq - consumer.dlqDistinct,
      0,
    ),
    faults: {
      ...faults,
      ...Object.fromEntries(Object.entries(pollerFaults).map(([service, count]) => [`poller:${service}`, count])),
    },
    retries: [...labels.values()].reduce((sum, label) => sum + metrics.sum(label, RECORD_METRIC_NAMES.failed), 0),
    environments: {
      coldStarts: stats.reduce((sum, stat) => sum + stat.coldStarts, 0),
      invocations: stats.reduce((sum, stat) => sum + stat.invocations, 0),
      timeouts: stats.reduce((sum, stat) => sum + stat.timeouts, 0),
    },
    recoveryPasses: recovery.passes,
    recoverySeconds: recovery.seconds,
    redriven: recovery.redriven,
    replayedBatches: recovery.replayedBatches,
    phases: {
      start: seconds(startedAt, startedCloudAt),
      publish,
      processing: Math.max(0, seconds(startedCloudAt, settledAt) - publish),
      tail: seconds(settledAt, recoveredAt),
      check: seconds(recoveredAt, endedAt),
      total: seconds(startedAt, endedAt),
    },
    ...(cpuAtStart !== undefined && cpuAtEnd !== undefined && { cpuSeconds: cpuAtEnd - cpuAtStart }),
  };
}

/** What one recovery pass put back, and what it could not (re-delivery failed again: faults are still on). */
interface PassResult {
  readonly redriven: number;
  readonly replayedBatches: number;
  readonly undelivered: number;
}

/**
 * Puts back what faults pushed out for good, as an operator would: messages SQS moved to a queue consumer's
 * dead-letter queue after `maxReceiveCount` go back to their source queue (`redrive`, the kit's own dead letters
 * left where they are), and Kinesis batches a mapping gave up on are re-delivered to the one consumer that gave up
 * (`replay`, from its failure queue or its failure bucket). Every consumer at once, every few seconds while the
 * events flow, so a batch set aside early is back in its pipeline long before the last event is published.
 */
class Recovery {
  public passes = 0;
  public seconds = 0;
  public redriven = 0;
  public replayedBatches = 0;
  private running: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly clients: ReturnType<typeof emulatorClients>;

  constructor(
    private readonly cloud: LocalCloud,
    private readonly say: (message: string) => void,
  ) {
    this.clients = emulatorClients(cloud.endpoints);
  }

  /** Runs a pass every `intervalMs` until {@link finish} or {@link stop}. */
  public start(intervalMs: number): void {
    this.running = (async () => {
      while (!this.stopped) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, intervalMs);
        });
        if (!this.stopped) await this.pass();
      }
    })();
  }

  /**
   * Recovers until the pipeline is at rest (nothing queued, in flight or running, every stream read to its end) and
   * a pass then finds nothing to put back. Rest first: a message still failing its way to a dead-letter queue would
   * be missed otherwise. Gives up after `timeoutMs`, leaving what is still out to be counted as lost.
   */
  public async finish(timeoutMs: number): Promise<void> {
    await this.stop();
    this.stopped = false;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      // Waiting for rest reads every queue's counts ten times a second: first wait, for free, until nothing runs.
      let saidAt = Date.now();
      while (this.busy().length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        if (Date.now() - saidAt >= 30_000) {
          saidAt = Date.now();
          this.say(`Still at work: ${this.busy().join(', ')}`);
        }
      }
      let atRest = true;
      try {
        await this.cloud.waitForRest({ timeoutSeconds: 5 });
      } catch {
        atRest = false;
      }
      const result = await this.pass();
      if (atRest && result.redriven + result.replayedBatches + result.undelivered === 0) return;
    }
    this.say(`Recovery gave up after ${timeoutMs / 1000} s: what is still out counts as lost.`);
  }

  /**
   * What keeps the pipeline from rest, known here without a call: the stream mappings not done with what they read,
   * and the functions running. Nothing when all is quiet.
   */
  private busy(): string[] {
    const reading = this.cloud.pollers
      .filter(({ poller }) => poller instanceof KinesisPoller && !poller.idle)
      .map(({ functionLabel }) => `${functionLabel} (stream mapping)`);
    const running = this.cloud.functions
      .filter((fn) => fn.runtime.inFlight > 0)
      .map(
        (fn) =>
          `${fn.runtime.config.label} (${fn.runtime.inFlight} running, ${fn.runtime.stats.coldStarts} environments so far)`,
      );
    return [...reading, ...running];
  }

  /** Stops the passes in the background, waiting for the one under way. */
  public async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  private async pass(): Promise<PassResult> {
    const startedAt = Date.now();
    const results = await Promise.all(
      this.cloud.pollers.map(async ({ poller, functionLabel }): Promise<PassResult> => {
        const { runtime } = this.cloud.function(functionLabel);
        if (!(poller instanceof KinesisPoller)) {
          const { moved } = await redrive(this.clients.sqs, {
            deadLetterQueueUrl: runtime.config.environment[CONSUMER_ENVIRONMENT.deadLetterQueueUrl],
            sourceQueueUrl: poller.config.queueUrl,
            onlyPlatformMoves: true,
          });
          return { redriven: moved, replayedBatches: 0, undelivered: 0 };
        }
        const deliver = (records: KinesisRecord[], info: KinesisBatchInfo) => deliverAgain(runtime, records, info);
        const { onFailureQueueUrl, onFailureBucket } = poller.config;
        const replayed: ReplayResult[] = await Promise.all([
          onFailureQueueUrl
            ? replay(this.clients.sqs, this.clients.kinesis, { failureQueueUrl: onFailureQueueUrl, deliver })
            : undefined,
          onFailureBucket
            ? replayFromBucket(this.clients.s3, this.clients.kinesis, {
                bucketName: onFailureBucket.bucketName,
                prefix: `aws/lambda/${onFailureBucket.mappingId}/`,
                deliver,
              })
            : undefined,
        ]).then((all) => all.filter((result): result is ReplayResult => result !== undefined));
        return {
          redriven: 0,
          // Only what was re-delivered: an expired or failed batch is still where it was kept, not moved.
          replayedBatches: replayed.reduce((sum, result) => sum + result.batches - result.expired - result.failed, 0),
          undelivered: replayed.reduce((sum, result) => sum + result.failed, 0),
        };
      }),
    );
    const total = results.reduce(
      (sum, result) => ({
        redriven: sum.redriven + result.redriven,
        replayedBatches: sum.replayedBatches + result.replayedBatches,
        undelivered: sum.undelivered + result.undelivered,
      }),
      { redriven: 0, replayedBatches: 0, undelivered: 0 },
    );
    this.seconds += (Date.now() - startedAt) / 1000;
    if (total.redriven + total.replayedBatches > 0) {
      this.passes++;
      this.redriven += total.redriven;
      this.replayedBatches += total.replayedBatches;
      this.say(`Recovered ${total.redriven} messages by redrive and ${total.replayedBatches} batches by replay`);
    }
    return total;
  }
}

/**
 * Re-delivers a batch a Kinesis mapping gave up on to its consumer alone, as the event source would: retrying from
 * the first record reported failed, a few times (faults are still on, and a batch rarely gets through whole in one
 * go). Rejects when records are still failing, so the batch stays where it was kept for the next pass.
 */
async function deliverAgain(runtime: FunctionRuntime, records: KinesisRecord[], info: KinesisBatchInfo): Promise<void> {
  let remaining = records.map((record) => kinesisEventRecord(record, info));
  for (let attempt = 0; attempt < 10 && remaining.length > 0; attempt++) {
    try {
      const response = (await runtime.invoke({ Records: remaining })) as
        | { batchItemFailures?: { itemIdentifier: string }[] }
        | undefined;
      const failed = new Set(response?.batchItemFailures?.map((failure) => failure.itemIdentifier));
      const from = remaining.findIndex((record) => failed.has(record.kinesis.sequenceNumber as string));
      remaining = failed.size === 0 ? [] : remaining.slice(Math.max(0, from));
    } catch {
      // The function failed as a whole (a fault killed it): the same records again.
    }
  }
  if (remaining.length > 0) throw new Error(`${remaining.length} records failed again`);
}

function kinesisEventRecord(record: KinesisRecord, info: KinesisBatchInfo) {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey,
      sequenceNumber: record.SequenceNumber,
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${info.shardId}:${record.SequenceNumber}`,
    eventName: 'aws:kinesis:record',
    awsRegion: 'us-east-1',
    eventSourceARN: info.streamArn,
  };
}

/**
 * CPU seconds (user and system) of this process and of every child it has waited for (killed execution
 * environments, stopped emulators), from /proc; undefined where there is none.
 */
function processTreeCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // After the command name: utime, stime, cutime and cstime are the 14th to 17th fields, in clock ticks (100/s).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields.slice(11, 15).reduce((sum, field) => sum + Number(field), 0) / 100;
  } catch {
    return undefined;
  }
}

/** What the chaos plugin injects, and where it counts what it did. */
interface ChaosPluginOptions {
  readonly rates: FaultRates;
  readonly seed: number;
  readonly functionTimeoutSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  /** Faults injected into the pollers' calls, by service: filled as they happen. */
  readonly pollerFaults: Record<string, number>;
  readonly say: (message: string) => void;
}

/**
 * The chaos run as a plugin of the local cloud: the consumers load the faults of `chaos-faults.ts` (their DynamoDB
 * requests included); every function timeout and visibility timeout is cut short; the pollers' SQS and Kinesis
 * calls fail at the poller rate. The producer (the order API) runs without faults: its own failures are modelled by
 * its retries (--duplicates), since a failed publish that had reached a queue would be a second event the run
 * cannot tell from the first.
 */
function chaosPlugin(options: ChaosPluginOptions): LocalCloudPlugin {
  const faults = JSON.stringify({
    throw: options.rates.throw,
    kill: options.rates.kill,
    killAfterEffect: options.rates.killAfterEffect,
    hang: options.rates.hang,
    dynamodb: options.rates.dynamodb,
    seed: options.seed,
  });
  const preload = compiledScript(path.join(__dirname, 'chaos-faults'));
  options.say(
    `Function timeouts are cut to ${options.functionTimeoutSeconds} s and visibility timeouts to ` +
      `${options.visibilityTimeoutSeconds} s for this run.`,
  );
  return {
    configureFunction: (setup) => ({
      ...setup,
      timeoutSeconds: Math.min(setup.timeoutSeconds, options.functionTimeoutSeconds),
      ...(setup.label !== 'order-api' && {
        environment: { ...setup.environment, EDA_KIT_FAULTS: faults },
        preload: [...(setup.preload ?? []), preload],
      }),
    }),
    configureQueue: ({ attributes }) => ({
      ...attributes,
      VisibilityTimeout: String(Math.min(Number(attributes.VisibilityTimeout ?? 30), options.visibilityTimeoutSeconds)),
    }),
    configurePollerClients: (clients) =>
      injectFaults(clients, options.rates.poller, seededRandom(options.seed, 'pollers'), options.pollerFaults),
  };
}

/** Makes a share of the calls of `clients` fail before they are sent, as a flaky network would. */
function injectFaults(
  clients: PollerClients,
  rate: number,
  random: () => number,
  counts: Record<string, number>,
): void {
  if (rate === 0) return;
  for (const [service, client] of Object.entries(clients)) {
    (client as { middlewareStack: { add: (m: unknown, o: object) => void } }).middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
        if (random() < rate) {
          counts[service] = (counts[service] ?? 0) + 1;
          const error = new Error(`${service} call failed (injected)`);
          error.name = 'InjectedNetworkError';
          throw error;
        }
        return next(args);
      },
      { step: 'finalizeRequest', name: 'injectFaults' },
    );
  }
}

/** The report's figures, as `npm run chaos` prints them and docs/chaos.md shows them. */
export function chaosTable(report: ChaosReport): string {
  const table = new Table({ head: ['figure', 'value'], style: { head: [], border: [] } });
  const faults = (prefix: string) =>
    Object.entries(report.faults)
      .filter(([kind]) => kind.startsWith(prefix))
      .reduce((sum, [, count]) => sum + count, 0);
  const distinct = Object.values(report.consumers).reduce((sum, consumer) => sum + consumer.dlqDistinct, 0);
  const expected = Object.values(report.consumers).reduce((sum, consumer) => sum + consumer.expectedDlq, 0);
  const { phases } = report;
  table.push(
    [
      'events in',
      `${report.eventsIn} (${report.orders} orders, ${report.producerRetries} producer retries, ${report.invalidInjected} invalid)`,
    ],
    [
      'faults injected',
      `${Object.values(report.faults).reduce((sum, count) => sum + count, 0)}: handler throws ${report.faults.throw ?? 0}, ` +
        `killed mid-batch ${report.faults.kill ?? 0}, killed after a conditional write ${report.faults.killAfterEffect ?? 0}, ` +
        `past the timeout ${report.faults.hang ?? 0}, DynamoDB ${faults('dynamodb:')}, pollers ${faults('poller:')}`,
    ],
    [
      'execution environments',
      `${report.environments.coldStarts} started, ${report.environments.invocations} invocations, ${report.environments.timeouts} timed out`,
    ],
    ['retries (failed record attempts)', String(report.retries)],
    [
      'recovered while running',
      `${report.redriven} messages redriven, ${report.replayedBatches} batches replayed ` +
        `(${report.recoveryPasses} passes put something back; ${report.recoverySeconds.toFixed(0)} s in passes)`,
    ],
    ['dead letters (distinct / expected)', `${distinct} / ${expected}`],
    ['dead letters delivered twice, counted once', String(report.extraDeadLetterCopies)],
    ['lost', String(report.lost)],
    ['applied twice', String(report.duplicatedEffects)],
    [
      'wall time',
      `${phases.total.toFixed(0)} s: start ${phases.start.toFixed(0)}, publish ${phases.publish.toFixed(0)}, ` +
        `processing ${phases.processing.toFixed(0)}, tail ${phases.tail.toFixed(0)}, check ${phases.check.toFixed(0)}`,
    ],
    ...(report.cpuSeconds === undefined ? [] : [['CPU time (every process)', `${report.cpuSeconds.toFixed(0)} s`]]),
  );
  return table.toString();
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run chaos --')
    .description(
      'Runs the reference app on the local cloud with injected faults and checks that nothing is lost or applied twice.',
    )
    .option('--events <n>', 'orders to place', wholeNumber, 1000)
    .option('--fault-rate <rate>', 'the rate of every fault kind not given its own', ratio, 0.05)
    .option('--throw-rate <rate>', 'the handler throws', ratio)
    .option('--kill-rate <rate>', 'an execution environment dies mid-invocation', ratio)
    .option(
      '--kill-after-effect-rate <rate>',
      'an invocation dies right after one of its conditional writes (an effect or a pin)',
      ratio,
    )
    .option('--hang-rate <rate>', 'a function runs past its timeout', ratio)
    .option('--dynamodb-fault-rate <rate>', 'a DynamoDB request is throttled or fails with a 5xx', ratio)
    .option('--poller-fault-rate <rate>', "a poller's SQS or Kinesis call fails", ratio)
    .option('--duplicates <ratio>', 'share of orders the producer sends twice', ratio, 0.1)
    .option('--invalid <ratio>', 'invalid events, as a share of orders', ratio, 0.01)
    .option('--seed <n>', 'seed of the workload and of the fault plan', wholeNumber, 7)
    .option('--function-timeout <seconds>', 'every function timeout is cut to this', wholeNumber, 10)
    .option('--json <file>', 'write the report as JSON')
    .configureOutput({ writeErr: (text) => process.stderr.write(`${text.split('\n')[0]}\n`) })
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));
  const flags = program.parse(process.argv).opts();
  const base = flags.faultRate as number;
  const rates: FaultRates = {
    throw: flags.throwRate ?? base,
    kill: flags.killRate ?? base / 2,
    killAfterEffect: flags.killAfterEffectRate ?? base / 2,
    hang: flags.hangRate ?? base / 5,
    dynamodb: flags.dynamodbFaultRate ?? base,
    poller: flags.pollerFaultRate ?? base,
  };
  const started = Date.now();
  const say = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
  say(`Fault rates: ${JSON.stringify(rates)}`);
  const report = await runChaos({
    events: flags.events,
    rates,
    duplicates: flags.duplicates,
    invalid: flags.invalid,
    seed: flags.seed,
    functionTimeoutSeconds: flags.functionTimeout,
    onProgress: say,
  });
  console.log(chaosTable(report));
  if (flags.json) writeFileSync(path.resolve(flags.json), `${JSON.stringify(report, null, 2)}\n`);
  process.exit(report.lost === 0 && report.duplicatedEffects === 0 ? 0 : 1);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
