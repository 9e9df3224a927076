import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as path from 'node:path';
import { MultiBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import { Command } from 'commander';
import { RECORD_METRIC_NAMES } from '../contract';
import { runLocalCommand } from '../local/cli';
import { DEFAULT_DASHBOARD_PORT } from '../local/dashboard/dashboard-port';
import { DEFAULT_EDGE_PORT } from '../local/edge-endpoint';
import { MetricsCollector } from '../local/metrics-collector';
import { port, ratio, wholeNumberFrom } from '../ops/cli-args';
import { runWorkload, type WorkloadReport } from './order-workload';

/**
 * `npm start`: the reference app on the local cloud, as `eda-kit local` runs any app, with the order workload
 * driven through it and its report printed.
 */
const startedAt = Date.now();
const projectDir = path.resolve(__dirname, '..');

interface Flags {
  orders: number;
  duplicates: number;
  invalid: number;
  seed: number;
  json?: string;
  serve: boolean;
  port: number;
  dashboardPort: number;
  dataDir?: string;
  singleEndpoint: boolean;
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
  .option(
    '--dashboard-port <n>',
    "with --serve: the port of the app's dashboard, live while the workload runs; 0 picks a free one",
    port,
    DEFAULT_DASHBOARD_PORT,
  )
  .option('--data-dir <dir>', 'keep DynamoDB and Kinesis state in this folder between runs')
  .option(
    '--single-endpoint',
    'route the functions, the mappings and the workload through one endpoint, as clients outside do',
    false,
  )
  .showHelpAfterError(false)
  .configureOutput({
    writeErr: (text) => process.stderr.write(text.split('\n')[0] ? `${text.split('\n')[0]}\n` : text),
  })
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

async function main(): Promise<void> {
  const flags = program.parse(process.argv).opts<Flags>();
  const metrics = new MetricsCollector();
  let firstProcessed: number | undefined;
  await runLocalCommand({
    appDir: projectDir,
    serve: flags.serve,
    port: flags.port,
    dashboardPort: flags.dashboardPort,
    dataDir: flags.dataDir,
    routeThroughEdge: flags.singleEndpoint,
    onOutput: (output, label) => {
      metrics.collect(output, label);
      if (firstProcessed === undefined && metrics.sum(label, RECORD_METRIC_NAMES.processed) > 0)
        firstProcessed = Date.now();
    },
    afterStart: async (cloud, say) => {
      if (flags.orders === 0) return 0;
      say(
        `Placing ${flags.orders} orders (${flags.duplicates * 100}% sent twice, ${flags.invalid * 100}% invalid events)...`,
      );
      const bars = new MultiBar(
        { clearOnComplete: false, hideCursor: true, format: ' {bar} {percentage}% | {label} {value}/{total}' },
        Presets.shades_classic,
      );
      const publishBar = bars.create(flags.orders, 0, { label: 'published' });
      const effectsBar = bars.create(1, 0, { label: 'effects  ' });
      let report = await runWorkload(cloud, metrics, {
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
      const firstEventSeconds = firstProcessed === undefined ? undefined : (firstProcessed - startedAt) / 1000;
      printReport(report, firstEventSeconds);
      const cpu = cloud.cpuSeconds();
      const totalCpu = Object.values(cpu).reduce((a, b) => a + b, 0);
      console.log(
        `Where the time goes (CPU ms per order; ${totalCpu.toFixed(1)} CPU-s in all on ${cpus().length} cores): ` +
          Object.entries(cpu)
            .sort(([, a], [, b]) => b - a)
            .map(([part, seconds]) => `${part} ${Math.round((seconds * 1000) / report.orders)}`)
            .join(', '),
      );
      report = { ...report, cpuSecondsByPart: cpu };
      // Shows that the traffic took the single endpoint (the emulators' own ports see it all the same).
      if (flags.singleEndpoint && cloud.edge)
        say(`Through the single endpoint: ${JSON.stringify(cloud.edge.requests)} requests by service.`);
      if (flags.json) {
        writeFileSync(path.resolve(flags.json), `${JSON.stringify({ ...report, firstEventSeconds }, null, 2)}\n`);
        say(`Report written to ${flags.json}`);
      }
      return report.lost > 0 || report.duplicatedEffects > 0 ? 1 : 0;
    },
  });
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

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
