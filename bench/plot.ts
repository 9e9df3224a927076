import type { TopLevelSpec } from 'vega-lite';
import type { BenchResult } from './results';

/** The local cloud's throughput and latency at one workload size (`npm run bench:local -- --orders N`). */
export interface ThroughputLatencyPoint {
  /** Orders published in the run. */
  readonly orders: number;
  /** End-to-end throughput, from figure `local.ordersPerSecond.<orders>`. */
  readonly ordersPerSecond: number;
  /** Median latency, from figure `local.latencyMs.p50.<orders>`. */
  readonly p50Ms: number;
  /** 99th percentile latency, from figure `local.latencyMs.p99.<orders>`. */
  readonly p99Ms: number;
}

/** The points found in a set of results, and the orders counts that lack one of their three figures. */
export interface ThroughputLatencyExtract {
  /** Complete points, by orders ascending. */
  readonly points: ThroughputLatencyPoint[];
  /** Orders counts with some of their figures but not all, with the names of the missing ones. */
  readonly incomplete: { readonly orders: number; readonly missing: string[] }[];
}

/** Axis and panel titles, exported so that tests can look for them in the SVG. */
export const PLOT_TITLES = {
  chart: 'Local cloud: throughput and latency against orders',
  orders: 'orders per run (log scale)',
  throughput: 'throughput (orders/s)',
  latency: 'latency (ms)',
} as const;

const FIGURES = {
  ordersPerSecond: { pattern: /^local\.ordersPerSecond\.(\d+)$/, unit: 'orders/s' },
  p50Ms: { pattern: /^local\.latencyMs\.p50\.(\d+)$/, unit: 'ms' },
  p99Ms: { pattern: /^local\.latencyMs\.p99\.(\d+)$/, unit: 'ms' },
} as const;

type FigureKey = keyof typeof FIGURES;

/** The name of the figure that holds `key` for a run of `orders` orders. */
function figureName(key: FigureKey, orders: number): string {
  switch (key) {
    case 'ordersPerSecond':
      return `local.ordersPerSecond.${orders}`;
    case 'p50Ms':
      return `local.latencyMs.p50.${orders}`;
    case 'p99Ms':
      return `local.latencyMs.p99.${orders}`;
  }
}

/**
 * Collects, for each orders count present in `results`, the figures `local.ordersPerSecond.<orders>` (orders/s),
 * `local.latencyMs.p50.<orders>` and `local.latencyMs.p99.<orders>` (ms). A count that lacks one of them is
 * listed in `incomplete` rather than plotted. A figure in another unit throws: plotting it would mislabel the axis.
 */
export function extractThroughputLatencyPoints(results: readonly BenchResult[]): ThroughputLatencyExtract {
  const byOrders = new Map<number, Partial<Record<FigureKey, number>>>();
  for (const result of results) {
    for (const [key, figure] of Object.entries(FIGURES) as [FigureKey, (typeof FIGURES)[FigureKey]][]) {
      const match = figure.pattern.exec(result.name);
      if (!match) continue;
      if (result.unit !== figure.unit) {
        throw new Error(`Figure ${result.name} is in '${result.unit}', expected '${figure.unit}'`);
      }
      const orders = Number(match[1]);
      byOrders.set(orders, { ...byOrders.get(orders), [key]: result.value });
    }
  }
  const points: ThroughputLatencyPoint[] = [];
  const incomplete: { orders: number; missing: string[] }[] = [];
  for (const orders of [...byOrders.keys()].sort((a, b) => a - b)) {
    const found = byOrders.get(orders) ?? {};
    const { ordersPerSecond, p50Ms, p99Ms } = found;
    if (ordersPerSecond !== undefined && p50Ms !== undefined && p99Ms !== undefined) {
      points.push({ orders, ordersPerSecond, p50Ms, p99Ms });
    } else {
      const missing = (Object.keys(FIGURES) as FigureKey[]).filter((key) => found[key] === undefined);
      incomplete.push({ orders, missing: missing.map((key) => figureName(key, orders)) });
    }
  }
  return { points, incomplete };
}

/** The Vega-Lite spec of the two panels: throughput, and p50/p99 latency, against orders on a log axis. */
export function throughputLatencySpec(points: readonly ThroughputLatencyPoint[]): TopLevelSpec {
  const orders = points.map((point) => point.orders);
  const x = {
    field: 'orders',
    type: 'quantitative' as const,
    title: PLOT_TITLES.orders,
    // Padded around the measured counts so that no point sits on the frame; this also gives one run an extent.
    scale: {
      type: 'log' as const,
      domain: [Math.min(...orders) / 1.5, Math.max(...orders) * 1.5],
      nice: false,
    },
    // Ticks at the measured counts rather than at powers of ten.
    axis: { values: orders, format: ',d', labelAngle: 0 },
  };
  const throughput = points.map((point) => ({ orders: point.orders, ordersPerSecond: point.ordersPerSecond }));
  const latency = points.flatMap((point) => [
    { orders: point.orders, percentile: 'p50', ms: point.p50Ms },
    { orders: point.orders, percentile: 'p99', ms: point.p99Ms },
  ]);
  const width = 320;
  const height = 220;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: PLOT_TITLES.chart,
    config: { font: 'sans-serif', view: { stroke: '#ddd' } },
    hconcat: [
      {
        width,
        height,
        data: { values: throughput },
        mark: { type: 'line', point: { filled: true, size: 60 } },
        encoding: {
          x,
          y: { field: 'ordersPerSecond', type: 'quantitative', title: PLOT_TITLES.throughput },
          tooltip: [{ field: 'orders' }, { field: 'ordersPerSecond' }],
        },
      },
      {
        width,
        height,
        data: { values: latency },
        mark: { type: 'line', point: { filled: true, size: 60 } },
        encoding: {
          x,
          y: { field: 'ms', type: 'quantitative', title: PLOT_TITLES.latency },
          color: {
            field: 'percentile',
            type: 'nominal',
            title: 'percentile',
            scale: { domain: ['p50', 'p99'], range: ['#4c78a8', '#e45756'] },
          },
          tooltip: [{ field: 'orders' }, { field: 'percentile' }, { field: 'ms' }],
        },
      },
    ],
  };
}

/**
 * Renders throughput (orders/s) and p50/p99 latency (ms) against orders as an SVG document, with Vega-Lite and
 * Vega headless (no browser, no canvas). Both are ESM-only devDependencies, hence the dynamic imports: nothing
 * under lambdas/ or lib/ loads them.
 */
export async function renderThroughputLatencySvg(points: readonly ThroughputLatencyPoint[]): Promise<string> {
  if (points.length === 0) throw new Error('No points to plot: need local.ordersPerSecond.<orders> and latencies');
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile(throughputLatencySpec(points));
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
