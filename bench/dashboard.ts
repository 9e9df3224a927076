import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { processCpuSeconds } from '../local/process-cpu';
import { type LocalRun, reportResults, runOnce } from './local';
import { type BenchResult, median, ratioResult, round, workloadFlags } from './results';

const root = path.resolve(__dirname, '..');
/** Debian's chromium (`apt-get install -y chromium`). */
export const CHROMIUM = process.env.EDA_KIT_CHROMIUM ?? '/usr/bin/chromium';

/** `npm start -- --serve` with its dashboard, started as a child process. */
export interface ServedStart {
  readonly child: ChildProcess;
  /** The dashboard's URL, once printed. */
  readonly dashboardUrl: Promise<string>;
  /** Resolves once the workload is done and the local cloud serves (`Serving.`). */
  readonly serving: Promise<void>;
  /** Stops it with Ctrl-C; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** Starts workload/start.ts with `--serve`, on free ports, with `flags` besides. */
export function startServed(flags: readonly string[]): ServedStart {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'workload/start.ts', '--serve', '--port', '0', '--dashboard-port', '0', ...flags],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = <T>(match: (text: string) => T | undefined, what: string) =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const found = match(output);
        if (found !== undefined) resolve(found);
      };
      child.stdout?.on('data', check);
      void exited.then((code) => reject(new Error(`exited with ${code} before ${what}:\n${output.slice(-3000)}`)));
    });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  return {
    child,
    dashboardUrl: waitFor(
      (text) => /dashboard, with the local cloud's own metrics and alarms: (http:\/\/\S+)/.exec(text)?.[1],
      'the dashboard URL',
    ),
    serving: waitFor((text) => (text.includes('Serving.') ? true : undefined), 'serving').then(() => undefined),
    stop: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

/** The pids of `pid` and every process below it. */
function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat, after the command in parentheses, is the parent's pid.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(parent, [...(parents.get(parent) ?? []), Number(entry)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]) ?? []));
  return tree;
}

/** What a run with the page open measured besides the workload's report. */
interface PageRun extends LocalRun {
  readonly pageLoadMs: number;
  /** The same, reloaded once the workload is done: the page alone, the machine at rest. */
  readonly pageLoadAtRestMs: number;
  readonly firstLayoutMs: number;
  readonly chromiumCpuSeconds: number;
  readonly dataBytes: number;
  readonly dataMs: number;
}

/**
 * One `npm start -- --serve` run of `orders` orders; with `viewportHeight`, a headless chromium has the dashboard
 * open (refreshing every 2 s) from before the first order to the end of the workload.
 */
async function servedRun(orders: number, viewportHeight?: number): Promise<PageRun> {
  const jsonFile = path.join(tmpdir(), `eda-kit-dashboard-${process.pid}-${orders}.json`);
  rmSync(jsonFile, { force: true });
  const served = startServed(['--orders', String(orders), '--json', jsonFile]);
  const browser =
    viewportHeight === undefined
      ? undefined
      : await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const url = await served.dashboardUrl;
    let page: { load: number; layout: number } = { load: 0, layout: 0 };
    let tab: Awaited<ReturnType<NonNullable<typeof browser>['newPage']>> | undefined;
    if (browser) {
      tab = await browser.newPage({ viewport: { width: 1600, height: viewportHeight ?? 1000 } });
      await tab.goto(url);
      await tab.waitForFunction('document.body.dataset.firstDataMs !== undefined', undefined, { timeout: 30_000 });
      page = await tab.evaluate(
        '({ load: Number(document.body.dataset.firstDataMs), layout: Number(document.body.dataset.builtMs) })',
      );
    }
    const cpuBefore = chromiumCpuSeconds();
    await served.serving;
    const chromiumCpu = chromiumCpuSeconds() - cpuBefore;
    let pageLoadAtRestMs = 0;
    if (tab) {
      await tab.reload();
      await tab.waitForFunction('document.body.dataset.firstDataMs !== undefined', undefined, { timeout: 30_000 });
      pageLoadAtRestMs = Number(await tab.evaluate('document.body.dataset.firstDataMs'));
    }
    // What one refresh costs the local cloud: its data, computed and sent.
    const started = performance.now();
    const data = await (await fetch(new URL('data.json', url))).text();
    const dataMs = performance.now() - started;
    const report: LocalRun = JSON.parse(readFileSync(jsonFile, 'utf8'));
    return {
      ...report,
      pageLoadMs: page.load,
      pageLoadAtRestMs,
      firstLayoutMs: page.layout,
      chromiumCpuSeconds: chromiumCpu,
      dataBytes: Buffer.byteLength(data),
      dataMs,
    };
  } finally {
    await browser?.close();
    const code = await served.stop();
    rmSync(jsonFile, { force: true });
    if (code !== 0) console.error(`npm start -- --serve exited with ${code}`);
  }
}

/** CPU seconds used so far by the chromium processes this process started (every one of them: browser, renderer, GPU). */
function chromiumCpuSeconds(): number {
  return processTree(process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chromium');
      } catch {
        return false;
      }
    })
    .reduce((sum, pid) => sum + (processCpuSeconds(pid) ?? 0), 0);
}

/**
 * The reference workload (`npm start`) without the dashboard, with the dashboard served but no page open, with the
 * page open in a headless chromium (a window's worth of widgets in view), and with every widget in view: orders
 * per second of each and their ratios, the page's load time and what a refresh costs. Runs alternate.
 */
export async function measureDashboard(orders: number, runs: number): Promise<BenchResult[]> {
  const plain: LocalRun[] = [];
  const served: PageRun[] = [];
  const open: PageRun[] = [];
  const everything: PageRun[] = [];
  for (let run = 0; run < runs; run++) {
    console.log(`dashboard: ${orders} orders, run ${run + 1} of ${runs}: without the dashboard...`);
    plain.push(runOnce(orders));
    console.log(`dashboard: ${orders} orders, run ${run + 1} of ${runs}: dashboard served, no page open...`);
    served.push(await servedRun(orders));
    console.log(`dashboard: ${orders} orders, run ${run + 1} of ${runs}: page open in chromium (1600x1000)...`);
    open.push(await servedRun(orders, 1000));
    console.log(`dashboard: ${orders} orders, run ${run + 1} of ${runs}: page open, every widget in view...`);
    everything.push(await servedRun(orders, 8000));
  }
  for (const report of [...plain, ...served, ...open, ...everything]) {
    if (report.lost > 0 || report.duplicatedEffects > 0)
      throw new Error(`${report.lost} lost, ${report.duplicatedEffects} duplicated effects: a bug, not a figure`);
  }
  const rate = (reports: readonly LocalRun[]) => median(reports.map((report) => report.ordersPerSecond));
  const rates = (reports: readonly LocalRun[]) => reports.map((report) => report.ordersPerSecond.toFixed(1)).join(', ');
  const base = rate(plain);
  const ratio = (name: string, reports: readonly PageRun[], what: string): BenchResult[] => [
    {
      name: `local.dashboard.${name}.ordersPerSecond`,
      value: round(rate(reports)),
      unit: 'orders/s',
      note: `median of ${reports.length} run(s) of ${orders} orders (${rates(reports)}): ${what}`,
    },
    ratioResult(
      `local.dashboard.${name}.vsWithout`,
      rate(reports),
      base,
      `orders/s ${what}, over orders/s of \`npm start\` without the dashboard (${rates(plain)}), runs alternated`,
    ),
  ];
  const all = [...open, ...everything];
  return [
    ...ratio('served', served, 'with the dashboard served (sampling, alarms) and no page open'),
    ...ratio('pageOpen', open, 'with the page open in headless chromium, 1600x1000, refreshing every 2 s'),
    ...ratio('allInView', everything, 'with the page open and every widget in view (1600x8000)'),
    {
      name: 'local.dashboard.pageLoadMs',
      value: round(median(open.map((run) => run.pageLoadAtRestMs))),
      unit: 'ms',
      note: `from navigation to the first data drawn in view (1600x1000), the full reference dashboard, the workload done (${open.map((run) => Math.round(run.pageLoadAtRestMs)).join(', ')} ms); every widget in view: ${everything.map((run) => Math.round(run.pageLoadAtRestMs)).join(', ')} ms`,
    },
    {
      name: 'local.dashboard.pageLoadUnderLoadMs',
      value: round(median(all.map((run) => run.pageLoadMs))),
      unit: 'ms',
      note: `the same, opened as the workload starts (${all.map((run) => Math.round(run.pageLoadMs)).join(', ')} ms; laid out at ${all.map((run) => Math.round(run.firstLayoutMs)).join(', ')} ms)`,
    },
    {
      name: 'local.dashboard.chromiumCpuSecondsPerMinute',
      value: round(median(open.map((run) => (run.chromiumCpuSeconds / run.seconds) * 60))),
      unit: 'CPU-s/min',
      note: `headless chromium's CPU (every process) while the page refreshes, 1600x1000; all in view: ${round(median(everything.map((run) => (run.chromiumCpuSeconds / run.seconds) * 60)))} CPU-s/min`,
    },
    {
      name: 'local.dashboard.refreshBytes',
      value: median(all.map((run) => run.dataBytes)),
      unit: 'bytes',
      note: `data.json after the workload (${all.map((run) => run.dataBytes).join(', ')}); served in ${all.map((run) => run.dataMs.toFixed(1)).join(', ')} ms`,
    },
  ];
}

async function main(): Promise<void> {
  const flags = workloadFlags('tsx bench/dashboard.ts');
  if (!existsSync(CHROMIUM)) {
    console.error(`no chromium at ${CHROMIUM}: apt-get install -y chromium, or set EDA_KIT_CHROMIUM`);
    process.exit(2);
  }
  reportResults(await measureDashboard(flags.orders, flags.runs));
}

if (require.main === module) void main();
