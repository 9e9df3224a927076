import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type AssemblyStack, readAssembly } from '../../local/assembly';
import { type LocalDashboardServer, startDashboard } from '../../local/dashboard/dashboard-server';
import { LocalMetrics } from '../../local/dashboard/local-metrics';
import { LocalCloud } from '../../local/local-cloud';
import { MetricsCollector } from '../../local/metrics-collector';
import { synthesize } from '../../local/synth';
import { runWorkload } from '../../workload/order-workload';

const projectDir = path.resolve(__dirname, '..', '..');
/** Debian's chromium (`apt-get install -y chromium`); Playwright's own browser download does not work here. */
const CHROMIUM = process.env.EDA_KIT_CHROMIUM ?? '/usr/bin/chromium';
const skipReason = existsSync(CHROMIUM)
  ? undefined
  : `no chromium at ${CHROMIUM} (apt-get install -y chromium, or set EDA_KIT_CHROMIUM)`;
if (skipReason) console.warn(`Skipping the dashboard's browser tests: ${skipReason}`);

/** The widgets of the template's dashboard, read straight from its `DashboardBody` (tokens as placeholders). */
function dashboardWidgets(stack: AssemblyStack): { type: string; properties: { title?: string; markdown?: string } }[] {
  const [dashboard] = Object.values(stack.resources).filter(
    (resource) => resource.Type === 'AWS::CloudWatch::Dashboard',
  );
  const body = dashboard.Properties?.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const [, parts] = body['Fn::Join'];
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'token')).join('')).widgets;
}

/** What the page shows, widget by widget. */
async function pageWidgets(page: Page) {
  return page.$$eval('.grid > .widget', (boxes) =>
    boxes.map((box) => ({
      type: box.dataset.type,
      title: box.querySelector('.title')?.textContent ?? undefined,
      heading: box.querySelector('h1, h2, h3')?.textContent ?? undefined,
      local: box.dataset.local === 'true',
      points: Number(box.dataset.points),
      missing: [...box.querySelectorAll('.missing')].map((note) => note.textContent),
    })),
  );
}

describe('the dashboard of the reference app, served locally and opened in chromium', () => {
  let cloud: LocalCloud | undefined;
  let dashboard: LocalDashboardServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let stack: AssemblyStack;
  let assemblyDir: string | undefined;

  beforeAll(async () => {
    if (skipReason) return;
    // GIVEN the reference app on the local cloud, with its metrics recorded and its dashboard served
    mkdirSync(path.join(projectDir, '.test-out'), { recursive: true });
    assemblyDir = mkdtempSync(path.join(projectDir, '.test-out', 'dashboard-'));
    await synthesize(projectDir, assemblyDir);
    [stack] = readAssembly(assemblyDir);
    const metrics = new LocalMetrics();
    const collector = new MetricsCollector();
    const labels = new Map<string, string>();
    cloud = await LocalCloud.start({
      assemblyDir,
      plugins: [metrics.plugin],
      onOutput: (output) => {
        metrics.collect(output);
        collector.collect(output, labels.get(output.functionName));
      },
    });
    for (const fn of cloud.functions) labels.set(fn.name, fn.label);
    dashboard = await startDashboard(cloud, metrics, { port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    // Tall enough for every widget to be in view: a graph is drawn once it is.
    page = await browser.newPage({ viewport: { width: 1600, height: 6000 } });
    await page.goto(dashboard.url);
    // WHEN a small workload runs through it (no invalid events: the dead-letter queues stay empty)
    await runWorkload(cloud, collector, { orders: 12, duplicates: 0, invalid: 0, seed: 5, settleSeconds: 10 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await cloud?.stop();
    if (assemblyDir) rmSync(assemblyDir, { recursive: true, force: true });
  });

  test('THEN every widget of the DashboardBody is on the page, in order, with its title; text widgets render their headings', async (context) => {
    if (skipReason) context.skip(skipReason);
    const expected = dashboardWidgets(stack);
    const shown = await pageWidgets(page);

    expect(shown).toHaveLength(expected.length);
    expect(shown.map((widget) => widget.type)).toEqual(expected.map((widget) => widget.type));
    expect(shown.map((widget) => widget.title ?? widget.heading)).toEqual(
      expected.map((widget) => widget.properties.title ?? widget.properties.markdown?.replace(/^#+\s*/, '')),
    );
  });

  test('THEN every widget with a local source has data after the workload, and the others say what has no source', async (context) => {
    if (skipReason) context.skip(skipReason);
    // The page refreshes every 2 s: the last refresh after the workload has every datapoint of it.
    const after = Date.now();
    await page.waitForFunction(`Number(document.body.dataset.updated) > ${after}`, undefined, { timeout: 10_000 });
    const graphs = (await pageWidgets(page)).filter((widget) => widget.type === 'metric');

    const local = graphs.filter((widget) => widget.local);
    expect(local.length).toBeGreaterThan(30);
    expect(local.filter((widget) => widget.points === 0).map((widget) => widget.title)).toEqual([]);
    const notLocal = graphs.filter((widget) => !widget.local);
    expect(notLocal.map((widget) => widget.title)).toEqual(['Throughput exceeded', 'Throttled requests']);
    expect(notLocal.flatMap((widget) => widget.missing)).toEqual([
      'no local source for AWS/Kinesis ReadProvisionedThroughputExceeded (kinesalite does not enforce shard throughput)',
      'no local source for AWS/Kinesis WriteProvisionedThroughputExceeded (kinesalite does not enforce shard throughput)',
      'no local source for AWS/DynamoDB ReadThrottleEvents (dynalite does not throttle)',
      'no local source for AWS/DynamoDB WriteThrottleEvents (dynalite does not throttle)',
    ]);
  });

  test('THEN a poison event sent to a queue turns its dead-letter alarm to ALARM, in its section and in the list', async (context) => {
    if (skipReason) context.skip(skipReason);
    const name = 'EdaKit-dev-OrderEvents-order-processor-DeadLetterMessages';
    const states = () =>
      page.$$eval(`[data-alarm-name="${name}"]`, (items) => items.map((item) => item.dataset.alarmState) as string[]);
    expect(await states()).toEqual(['OK', 'OK']);

    // WHEN an invalid JSON event reaches the orders queue: its consumer dead-letters it
    await cloud?.queue('Orders/Queue').send('{"type":"OrderPlaced","orderId":');

    await expect.poll(states, { timeout: 20_000, interval: 250 }).toEqual(['ALARM', 'ALARM']);
    // AND the pipeline's composite alarm follows; the other queue's dead-letter alarm does not
    const state = (alarm: string) =>
      page.$eval(`#alarm-list [data-alarm-name="${alarm}"]`, (item) => item.dataset.alarmState);
    expect(await state('EdaKit-dev-OrderEvents-PipelineUnhealthy')).toBe('ALARM');
    expect(await state('EdaKit-dev-OrderEvents-notification-sender-DeadLetterMessages')).toBe('OK');
  });
});

test('GIVEN --serve with a dashboard port another process holds THEN eda-kit local names it on one line, exits 2 and starts nothing', async () => {
  // Prepare
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const taken = (holder.address() as AddressInfo).port;
  try {
    // Act: in a folder without an app, so that anything started would fail otherwise
    const result = spawnSync(
      path.join(projectDir, 'node_modules', '.bin', 'tsx'),
      [
        path.join(projectDir, 'bin', 'eda-kit.ts'),
        'local',
        '--serve',
        '--port',
        '0',
        '--dashboard-port',
        String(taken),
      ],
      { cwd: tmpdir(), encoding: 'utf8', timeout: 60_000 },
    );

    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      `port ${taken} is in use by another process: stop it, or choose another port with --dashboard-port`,
    );
    expect(result.stdout).toBe('');
  } finally {
    holder.close();
  }
});
