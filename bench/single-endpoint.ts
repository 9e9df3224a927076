import { type LocalRun, reportResults, runOnce } from './local';
import { type BenchResult, median, ratioResult, round, workloadFlags } from './results';

/**
 * The reference workload with every call through the single endpoint (`npm start -- --single-endpoint`: the
 * functions, the event source mappings and the workload, as clients outside call it) against each emulator's own
 * port, in one run: orders per second of each, and their ratio. The endpoint forwards each request to an emulator,
 * so this says what that hop costs end to end.
 */
export function measureSingleEndpoint(orders: number, runs: number): BenchResult[] {
  const single: LocalRun[] = [];
  const perService: LocalRun[] = [];
  // Alternated, so that a machine that slows down (or warms up) during the run weighs on both alike.
  for (let run = 0; run < runs; run++) {
    console.log(`single endpoint: ${orders} orders, per-service endpoints, run ${run + 1} of ${runs}...`);
    perService.push(runOnce(orders));
    console.log(`single endpoint: ${orders} orders, single endpoint, run ${run + 1} of ${runs}...`);
    single.push(runOnce(orders, ['--single-endpoint']));
  }
  for (const report of [...single, ...perService]) {
    if (report.lost > 0 || report.duplicatedEffects > 0)
      throw new Error(
        `${orders} orders: ${report.lost} lost, ${report.duplicatedEffects} duplicated effects: a bug, not a figure`,
      );
  }
  const singleRate = median(single.map((report) => report.ordersPerSecond));
  const perServiceRate = median(perService.map((report) => report.ordersPerSecond));
  const of = (reports: LocalRun[]) =>
    `median of ${reports.length} run(s) of ${orders} orders (${reports.map((r) => `${r.ordersPerSecond.toFixed(1)}`).join(', ')} orders/s)`;
  return [
    {
      name: 'local.singleEndpoint.ordersPerSecond',
      value: round(singleRate),
      unit: 'orders/s',
      note: `${of(single)}: \`npm start -- --single-endpoint\`, functions, mappings and workload through the one endpoint`,
    },
    {
      name: 'local.perServiceEndpoints.ordersPerSecond',
      value: round(perServiceRate),
      unit: 'orders/s',
      note: `${of(perService)}: \`npm start\`, every client at its emulator's own port; runs alternated with the single endpoint's`,
    },
    ratioResult(
      'local.singleEndpoint.vsPerService',
      singleRate,
      perServiceRate,
      'orders/s through the single endpoint over orders/s at the per-service endpoints, in the same run',
    ),
  ];
}

function main(): void {
  const flags = workloadFlags('tsx bench/single-endpoint.ts');
  reportResults(measureSingleEndpoint(flags.orders, flags.runs));
}

if (require.main === module) main();
