import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as path from 'node:path';
import { extractThroughputLatencyPoints, renderThroughputLatencySvg } from './plot';
import { type BenchResult, RESULTS_FILE, withinBudget } from './results';

/** The machine a set of results was measured on, and when. */
export interface BenchMachine {
  /** Logical CPU cores. */
  readonly cores: number;
  /** The CPU model as the OS names it, e.g. `AMD EPYC 7B13`. @default - not shown */
  readonly cpuModel?: string;
  /** The Node.js version, e.g. `v20.20.2`. */
  readonly node: string;
  /** The date of the measurement, as it is to be printed, e.g. `2025-11-27`. */
  readonly date: string;
}

/** Options of {@link renderMarkdown}. */
export interface RenderMarkdownOptions {
  /** Link to the throughput and latency plot, relative to the markdown file. @default - no plot */
  readonly plotPath?: string;
}

/** The marker before the benchmark section of README.md. */
export const BENCH_SECTION_START = '<!-- bench:start -->';
/** The marker after the benchmark section of README.md. */
export const BENCH_SECTION_END = '<!-- bench:end -->';

const ROOT = path.resolve(__dirname, '..');
const README_FILE = path.join(ROOT, 'README.md');
const RESULTS_MARKDOWN_FILE = path.join(__dirname, 'RESULTS.md');
const PLOT_FILE = path.join(__dirname, 'throughput-latency.svg');

/** A number with thousands separators and at most two decimals (three significant digits below 1). */
function formatNumber(value: number): string {
  const small = value !== 0 && Math.abs(value) < 1;
  return value.toLocaleString('en-US', small ? { maximumSignificantDigits: 3 } : { maximumFractionDigits: 2 });
}

/** A value with its unit; ratios (unit `x`) read as `6.89x`. */
function formatQuantity(value: number, unit: string): string {
  return unit === 'x' ? `${formatNumber(value)}x` : `${formatNumber(value)} ${unit}`;
}

/** Text made safe for one cell of a markdown table. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** `yes`, `no`, or `—` for a figure without a target. */
function metCell(result: BenchResult): string {
  if (result.budget === undefined) return '—';
  return withinBudget(result) ? 'yes' : 'no';
}

/**
 * The benchmark section as markdown: a line naming the machine and the date, then a table with one row per figure
 * (figure | value | baseline | ratio | target | met | note), in the order of `results`. Fields a result carries
 * beyond {@link BenchResult} (a `runs` count, say) are ignored.
 */
export function renderMarkdown(
  results: readonly BenchResult[],
  machine: BenchMachine,
  options: RenderMarkdownOptions = {},
): string {
  const cpu = machine.cpuModel ? ` (${machine.cpuModel.trim()})` : '';
  const targets = results.filter((result) => result.budget !== undefined);
  const met = targets.filter(withinBudget).length;
  const lines = [
    `Measured on ${machine.cores} cores${cpu}, Node ${machine.node.replace(/^v/, '')}, ${machine.date}: ` +
      `${met} of ${targets.length} targets met.`,
    '',
    '| figure | value | baseline | ratio | target | met | note |',
    '|---|---:|---:|---:|---|---|---|',
    ...results.map((result) =>
      [
        '',
        `\`${cell(result.name)}\``,
        cell(formatQuantity(result.value, result.unit)),
        result.baseline === undefined ? '' : formatNumber(result.baseline),
        result.ratio === undefined ? '' : `${formatNumber(result.ratio)}x`,
        result.budget === undefined
          ? ''
          : cell(`${result.atLeast ? '≥' : '≤'} ${formatQuantity(result.budget, result.unit)}`),
        metCell(result),
        cell(result.note ?? ''),
        '',
      ]
        .join(' | ')
        .trim(),
    ),
  ];
  if (options.plotPath) lines.push('', `![Throughput and latency against orders](${options.plotPath})`);
  return `${lines.join('\n')}\n`;
}

/** Where `marker` occurs in `text`, every time. */
function occurrences(text: string, marker: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + marker.length)) found.push(at);
  return found;
}

/**
 * Replaces what lies between `<!-- bench:start -->` and `<!-- bench:end -->` in `readmeText` with `markdown`,
 * and leaves the markers and everything outside them as they were. Throws when the markers are missing, repeated
 * or out of order.
 */
export function updateReadmeSection(readmeText: string, markdown: string): string {
  const starts = occurrences(readmeText, BENCH_SECTION_START);
  const ends = occurrences(readmeText, BENCH_SECTION_END);
  const expected = `expected one ${BENCH_SECTION_START} and one ${BENCH_SECTION_END} after it`;
  if (starts.length !== 1 || ends.length !== 1) {
    throw new Error(
      `README has ${starts.length} ${BENCH_SECTION_START} and ${ends.length} ${BENCH_SECTION_END} markers: ${expected}`,
    );
  }
  if (ends[0] < starts[0]) {
    throw new Error(`README has ${BENCH_SECTION_END} before ${BENCH_SECTION_START}: ${expected}`);
  }
  // Blank lines around the section so that the table never runs into the HTML comments.
  return `${readmeText.slice(0, starts[0] + BENCH_SECTION_START.length)}\n\n${markdown.trim()}\n\n${readmeText.slice(ends[0])}`;
}

/** Reads bench/results.json, or explains how to make it. */
function readResults(): BenchResult[] {
  try {
    return JSON.parse(readFileSync(RESULTS_FILE, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${path.relative(ROOT, RESULTS_FILE)} not found: run \`npm run bench\` first`);
    }
    throw error;
  }
}

/**
 * Writes bench/RESULTS.md and bench/throughput-latency.svg from bench/results.json, and rewrites README.md's bench
 * section when README.md has its markers.
 */
async function main(): Promise<void> {
  const results = readResults();
  const machine: BenchMachine = {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model,
    node: process.version,
    // The day the figures were last written, not the day of this report.
    date: statSync(RESULTS_FILE).mtime.toISOString().slice(0, 10),
  };

  const { points, incomplete } = extractThroughputLatencyPoints(results);
  for (const { orders, missing } of incomplete) {
    console.log(`Not plotted: ${orders} orders lacks ${missing.join(', ')}`);
  }
  const plotted = points.length > 0;
  if (plotted) {
    writeFileSync(PLOT_FILE, await renderThroughputLatencySvg(points));
    console.log(`Wrote ${path.relative(ROOT, PLOT_FILE)} (${points.map((point) => point.orders).join(', ')} orders)`);
  } else {
    console.log(`No plot: no orders count has all of local.ordersPerSecond, local.latencyMs.p50 and .p99`);
  }

  const plotName = path.basename(PLOT_FILE);
  const section = renderMarkdown(results, machine, { plotPath: plotted ? plotName : undefined });
  writeFileSync(
    RESULTS_MARKDOWN_FILE,
    `# Benchmark results\n\nWritten by \`bench/report.ts\` from \`bench/results.json\`.\n\n${section}`,
  );
  console.log(`Wrote ${path.relative(ROOT, RESULTS_MARKDOWN_FILE)}`);

  const readme = readFileSync(README_FILE, 'utf8');
  if (!readme.includes(BENCH_SECTION_START) && !readme.includes(BENCH_SECTION_END)) {
    console.log(`README.md left as it is: it has no ${BENCH_SECTION_START} ... ${BENCH_SECTION_END} section`);
    return;
  }
  const updated = updateReadmeSection(
    readme,
    renderMarkdown(results, machine, { plotPath: plotted ? `bench/${plotName}` : undefined }),
  );
  if (updated !== readme) writeFileSync(README_FILE, updated);
  console.log(`README.md: bench section ${updated === readme ? 'already up to date' : 'rewritten'}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
