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
  /** Whether the table has a note column (bench/RESULTS.md) or not (the compact table of docs/benchmarks.md). @default true */
  readonly notes?: boolean;
}

/** The marker before the generated benchmark section of a markdown file. */
export const BENCH_SECTION_START = '<!-- bench:start -->';
/** The marker after the generated benchmark section of a markdown file. */
export const BENCH_SECTION_END = '<!-- bench:end -->';

const ROOT = path.resolve(__dirname, '..');
const DOCS_FILE = path.join(ROOT, 'docs', 'benchmarks.md');
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
  const notes = options.notes ?? true;
  const lines = [
    `Measured on ${machine.cores} cores${cpu}, Node ${machine.node.replace(/^v/, '')}, ${machine.date}: ` +
      `${met} of ${targets.length} targets met.`,
    '',
    notes
      ? '| figure | value | baseline | ratio | target | met | note |'
      : '| figure | value | baseline | ratio | target | met |',
    notes ? '|---|---:|---:|---:|---|---|---|' : '|---|---:|---:|---:|---|---|',
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
        ...(notes ? [cell(result.note ?? '')] : []),
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
 * Replaces what lies between `<!-- bench:start -->` and `<!-- bench:end -->` in `text` (the markdown file called
 * `fileName`) with `markdown`, and leaves the markers and everything outside them as they were. Throws when the
 * markers are missing, repeated or out of order.
 */
export function updateBenchSection(text: string, markdown: string, fileName: string): string {
  const starts = occurrences(text, BENCH_SECTION_START);
  const ends = occurrences(text, BENCH_SECTION_END);
  const expected = `expected one ${BENCH_SECTION_START} and one ${BENCH_SECTION_END} after it`;
  if (starts.length !== 1 || ends.length !== 1) {
    throw new Error(
      `${fileName} has ${starts.length} ${BENCH_SECTION_START} and ${ends.length} ${BENCH_SECTION_END} markers: ${expected}`,
    );
  }
  if (ends[0] < starts[0]) {
    throw new Error(`${fileName} has ${BENCH_SECTION_END} before ${BENCH_SECTION_START}: ${expected}`);
  }
  // Blank lines around the section so that the table never runs into the HTML comments.
  return `${text.slice(0, starts[0] + BENCH_SECTION_START.length)}\n\n${markdown.trim()}\n\n${text.slice(ends[0])}`;
}

/** Rewrites the bench section of `file` when it changed, and says so. */
function rewriteBenchSection(file: string, markdown: string): void {
  const name = path.relative(ROOT, file);
  const text = readFileSync(file, 'utf8');
  const updated = updateBenchSection(text, markdown, name);
  if (updated !== text) writeFileSync(file, updated);
  console.log(`${name}: bench section ${updated === text ? 'already up to date' : 'rewritten'}`);
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
 * Writes bench/throughput-latency.svg from bench/results.json, and rewrites the generated section of
 * bench/RESULTS.md (the full table, with notes; the analysis around it is kept) and of docs/benchmarks.md (the
 * compact table).
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
  rewriteBenchSection(
    RESULTS_MARKDOWN_FILE,
    renderMarkdown(results, machine, { plotPath: plotted ? plotName : undefined }),
  );
  rewriteBenchSection(
    DOCS_FILE,
    renderMarkdown(results, machine, { plotPath: plotted ? `../bench/${plotName}` : undefined, notes: false }),
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
