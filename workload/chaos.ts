import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import Table from 'cli-table3';
import { Command } from 'commander';
import { CONSUMER_ENVIRONMENT, RECORD_METRIC_NAMES } from '../contract';
import { compiledScript } from '../local/compiled';
import { spawnEmulators } from '../local/emulators';
import {
  LocalCloud,
  type LocalCloudNotAtRestError,
  type LocalCloudPlugin,
  type PollerClients,
} from '../local/local-cloud';
import { MetricsCollector } from '../local/metrics-collector';
import { seededRandom } from '../local/seeded-random';
import { synthesize } from '../local/synth';
import { ratio, wholeNumber } from '../ops/cli-args';
import { emulatorClients } from '../ops/endpoint-clients';
import { redrive } from '../ops/redrive';
import { type KinesisBatchInfo, replay } from '../ops/replay';
import { startFaultyProxy } from './faulty-proxy';
import { runWorkload, STREAM_CONSUMERS, type WorkloadReport } from './order-workload';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const projectDir = path.resolve(__dirname, '..');

/** The faults a chaos run injects, each with its own rate. */
export interface FaultRates {
  /** The handler throws. */
  readonly throw: number;
  /** The execution environment dies in the middle of an invocation. */
  readonly kill: number;
  /**
   * The environment dies right after a conditional write: between an effect and its idempotency record, or between
   * a pin and its effect.
   */
  readonly killAfterEffect: number;
  /** The function runs past its timeout (and is killed). */
  readonly hang: number;
  /** A DynamoDB request fails with throttling or a 5xx (through a loopback proxy). */
  readonly dynamodb: number;
  /** A poller's SQS or Kinesis call fails. */
  readonly poller: number;
}

/** A chaos run's result: the workload's report plus the faults injected and what recovery took. */
export interface ChaosReport extends WorkloadReport {
  /** Faults injected, by kind: the environments' (`throw`, `kill`, ...), `dynamodb:<error>`, `poller:<service>`. */
  readonly faults: Record<string, number>;
  /**
   * Second copies of dead letters, over every consumer (`dlq - dlqDistinct`): an environment killed between sending
   * a dead letter and marking it sent leaves one, by design. At most the environments killed (`kill`,
   * `killAfterEffect`, `hang`).
   */
  readonly extraDeadLetterCopies: number;
  readonly retries: number;
  readonly recoveryRounds: number;
  readonly redriven: number;
  readonly replayedBatches: number;
}

/**
 * Drives the reference app through the local cloud while faults are injected at the given rates, recovers what
 * the faults pushed into dead-letter and failure queues with the operations tools (redrive, replay), and checks
 * the invariants: every valid event's effect exactly once, every invalid event in a DLQ, nothing lost.
 */
export async function runChaos(options: {
  readonly events: number;
  readonly rates: FaultRates;
  readonly duplicates: number;
  readonly invalid: number;
  readonly seed: number;
  /** Every function timeout is cut to this (hangs are killed sooner). @default 5 */
  readonly functionTimeoutSeconds?: number;
  /** Every queue's visibility timeout is cut to this (redelivery comes sooner). @default 10 */
  readonly visibilityTimeoutSeconds?: number;
  readonly onProgress?: (message: string) => void;
}): Promise<ChaosReport> {
  const say = options.onProgress ?? (() => {});
  const assemblyDir = path.join(projectDir, '.local', 'chaos.out');
  const emulators = spawnEmulators();
  await synthesize(projectDir, assemblyDir);
  const endpoints = (await emulators).endpoints;
  const proxy = await startFaultyProxy(endpoints.dynamodb, options.rates.dynamodb, options.seed);
  const metrics = new MetricsCollector();
  const labels = new Map<string, string>();
  const faults: Record<string, number> = {};
  const pollerFaults: Record<string, number> = {};
  const cloud = await LocalCloud.start({
    assemblyDir,
    emulators,
    plugins: [
      chaosPlugin({
        rates: options.rates,
        seed: options.seed,
        dynamodbEndpoint: proxy.endpoint,
        // Hangs are killed sooner and redelivery comes sooner (by default after 5 s and 10 s, not 30 s and 180 s).
        functionTimeoutSeconds: options.functionTimeoutSeconds ?? 5,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 10,
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
  for (const fn of cloud.functions) labels.set(fn.runtime.config.name, fn.runtime.config.label);
  const clients = emulatorClients(cloud.endpoints);
  let recoveryRounds = 0;
  let redriven = 0;
  let replayedBatches = 0;
  try {
    say(`Placing ${options.events} orders with faults...`);
    const report = await runWorkload(cloud, metrics, {
      orders: options.events,
      duplicates: options.duplicates,
      invalid: options.invalid,
      seed: options.seed,
      settleSeconds: 15,
      beforeCheck: async () => {
        // What faults pushed out for good (SQS redrive after maxReceiveCount, Kinesis retries exhausted) is not
        // lost: it waits in a queue. Once the pipeline is idle (a message still failing its way to the DLQ would
        // be missed otherwise), put it back, as an operator would, until nothing comes back out.
        for (recoveryRounds = 0; recoveryRounds < 8; recoveryRounds++) {
          try {
            await cloud.waitForRest({ timeoutSeconds: 180 });
          } catch (error) {
            say(`${(error as LocalCloudNotAtRestError).message}; recovering what is there.`);
          }
          let moved = 0;
          // Batches a replay could not re-deliver this round (faults are still on): they wait in their queue.
          let undelivered = 0;
          for (const [consumer, source] of QUEUE_SOURCES) {
            const deadLetterQueueUrl =
              cloud.function(consumer).runtime.config.environment[CONSUMER_ENVIRONMENT.deadLetterQueueUrl];
            const sourceQueueUrl = cloud.function('order-api').runtime.config.environment[source];
            moved += (await redriveOnlyPlatformMoves(clients.sqs, deadLetterQueueUrl, sourceQueueUrl)).moved;
          }
          for (const consumer of STREAM_CONSUMERS) {
            const { runtime } = cloud.function(consumer);
            const failureQueueUrl = runtime.config.environment[CONSUMER_ENVIRONMENT.deadLetterQueueUrl];
            // Re-invoke the one consumer that gave up, with the records read back from the stream.
            const result = await replay(clients.sqs, clients.kinesis, {
              failureQueueUrl,
              deliver: async (records, info) => {
                // As the event source would: retry from the first record reported failed, a few times. Faults
                // are still on, and a large batch rarely gets through whole in one go.
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
              },
            });
            // Only what was re-delivered: an expired or failed batch is still in the queue, not moved.
            const delivered = result.batches - result.expired - result.failed;
            undelivered += result.failed;
            moved += delivered;
            replayedBatches += delivered;
          }
          redriven += moved;
          // Done when nothing was moved and nothing is left that a later round could still re-deliver.
          if (moved === 0 && undelivered === 0) break;
          say(
            `Recovery round ${recoveryRounds + 1}: ${moved} messages redriven or batches replayed; waiting for them...`,
          );
        }
      },
    });
    const retries = [...labels.values()].reduce(
      (sum, label) => sum + metrics.sum(label, RECORD_METRIC_NAMES.failed),
      0,
    );
    return {
      ...report,
      extraDeadLetterCopies: Object.values(report.consumers).reduce(
        (sum, consumer) => sum + consumer.dlq - consumer.dlqDistinct,
        0,
      ),
      faults: {
        ...faults,
        ...Object.fromEntries(
          Object.entries(proxy.injected).map(([type, count]) => [`dynamodb:${type.split('#')[1]}`, count]),
        ),
        ...Object.fromEntries(Object.entries(pollerFaults).map(([service, count]) => [`poller:${service}`, count])),
      },
      retries,
      recoveryRounds,
      redriven,
      replayedBatches,
    };
  } finally {
    await cloud.stop();
    await proxy.close();
  }
}

/** The queue consumers and the order API's variable naming each one's source queue. */
const QUEUE_SOURCES = [
  ['order-processor', 'ORDERS_QUEUE_URL'],
  ['notification-sender', 'NOTIFICATIONS_QUEUE_URL'],
] as const;

/** Redrives only the messages SQS itself moved (valid ones that kept failing), not the kit's invalid dead letters. */
function redriveOnlyPlatformMoves(
  sqs: ReturnType<typeof emulatorClients>['sqs'],
  deadLetterQueueUrl: string,
  sourceQueueUrl: string,
) {
  return redrive(sqs, { deadLetterQueueUrl, sourceQueueUrl, onlyPlatformMoves: true });
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

/** What the chaos plugin injects, and where it counts what it did. */
interface ChaosPluginOptions {
  readonly rates: FaultRates;
  readonly seed: number;
  /** The fault-injecting proxy in front of DynamoDB that the consumers call instead of the emulator. */
  readonly dynamodbEndpoint: string;
  readonly functionTimeoutSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  /** Faults injected into the pollers' calls, by service: filled as they happen. */
  readonly pollerFaults: Record<string, number>;
  readonly say: (message: string) => void;
}

/**
 * The chaos run as a plugin of the local cloud: the consumers load the faults of `chaos-faults.ts` and call DynamoDB
 * through the faulty proxy; every function timeout and visibility timeout is cut short; the pollers' SQS and Kinesis
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
        environment: {
          ...setup.environment,
          EDA_KIT_FAULTS: faults,
          AWS_ENDPOINT_URL_DYNAMODB: options.dynamodbEndpoint,
        },
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
      'an environment dies between an effect and its idempotency record',
      ratio,
    )
    .option('--hang-rate <rate>', 'a function runs past its timeout', ratio)
    .option('--dynamodb-fault-rate <rate>', 'a DynamoDB request is throttled or fails with a 5xx', ratio)
    .option('--poller-fault-rate <rate>', "a poller's SQS or Kinesis call fails", ratio)
    .option('--duplicates <ratio>', 'share of orders the producer sends twice', ratio, 0.1)
    .option('--invalid <ratio>', 'invalid events, as a share of orders', ratio, 0.01)
    .option('--seed <n>', 'seed of the workload and of the fault plan', wholeNumber, 7)
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
    onProgress: say,
  });

  const table = new Table({ head: ['figure', 'value'], style: { head: [], border: [] } });
  table.push(
    [
      'events in',
      `${report.eventsIn} (${report.orders} orders, ${report.producerRetries} producer retries, ${report.invalidInjected} invalid)`,
    ],
    ...Object.entries(report.faults).map(([kind, count]) => [`faults: ${kind}`, String(count)]),
    ['retries (failed record attempts)', String(report.retries)],
    ['recovered by redrive / replay', `${report.redriven} in ${report.recoveryRounds} round(s)`],
    [
      'DLQ entries (invalid events)',
      String(Object.values(report.consumers).reduce((sum, consumer) => sum + consumer.dlqDistinct, 0)),
    ],
    ['DLQ second copies (killed between send and mark)', String(report.extraDeadLetterCopies)],
    ['lost', String(report.lost)],
    ['duplicated effects', String(report.duplicatedEffects)],
  );
  console.log(table.toString());
  if (flags.json) writeFileSync(path.resolve(flags.json), `${JSON.stringify(report, null, 2)}\n`);
  process.exit(report.lost === 0 && report.duplicatedEffects === 0 ? 0 : 1);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
