import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as path from 'node:path';
import { MultiBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import { Command } from 'commander';
import { RECORD_METRIC_NAMES } from '../contract';
import { port, ratio, wholeNumberFrom } from '../ops/cli-args';
import {
  assertPortFree,
  DEFAULT_EDGE_PORT,
  type EdgeEndpoint,
  EdgePortInUseError,
  startEdgeEndpoint,
} from './edge-endpoint';
import { spawnEmulators } from './emulators';
import type { FunctionOutput } from './function-runtime';
import { LocalCloud } from './local-cloud';
import { MetricsCollector } from './metrics-collector';
import { synthesize } from './synth';
import { runWorkload, type WorkloadReport } from './workload';

const startedAt = Date.now();
// The local cloud runs on this machine's Node.js; the SDK's notice that it wants Node 22 is not news here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const projectDir = path.resolve(__dirname, '..');

interface Flags {
  orders: number;
  duplicates: number;
  invalid: number;
  seed: number;
  json?: string;
  serve: boolean;
  port: number;
  dataDir?: string;
}

const program = new Command()
  .name('npm start --')
  .description('Synthesizes the app and runs it on embedded emulators, then drives the order workload through it.')
  .option('--orders <n>', 'orders to place through the order API', wholeNumberFrom(0), 1000)
  .option('--duplicates <ratio>', 'share of orders the producer sends twice', ratio, 0.1)
  .option(
    '--invalid <ratio>',
    'invalid events, as a share of orders, written straight to the queues and stream',
    ratio,
    0.01,
  )
  .option('--seed <n>', 'seed of the workload', wholeNumberFrom(0), 1)
  .option('--json <file>', 'write the report as JSON')
  .option('--serve', 'keep running after the workload and write .local/endpoints.json', false)
  .option(
    '--port <n>',
    'with --serve: the one port that serves SQS, Kinesis and DynamoDB (AWS_ENDPOINT_URL); 0 picks a free one',
    port,
    DEFAULT_EDGE_PORT,
  )
  .option('--data-dir <dir>', 'keep DynamoDB and Kinesis state in this folder between runs')
  .showHelpAfterError(false)
  .configureOutput({
    writeErr: (text) => process.stderr.write(text.split('\n')[0] ? `${text.split('\n')[0]}\n` : text),
  })
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

async function main(): Promise<void> {
  const flags = program.parse(process.argv).opts<Flags>();
  const say = (message: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${message}`);

  const assemblyDir = path.join(projectDir, 'cdk.out');
  if (flags.serve) await ensurePortFree(flags.port);
  say('Synthesizing the app and starting the emulators...');
  // The emulators start while the app synthesizes: they do not depend on it.
  const emulators = spawnEmulators({ dataDir: flags.dataDir });
  try {
    await synthesize(projectDir, assemblyDir);
  } catch (error) {
    await (await emulators).stop();
    throw error;
  }

  const metrics = new MetricsCollector();
  const labels = new Map<string, string>();
  let firstProcessed: number | undefined;
  const logDir = path.join(projectDir, '.local', 'logs');
  mkdirSync(logDir, { recursive: true });
  const onOutput = (output: FunctionOutput) => {
    const label = labels.get(output.functionName) ?? output.functionName;
    metrics.collect(output, label);
    if (firstProcessed === undefined && metrics.sum(label, RECORD_METRIC_NAMES.processed) > 0) {
      firstProcessed = Date.now();
      say(`First event processed (${label}).`);
    }
    if (!output.json?._aws) writeFileSync(path.join(logDir, `${label}.log`), `${output.line}\n`, { flag: 'a' });
  };
  const notices: string[] = [];
  say('Creating the tables, queues and streams, and starting the functions...');
  const cloud = await LocalCloud.start({
    assemblyDir,
    emulators,
    onNotice: (message) => notices.push(message),
    onOutput,
  });
  for (const fn of cloud.functions) labels.set(fn.runtime.config.name, fn.runtime.config.label);
  for (const message of notices) say(`Not as on AWS: ${message}`);
  say(
    `Local cloud up: ${cloud.functions.length} functions, ${cloud.pollers.length} event source mappings. Logs in .local/logs/.`,
  );

  let edge: EdgeEndpoint | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await edge?.close();
    await cloud.stop();
    process.exit(code);
  };
  // Ctrl-C is how --serve is meant to end: a clean stop, exit code 0.
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  let report: WorkloadReport | undefined;
  if (flags.orders > 0) {
    say(
      `Placing ${flags.orders} orders (${flags.duplicates * 100}% sent twice, ${flags.invalid * 100}% invalid events)...`,
    );
    const bars = new MultiBar(
      { clearOnComplete: false, hideCursor: true, format: ' {bar} {percentage}% | {label} {value}/{total}' },
      Presets.shades_classic,
    );
    const publishBar = bars.create(flags.orders, 0, { label: 'published' });
    const effectsBar = bars.create(1, 0, { label: 'effects  ' });
    report = await runWorkload(cloud, metrics, {
      orders: flags.orders,
      duplicates: flags.duplicates,
      invalid: flags.invalid,
      seed: flags.seed,
      onProgress: ({ published, effects, expectedEffects }) => {
        publishBar.setTotal(Math.max(flags.orders, published));
        publishBar.update(published, { label: 'published' });
        effectsBar.setTotal(expectedEffects);
        effectsBar.update(effects, { label: 'effects  ' });
      },
    });
    bars.stop();
    printReport(report, firstProcessed === undefined ? undefined : (firstProcessed - startedAt) / 1000);
    const cpu = cloud.cpuSeconds();
    const totalCpu = Object.values(cpu).reduce((a, b) => a + b, 0);
    const orders = report.orders;
    console.log(
      `Where the time goes (CPU ms per order; ${totalCpu.toFixed(1)} CPU-s in all on ${cpus().length} cores): ` +
        Object.entries(cpu)
          .sort(([, a], [, b]) => b - a)
          .map(([part, seconds]) => `${part} ${Math.round((seconds * 1000) / orders)}`)
          .join(', '),
    );
    report = { ...report, cpuSecondsByPart: cpu };
    if (flags.json) {
      writeFileSync(
        path.resolve(flags.json),
        `${JSON.stringify({ ...report, firstEventSeconds: firstProcessed && (firstProcessed - startedAt) / 1000 }, null, 2)}\n`,
      );
      say(`Report written to ${flags.json}`);
    }
  }

  if (flags.serve) {
    try {
      edge = await startEdgeEndpoint(cloud.endpoints, { port: flags.port });
    } catch (error) {
      // Taken while the workload ran: the same one line and exit code 2 as at start.
      if (!(error instanceof EdgePortInUseError)) throw error;
      console.error(error.message);
      return stop(2);
    }
    const file = path.join(projectDir, '.local', 'endpoints.json');
    writeFileSync(
      file,
      `${JSON.stringify({ region: 'us-east-1', edge: edge.url, endpoints: cloud.endpoints, resources: cloud.resourceMap() }, null, 2)}\n`,
    );
    say(`Serving. Endpoints and every resource's local name, URL or ARN: ${path.relative(process.cwd(), file)}`);
    say(`  SQS, Kinesis and DynamoDB on one endpoint: AWS_ENDPOINT_URL=${edge.url}`);
    say(`  e.g. AWS_ENDPOINT_URL=${edge.url} aws sqs list-queues   (any access key; region us-east-1). Ctrl-C stops.`);
    return;
  }
  await stop(report && (report.lost > 0 || report.duplicatedEffects > 0) ? 1 : 0);
}

function printReport(report: WorkloadReport, firstEventSeconds: number | undefined): void {
  const table = new Table({
    head: [
      'consumer',
      'processed',
      'duplicates suppressed',
      'effects / expected',
      'DLQ / expected',
      'latency p50',
      'p99',
    ],
    style: process.stdout.isTTY ? {} : { head: [], border: [] },
  });
  for (const [label, consumer] of Object.entries(report.consumers)) {
    table.push([
      label,
      consumer.processed,
      consumer.duplicates,
      `${consumer.effects} / ${consumer.expectedEffects}`,
      // A second copy of a dead letter (an environment died between sending and marking it) is shown apart.
      `${consumer.dlqDistinct} / ${consumer.expectedDlq}${consumer.dlq > consumer.dlqDistinct ? ` (+${consumer.dlq - consumer.dlqDistinct} copies)` : ''}`,
      consumer.latencyMs.p50 === undefined ? '-' : `${Math.round(consumer.latencyMs.p50)} ms`,
      consumer.latencyMs.p99 === undefined ? '-' : `${Math.round(consumer.latencyMs.p99)} ms`,
    ]);
  }
  console.log(table.toString());
  console.log(
    `Events in: ${report.eventsIn} (${report.orders} orders, ${report.producerRetries} producer retries, ` +
      `${report.invalidInjected} invalid). Lost: ${report.lost}. Duplicated effects: ${report.duplicatedEffects}.`,
  );
  console.log(
    `Throughput: ${report.ordersPerSecond.toFixed(1)} orders/s (${report.seconds.toFixed(1)} s end to end, all five consumers; ` +
      `${report.publishSeconds.toFixed(1)} s to publish).` +
      (firstEventSeconds === undefined ? '' : ` First event processed ${firstEventSeconds.toFixed(1)} s after start.`),
  );
  console.log(`Dead letters by reason: ${JSON.stringify(report.deadLetterReasons)}`);
}

/** Fails before anything starts when the edge's port is taken: a one-line error and exit code 2. */
async function ensurePortFree(edgePort: number): Promise<void> {
  try {
    await assertPortFree(edgePort);
  } catch (error) {
    if (!(error instanceof EdgePortInUseError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
