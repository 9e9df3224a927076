/**
 * `eda-kit local`: runs a CDK app on the local cloud from the app's folder. Also what `npm start` runs for the
 * reference app, with the order workload as its `afterStart`.
 *
 * @module
 */
import { createWriteStream, mkdirSync, rmSync, type WriteStream, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LOCAL_REGION } from '../ops/endpoint-clients';
import { assertDashboardPortFree, DashboardPortInUseError, DEFAULT_DASHBOARD_PORT } from './dashboard/dashboard-port';
import { startDashboard } from './dashboard/dashboard-server';
import { LocalMetrics } from './dashboard/local-metrics';
import { assertPortFree, EdgePortInUseError } from './edge-endpoint';
import { EmulatorsNotInstalledError } from './emulators';
import type { FunctionOutput } from './function-runtime';
import { LocalCloudInputError } from './input-error';
import { LocalCloud, type LocalCloudPlugin } from './local-cloud';
import { summarizePipelines } from './pipeline-summary';

/** What `eda-kit local` was asked to do. */
export interface LocalCommandOptions {
  /** The CDK app's folder: where `cdk.json` is, and where `.local/` (logs, endpoints file) is written. */
  readonly appDir: string;
  /** A cloud assembly to run instead of synthesizing the app. @default - synthesizes the app */
  readonly assemblyDir?: string;
  /** Keep running, serve the single endpoint and write `.local/endpoints.json`, until Ctrl-C. */
  readonly serve: boolean;
  /** With `serve`: the single endpoint's port (0: a free one). */
  readonly port: number;
  /** With `serve`: the port of the app's dashboard, served with local data (0: a free one). @default 4567 */
  readonly dashboardPort?: number;
  /**
   * The functions, the event source mappings and provisioning call the emulators through the single endpoint, as
   * clients outside do, instead of each emulator's own port. Without `serve`, the endpoint listens on a free port.
   *
   * @default false
   */
  readonly routeThroughEdge?: boolean;
  /** Keep DynamoDB and Kinesis state here between runs. @default - in memory */
  readonly dataDir?: string;
  /** Start without what cannot run locally, with a notice for each. @default false */
  readonly allowUnsupported?: boolean;
  /** Plugins of the local cloud. @default - none */
  readonly plugins?: readonly LocalCloudPlugin[];
  /**
   * Runs once everything is up, before serving: the reference app's workload. Resolves with the exit code the
   * command ends with when it does not serve (0 when undefined).
   */
  readonly afterStart?: (cloud: LocalCloud, say: (message: string) => void) => Promise<number | undefined>;
  /** Told about every line a function prints (after the log file). @default - nothing more */
  readonly onOutput?: (output: FunctionOutput, label: string) => void;
}

/** Errors that are the user's input, not the local cloud's failure: one line, exit code 2. */
export function isInputError(error: unknown): boolean {
  return (
    error instanceof LocalCloudInputError ||
    error instanceof EmulatorsNotInstalledError ||
    error instanceof EdgePortInUseError ||
    error instanceof DashboardPortInUseError
  );
}

/**
 * Synthesizes the app (or reads `assemblyDir`), starts the local cloud, and says what runs; then runs
 * `afterStart`, and either stops (exit code 0, or `afterStart`'s) or serves until Ctrl-C (exit code 0). Bad input
 * (no cdk.json, no assembly, a resource that cannot run locally, a port in use, emulators not installed) is one
 * line on stderr and exit code 2, with nothing left running.
 */
export async function runLocalCommand(options: LocalCommandOptions): Promise<void> {
  const startedAt = Date.now();
  const say = (message: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${message}`);
  try {
    await runUntilDone(options, say, startedAt);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(isInputError(error) ? 2 : 1);
  }
}

async function runUntilDone(options: LocalCommandOptions, say: (message: string) => void, startedAt: number) {
  // The local cloud runs on this machine's Node.js; the SDK's notice that it wants Node 22 is not news here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  if (options.serve) await assertPortFree(options.port);
  if (options.serve) await assertDashboardPortFree(options.dashboardPort ?? DEFAULT_DASHBOARD_PORT);
  const stateDir = path.join(options.appDir, '.local');
  const logDir = path.join(stateDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const labels = new Map<string, string>();
  // One append stream per function: writing each line synchronously would hold up the pollers on this event loop.
  const logFiles = new Map<string, WriteStream>();
  const logFile = (label: string) => {
    let file = logFiles.get(label);
    if (!file) {
      file = createWriteStream(path.join(logDir, `${label}.log`), { flags: 'a' });
      // A log file that cannot be written (a full disk) costs its lines, not the run.
      file.on('error', (error) => say(`Not writing ${label}'s log: ${error.message}`));
      logFiles.set(label, file);
    }
    return file;
  };
  const notices: string[] = [];
  say(
    options.assemblyDir
      ? `Reading the cloud assembly ${path.relative(process.cwd(), options.assemblyDir) || '.'} and starting the emulators...`
      : 'Synthesizing the app and starting the emulators...',
  );
  // With --serve, the dashboard's metrics: what the mappings' clients see, and the functions' EMF lines.
  const metrics = options.serve ? new LocalMetrics() : undefined;
  const cloud = await LocalCloud.start({
    appDir: options.appDir,
    assemblyDir: options.assemblyDir,
    dataDir: options.dataDir,
    allowUnsupported: options.allowUnsupported,
    plugins: metrics ? [...(options.plugins ?? []), metrics.plugin] : options.plugins,
    // Routing through the single endpoint needs one even when nothing outside is served: a free port will do.
    ...(options.serve ? { edgePort: options.port } : options.routeThroughEdge ? { edgePort: 0 } : {}),
    routeThroughEdge: options.routeThroughEdge,
    onNotice: (message) => notices.push(message),
    onOutput: (output) => {
      const label = labels.get(output.functionName) ?? output.functionName;
      if (!output.json?._aws) {
        const file = logFile(label);
        // The lines of one read of a function's output go to the file in one write, not a write each.
        if (!file.writableCorked) {
          file.cork();
          process.nextTick(() => file.uncork());
        }
        file.write(`${output.line}\n`);
      }
      options.onOutput?.(output, label);
      metrics?.collect(output);
    },
  });
  for (const fn of cloud.functions) labels.set(fn.name, fn.label);
  for (const message of notices) say(`Not as on AWS: ${message}`);
  say(
    `Local cloud up: ${cloud.functions.length} functions, ${cloud.pollers.length} event source mappings. ` +
      `Logs in ${path.relative(process.cwd(), logDir) || '.'}/.`,
  );
  for (const pipeline of summarizePipelines(cloud.stacks.map((stack) => stack.stack))) {
    say(`  ${pipeline.sourceKind} ${pipeline.source} -> ${pipeline.consumer} (${pipeline.settings})`);
  }
  const firstEvent = watchFirstEvent(cloud, say);
  // Served from the start, so that it shows what the workload does while it runs.
  const dashboard = metrics
    ? await startDashboard(cloud, metrics, { port: options.dashboardPort ?? DEFAULT_DASHBOARD_PORT }).catch(
        async (error) => {
          await cloud.stop();
          throw error;
        },
      )
    : undefined;
  if (dashboard) say(`The app's dashboard, with the local cloud's own metrics and alarms: ${dashboard.url}`);

  const endpointsFile = path.join(stateDir, 'endpoints.json');
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    clearInterval(firstEvent);
    // A stopped local cloud leaves no endpoints behind for `eda-kit --local` to call.
    rmSync(endpointsFile, { force: true });
    try {
      await dashboard?.close();
      await cloud.stop();
      // The functions' last lines reach their files before the process ends.
      await Promise.all([...logFiles.values()].map((file) => new Promise((resolve) => file.end(resolve))));
    } finally {
      process.exit(code);
    }
  };
  // Ctrl-C is how serving is meant to end: a clean stop, exit code 0. Interrupted before that (a workload, or a CI
  // job's timeout), it is not a success: 130 and 143, as a shell reports a signal.
  let serving = false;
  process.on('SIGINT', () => void stop(serving ? 0 : 130));
  process.on('SIGTERM', () => void stop(serving ? 0 : 143));

  let code: number;
  try {
    code = (await options.afterStart?.(cloud, say)) ?? 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return stop(1);
  }
  if (!options.serve) return stop(code);
  serving = true;

  writeFileSync(
    endpointsFile,
    `${JSON.stringify(
      {
        region: LOCAL_REGION,
        edge: cloud.edge?.url,
        endpoints: cloud.endpoints,
        outputs: cloud.outputs(),
        resources: cloud.resourceMap(),
      },
      null,
      2,
    )}\n`,
  );
  say(
    `Serving. Endpoints, outputs and every resource's local name, URL or ARN: ${path.relative(process.cwd(), endpointsFile)}`,
  );
  say(`  SQS, Kinesis and DynamoDB on one endpoint: AWS_ENDPOINT_URL=${cloud.edge?.url}`);
  say(
    `  e.g. AWS_ENDPOINT_URL=${cloud.edge?.url} aws sqs list-queues   (any access key; region ${LOCAL_REGION}). Ctrl-C stops.`,
  );
  say(`Up ${((Date.now() - startedAt) / 1000).toFixed(1)} s after start.`);
}

/** Says when an event source mapping first finished a record without a failure: the first event processed. */
function watchFirstEvent(cloud: LocalCloud, say: (message: string) => void): NodeJS.Timeout {
  const timer = setInterval(() => {
    const mapping = cloud.pollers.find(({ poller }) => poller.stats.succeededRecords > 0);
    if (!mapping) return;
    clearInterval(timer);
    say(`First event processed (${mapping.functionLabel}).`);
  }, 20);
  timer.unref();
  return timer;
}
