import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import { GetQueueAttributesCommand, type QueueAttributeName } from '@aws-sdk/client-sqs';
import Table from 'cli-table3';
import { Command } from 'commander';
import { CONSUMER_ENVIRONMENT, RECORD_METRIC_NAMES } from '../contract';
import { ratio, wholeNumber } from '../ops/cli-args';
import { emulatorClients } from '../ops/endpoint-clients';
import { redrive } from '../ops/redrive';
import { type KinesisBatchInfo, replay } from '../ops/replay';
import { spawnEmulators } from './emulators';
import { startFaultyProxy } from './faulty-proxy';
import { KinesisPoller } from './kinesis-poller';
import { LocalCloud, pollerFaults } from './local-cloud';
import { MetricsCollector } from './metrics-collector';
import { synthesize } from './synth';
import { runWorkload, STREAM_CONSUMERS, type WorkloadReport } from './workload';

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
  const cloud = await LocalCloud.start({
    assemblyDir,
    emulators,
    functionDynamoDBEndpoint: proxy.endpoint,
    // Faults go to the consumers. The producer's own failures are modelled by its retries (--duplicates): a
    // failed publish that had reached a queue would be a second event the run cannot tell from the first.
    functionEnvironment: (label) =>
      label === 'order-api'
        ? undefined
        : {
            EDA_KIT_FAULTS: JSON.stringify({
              throw: options.rates.throw,
              kill: options.rates.kill,
              killAfterEffect: options.rates.killAfterEffect,
              hang: options.rates.hang,
              seed: options.seed,
            }),
          },
    pollerFaultRate: options.rates.poller,
    faultSeed: options.seed,
    // Hangs are killed sooner and redelivery comes sooner (by default after 5 s and 10 s instead of 30 s and 180 s).
    maxFunctionTimeoutSeconds: options.functionTimeoutSeconds ?? 5,
    maxVisibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 10,
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
        const sourceQueues = QUEUE_SOURCES.map(
          ([, source]) => cloud.function('order-api').runtime.config.environment[source],
        );
        // A dead letter in flight was taken by a replay that failed: it comes back after its visibility timeout.
        const deadLetterQueues = [...QUEUE_SOURCES.map(([consumer]) => consumer), ...STREAM_CONSUMERS].map(
          (consumer) => cloud.function(consumer).runtime.config.environment[CONSUMER_ENVIRONMENT.deadLetterQueueUrl],
        );
        for (recoveryRounds = 0; recoveryRounds < 8; recoveryRounds++) {
          if (!(await waitForIdle(cloud, clients.sqs, { sourceQueues, deadLetterQueues }, metrics, 180_000)))
            say('The pipeline did not come to rest within 180 s; recovering what is there.');
          let moved = 0;
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
            moved += delivered;
            replayedBatches += delivered;
          }
          redriven += moved;
          if (moved === 0) break;
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

/**
 * Waits (at most `maxMs`) until the pipeline is at rest: the source queues hold no message, visible or in flight;
 * no dead letter is in flight; every stream mapping has read its shards to the end and is done with every batch;
 * and the consumers' counts have not moved for two seconds. Returns whether it came to rest.
 */
async function waitForIdle(
  cloud: LocalCloud,
  sqs: ReturnType<typeof emulatorClients>['sqs'],
  queues: { readonly sourceQueues: readonly string[]; readonly deadLetterQueues: readonly string[] },
  metrics: MetricsCollector,
  maxMs: number,
): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  let last = metrics.total();
  let lastChange = Date.now();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const current = metrics.total();
    if (current !== last) {
      last = current;
      lastChange = Date.now();
      continue;
    }
    if (Date.now() - lastChange < 2_000) continue;
    const streamsIdle = cloud.pollers.every(({ poller }) => !(poller instanceof KinesisPoller) || poller.idle);
    if (!streamsIdle) continue;
    const pending =
      (await messagesIn(sqs, queues.sourceQueues, ALL_MESSAGES)) +
      (await messagesIn(sqs, queues.deadLetterQueues, ['ApproximateNumberOfMessagesNotVisible']));
    if (pending === 0) return true;
  }
  return false;
}

const ALL_MESSAGES: QueueAttributeName[] = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
];

/** The messages counted by `attributes` in the queues. */
async function messagesIn(
  sqs: ReturnType<typeof emulatorClients>['sqs'],
  queueUrls: readonly string[],
  attributes: QueueAttributeName[],
) {
  let total = 0;
  for (const QueueUrl of queueUrls) {
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: attributes }));
    total += Object.values(Attributes).reduce((sum, count) => sum + Number(count), 0);
  }
  return total;
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
