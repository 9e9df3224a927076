/**
 * Takes docs/dashboard.png: the reference app's dashboard as `npm start -- --serve` serves it, after a workload of
 * `--orders` orders (1% of them invalid events, so the dead-letter alarms show red), in a headless chromium.
 *
 *   npm run build && npx tsx tools/dashboard-screenshot.ts [--orders 300] [--out docs/dashboard.png]
 *
 * Needs Debian's chromium (`apt-get install -y chromium`) or EDA_KIT_CHROMIUM.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { chromium } from 'playwright-core';
import { CHROMIUM, startServed } from '../bench/dashboard';
import { wholeNumber } from '../ops/cli-args';

async function main(): Promise<void> {
  const flags = new Command()
    .name('tsx tools/dashboard-screenshot.ts')
    .option('--orders <n>', 'orders the workload places before the screenshot', wholeNumber, 300)
    .option('--out <file>', 'where the PNG goes', path.join('docs', 'dashboard.png'))
    .parse(process.argv)
    .opts<{ orders: number; out: string }>();
  if (!existsSync(CHROMIUM)) {
    console.error(`no chromium at ${CHROMIUM}: apt-get install -y chromium, or set EDA_KIT_CHROMIUM`);
    process.exit(2);
  }
  const served = startServed(['--orders', String(flags.orders)]);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const url = await served.dashboardUrl;
    console.log(`Dashboard at ${url}; ${flags.orders} orders running...`);
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(url);
    await served.serving;
    // Every widget in view (a graph is drawn once it is), then two refreshes after the workload.
    const height = await page.evaluate('document.documentElement.scrollHeight');
    await page.setViewportSize({ width: 1600, height: Number(height) });
    const after = Date.now();
    await page.waitForFunction(`Number(document.body.dataset.updated) > ${after + 2000}`, undefined, {
      timeout: 15_000,
    });
    await page.screenshot({ path: flags.out, fullPage: true });
    console.log(`Written ${flags.out}`);
  } finally {
    await browser.close();
    await served.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
