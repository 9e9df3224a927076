import { describe, expect, test } from 'vitest';
import {
  extractThroughputLatencyPoints,
  PLOT_TITLES,
  renderThroughputLatencySvg,
  type ThroughputLatencyPoint,
} from '../../bench/plot';
import { type BenchMachine, renderMarkdown, updateBenchSection } from '../../bench/report';
import type { BenchResult } from '../../bench/results';

const MACHINE: BenchMachine = { cores: 2, cpuModel: 'AMD EPYC 7B13', node: 'v20.20.2', date: '2026-11-27' };

const RESULTS: BenchResult[] = [
  { name: 'synth.seconds', value: 5.59, unit: 's', budget: 8 },
  { name: 'bundle.kb.order-api', value: 56.09, unit: 'KB' },
  {
    name: 'stream.keyOrdered.vsSequential',
    value: 6.89,
    unit: 'x',
    baseline: 37.43,
    ratio: 6.89,
    budget: 5,
    atLeast: true,
  },
  {
    name: 'local.ordersPerSecond.1000',
    value: 24.38,
    unit: 'orders/s',
    budget: 300,
    atLeast: true,
    note: 'lost 0 | duplicated 0',
  },
  { name: 'local.cpuMsPerOrder', value: 1234.5, unit: 'ms', budget: 1000, note: 'first line\nsecond line' },
];

/** The table rows of a rendered section, each split into its cells. */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) =>
      line
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((cell) => cell.trim()),
    );
}

describe('renderMarkdown', () => {
  test('names the machine, the date and how many targets were met', () => {
    // Act
    const markdown = renderMarkdown(RESULTS, MACHINE);

    // Assess
    expect(markdown.split('\n')[0]).toBe(
      'Measured on 2 cores (AMD EPYC 7B13), Node 20.20.2, 2026-11-27: 2 of 4 targets met.',
    );
  });

  test('leaves the CPU model out when it is not known', () => {
    const markdown = renderMarkdown(RESULTS, { cores: 8, node: 'v22.1.0', date: '2026-01-02' });

    expect(markdown.split('\n')[0]).toBe('Measured on 8 cores, Node 22.1.0, 2026-01-02: 2 of 4 targets met.');
  });

  test('has a header and one row per figure, in the order of the results', () => {
    const markdown = renderMarkdown(RESULTS, MACHINE);

    expect(markdown).toContain('| figure | value | baseline | ratio | target | met | note |');
    expect(tableRows(markdown).map((row) => row[0])).toEqual(RESULTS.map((result) => `\`${result.name}\``));
  });

  test('gives each figure its value, baseline, ratio, target and whether it was met', () => {
    const rows = tableRows(renderMarkdown(RESULTS, MACHINE));

    expect(rows).toEqual([
      ['`synth.seconds`', '5.59 s', '', '', '≤ 8 s', 'yes', ''],
      ['`bundle.kb.order-api`', '56.09 KB', '', '', '', '—', ''],
      ['`stream.keyOrdered.vsSequential`', '6.89x', '37.43', '6.89x', '≥ 5x', 'yes', ''],
      ['`local.ordersPerSecond.1000`', '24.38 orders/s', '', '', '≥ 300 orders/s', 'no', 'lost 0 \\| duplicated 0'],
      ['`local.cpuMsPerOrder`', '1,234.5 ms', '', '', '≤ 1,000 ms', 'no', 'first line second line'],
    ]);
  });

  test('leaves the note column out of the compact table', () => {
    const markdown = renderMarkdown(RESULTS, MACHINE, { notes: false });

    expect(markdown).toContain('| figure | value | baseline | ratio | target | met |\n|---|---:|---:|---:|---|---|\n');
    expect(markdown).not.toContain('duplicated 0');
    expect(tableRows(markdown)[3]).toEqual([
      '`local.ordersPerSecond.1000`',
      '24.38 orders/s',
      '',
      '',
      '≥ 300 orders/s',
      'no',
    ]);
  });

  test('ignores fields it does not know, such as a runs count', () => {
    const withRuns = RESULTS.map((result) => ({ ...result, runs: 3 }));

    expect(renderMarkdown(withRuns, MACHINE)).toBe(renderMarkdown(RESULTS, MACHINE));
  });

  test('links the plot only when given its path', () => {
    expect(renderMarkdown(RESULTS, MACHINE)).not.toContain('![');
    expect(renderMarkdown(RESULTS, MACHINE, { plotPath: 'bench/throughput-latency.svg' })).toContain(
      '![Throughput and latency against orders](bench/throughput-latency.svg)',
    );
  });
});

describe('updateBenchSection', () => {
  const README = [
    '# cdk-eda-kit',
    '',
    '## Budgets',
    '<!-- bench:start -->',
    'old table',
    '<!-- bench:end -->',
    '',
    '## Layout',
    '',
  ].join('\n');

  test('replaces what lies between the markers and nothing else', () => {
    // Act
    const updated = updateBenchSection(README, '| new | table |\n', 'docs/benchmarks.md');

    // Assess
    expect(updated).toBe(
      [
        '# cdk-eda-kit',
        '',
        '## Budgets',
        '<!-- bench:start -->',
        '',
        '| new | table |',
        '',
        '<!-- bench:end -->',
        '',
        '## Layout',
        '',
      ].join('\n'),
    );
  });

  test('gives the same text when run twice', () => {
    const once = updateBenchSection(README, 'section', 'docs/benchmarks.md');

    expect(updateBenchSection(once, 'section', 'docs/benchmarks.md')).toBe(once);
  });

  test('fails when the file has no markers', () => {
    expect(() => updateBenchSection('# cdk-eda-kit\n', 'section', 'docs/benchmarks.md')).toThrow(
      'docs/benchmarks.md has 0 <!-- bench:start --> and 0 <!-- bench:end --> markers: ' +
        'expected one <!-- bench:start --> and one <!-- bench:end --> after it',
    );
  });

  test('fails when the file has only the start marker', () => {
    expect(() => updateBenchSection('<!-- bench:start -->\n', 'section', 'docs/benchmarks.md')).toThrow(
      'docs/benchmarks.md has 1 <!-- bench:start --> and 0 <!-- bench:end --> markers',
    );
  });

  test('fails when the markers are the wrong way round', () => {
    expect(() =>
      updateBenchSection('<!-- bench:end -->\n<!-- bench:start -->\n', 'section', 'docs/benchmarks.md'),
    ).toThrow('docs/benchmarks.md has <!-- bench:end --> before <!-- bench:start -->');
  });
});

describe('extractThroughputLatencyPoints', () => {
  const figures = (orders: number, ordersPerSecond: number, p50: number, p99: number): BenchResult[] => [
    { name: `local.ordersPerSecond.${orders}`, value: ordersPerSecond, unit: 'orders/s', budget: 300, atLeast: true },
    { name: `local.latencyMs.p50.${orders}`, value: p50, unit: 'ms' },
    { name: `local.latencyMs.p99.${orders}`, value: p99, unit: 'ms' },
  ];

  test('makes one point per orders count, by orders ascending', () => {
    // Prepare
    const results = [
      ...figures(50000, 25.2, 15000, 36000),
      { name: 'local.cpuMsPerOrder', value: 82, unit: 'ms' },
      ...figures(1000, 24.4, 180, 950),
      ...figures(10000, 26.1, 2400, 7100),
    ];

    // Act
    const { points, incomplete } = extractThroughputLatencyPoints(results);

    // Assess
    expect(points).toEqual([
      { orders: 1000, ordersPerSecond: 24.4, p50Ms: 180, p99Ms: 950 },
      { orders: 10000, ordersPerSecond: 26.1, p50Ms: 2400, p99Ms: 7100 },
      { orders: 50000, ordersPerSecond: 25.2, p50Ms: 15000, p99Ms: 36000 },
    ]);
    expect(incomplete).toEqual([]);
  });

  test('lists an orders count that lacks a figure instead of plotting it', () => {
    const results = [
      ...figures(1000, 24.4, 180, 950),
      { name: 'local.ordersPerSecond.5000', value: 25, unit: 'orders/s' },
    ];

    const { points, incomplete } = extractThroughputLatencyPoints(results);

    expect(points.map((point) => point.orders)).toEqual([1000]);
    expect(incomplete).toEqual([{ orders: 5000, missing: ['local.latencyMs.p50.5000', 'local.latencyMs.p99.5000'] }]);
  });

  test('fails when a figure is in another unit', () => {
    const results = [{ name: 'local.latencyMs.p99.1000', value: 0.95, unit: 's' }];

    expect(() => extractThroughputLatencyPoints(results)).toThrow(
      "Figure local.latencyMs.p99.1000 is in 's', expected 'ms'",
    );
  });
});

describe('renderThroughputLatencySvg', () => {
  const POINTS: ThroughputLatencyPoint[] = [
    { orders: 1000, ordersPerSecond: 24.4, p50Ms: 180, p99Ms: 950 },
    { orders: 10000, ordersPerSecond: 26.1, p50Ms: 2400, p99Ms: 7100 },
    { orders: 50000, ordersPerSecond: 25.2, p50Ms: 15000, p99Ms: 36000 },
  ];

  /** The accessible labels of the point marks, one per plotted value. */
  const pointLabels = (svg: string): string[] =>
    [...svg.matchAll(/<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="point"/g)].map(
      (match) => match[1],
    );

  test('renders an SVG document with the chart and axis titles', async () => {
    // Act
    const svg = await renderThroughputLatencySvg(POINTS);

    // Assess
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const title of Object.values(PLOT_TITLES)) expect(svg).toContain(`>${title}</text>`);
    // The orders axis ticks at the measured counts.
    for (const label of ['1,000', '10,000', '50,000']) expect(svg).toContain(`>${label}</text>`);
  });

  test('draws one throughput mark and two latency marks (p50, p99) per point', async () => {
    const labels = pointLabels(await renderThroughputLatencySvg(POINTS));

    expect(labels).toHaveLength(9);
    expect(labels.filter((label) => label.includes(`${PLOT_TITLES.throughput}: `))).toEqual([
      expect.stringContaining('ordersPerSecond: 24.4'),
      expect.stringContaining('ordersPerSecond: 26.1'),
      expect.stringContaining('ordersPerSecond: 25.2'),
    ]);
    const latency = labels.filter((label) => label.includes(`${PLOT_TITLES.latency}: `));
    expect(latency.filter((label) => label.includes('percentile: p50'))).toHaveLength(3);
    expect(latency.filter((label) => label.includes('percentile: p99'))).toHaveLength(3);
    expect(latency).toContainEqual(expect.stringContaining('orders: 50000; ms: 36000'));
  });

  test('plots a single run', async () => {
    const labels = pointLabels(await renderThroughputLatencySvg(POINTS.slice(0, 1)));

    expect(labels).toHaveLength(3);
  });

  test('fails when there is nothing to plot', async () => {
    await expect(renderThroughputLatencySvg([])).rejects.toThrow('No points to plot');
  });
});
