/**
 * The app's CloudWatch dashboards, served locally: the same sections, widgets, titles and layout as the
 * synthesized `DashboardBody`, filled with the local cloud's own metrics, and every alarm evaluated by its own rule.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { LocalCloud } from '../local-cloud';
import { AlarmStates } from './alarm-states';
import { readMonitoring } from './dashboard-model';
import { DashboardPortInUseError, DEFAULT_DASHBOARD_PORT } from './dashboard-port';
import type { LocalMetrics } from './local-metrics';
import { renderPage } from './page';
import { DashboardPage } from './page-model';

/** How much shorter a period is locally than in the template: a 1-minute period is 10 s. */
export const DEFAULT_PERIOD_SCALE = 6;

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  /**
   * The port on 127.0.0.1; 0 picks a free one.
   *
   * @default 4567
   */
  readonly port?: number;
  /**
   * How much shorter periods are locally: a period of the template lasts `period / periodScale` here (never less
   * than a sample interval), in graphs and in alarm evaluation alike.
   *
   * @default 6 - a 1-minute period is 10 s, a 5-minute alarm period 50 s
   */
  readonly periodScale?: number;
  /**
   * Seconds between two samples of the metrics, and between two refreshes of the page.
   *
   * @default 2
   */
  readonly sampleSeconds?: number;
  /** Told when a sample fails (the next one is still taken). @default - printed on stderr */
  readonly onError?: (error: Error) => void;
}

/** A served dashboard. */
export interface LocalDashboardServer {
  /** The page: `http://127.0.0.1:<port>/`. */
  readonly url: string;
  /** How many dashboards and alarms the app has. */
  readonly dashboards: number;
  readonly alarms: number;
  /** Stops sampling and serving. */
  close(): Promise<void>;
}

/** The chart libraries the page loads, by the path it loads them from. */
const ASSETS: Readonly<Record<string, [string, string]>> = {
  '/assets/vega.min.js': ['vega', 'vega.min.js'],
  '/assets/vega-lite.min.js': ['vega-lite', 'vega-lite.min.js'],
};

/**
 * Serves the dashboards of `cloud`'s app on 127.0.0.1: attaches `metrics` (which must have been given to the cloud
 * as a plugin and output listener when it started) to the cloud, samples them every `sampleSeconds`, evaluates
 * every alarm after each sample, and serves the page, its data (`/data.json`) and the chart libraries, read from the
 * installed `vega` and `vega-lite` packages.
 */
export async function startDashboard(
  cloud: LocalCloud,
  metrics: LocalMetrics,
  options: DashboardOptions = {},
): Promise<LocalDashboardServer> {
  const periodScale = options.periodScale ?? DEFAULT_PERIOD_SCALE;
  const sampleMs = (options.sampleSeconds ?? 2) * 1000;
  const periodMs = (seconds: number) => Math.max(sampleMs, (seconds * 1000) / periodScale);
  // CloudWatch's dashboards show 3 hours by default: as long, scaled, as far as the metrics are kept.
  const windowMs = Math.min((3 * 3_600_000) / periodScale, metrics.store.retentionMs);
  const startedAt = Date.now();

  metrics.attach(cloud);
  const { dashboards, alarms, notices } = readMonitoring(cloud.stacks);
  const alarmStates = new AlarmStates(alarms, metrics, periodMs);
  const page = new DashboardPage(dashboards, alarmStates, metrics, {
    periodScale,
    sampleSeconds: sampleMs / 1000,
    windowMinutes: windowMs / 60_000,
    periodMs,
    notices,
  });
  const assets = readAssets();
  const html = renderPage(
    page.model,
    assets.missing.length > 0
      ? `The charts need ${assets.missing.join(' and ')}: npm install --save-dev ${assets.missing.map((name) => `${name}@6`).join(' ')}`
      : undefined,
  );

  // Sampling: every interval, then the alarms; the page's data is computed once per sample, when first asked for.
  let sampledAt = startedAt;
  let data: { at: number; body: string } | undefined;
  let running = true;
  let timer: NodeJS.Timeout | undefined;
  let sampling: Promise<void> = Promise.resolve();
  const sample = async () => {
    const now = Date.now();
    try {
      await metrics.sample(now);
      alarmStates.evaluate(now);
      sampledAt = now;
    } catch (error) {
      (options.onError ?? ((failure) => console.error(`dashboard: a sample failed: ${failure.message}`)))(
        error as Error,
      );
    } finally {
      if (running) timer = setTimeout(() => (sampling = sample()), Math.max(0, sampleMs - (Date.now() - now)));
      timer?.unref();
    }
  };
  sampling = sample();

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain', 'GET only');
    if (url.pathname === '/' || url.pathname === '/index.html') return send(response, 200, 'text/html', html);
    if (url.pathname === '/data.json') {
      if (data?.at !== sampledAt) {
        data = { at: sampledAt, body: JSON.stringify(page.data(sampledAt, Math.max(startedAt, sampledAt - windowMs))) };
      }
      return send(response, 200, 'application/json', data.body);
    }
    // Browsers ask for an icon: there is none, and that is not an error.
    if (url.pathname === '/favicon.ico') return send(response, 204, 'text/plain', '');
    const asset = assets.files.get(url.pathname);
    if (asset) return send(response, 200, 'text/javascript', asset, 'max-age=3600');
    return send(response, 404, 'text/plain', `not found: ${url.pathname}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      running = false;
      clearTimeout(timer);
      reject(error.code === 'EADDRINUSE' ? new DashboardPortInUseError(options.port ?? DEFAULT_DASHBOARD_PORT) : error);
    });
    server.listen(options.port ?? DEFAULT_DASHBOARD_PORT, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    dashboards: dashboards.length,
    alarms: alarms.length,
    close: async () => {
      running = false;
      clearTimeout(timer);
      await sampling.catch(() => undefined);
      await closeServer(server);
    },
  };
}

function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  cacheControl = 'no-store',
): void {
  response.writeHead(status, {
    'content-type': `${type}; charset=utf-8`,
    'content-length': Buffer.byteLength(body),
    'cache-control': cacheControl,
  });
  response.end(body);
}

/** The chart libraries, read once from the installed packages; the ones that are not installed are named. */
function readAssets(): { files: Map<string, Buffer>; missing: string[] } {
  const files = new Map<string, Buffer>();
  const missing: string[] = [];
  for (const [route, [packageName, file]] of Object.entries(ASSETS)) {
    try {
      // The packages export only their module entry (in build/), beside which their browser bundles are.
      files.set(route, readFileSync(path.join(path.dirname(require.resolve(packageName)), file)));
    } catch {
      missing.push(packageName);
    }
  }
  return { files, missing };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // The page keeps a connection open between refreshes: close it rather than wait for it.
    server.closeAllConnections();
  });
}
