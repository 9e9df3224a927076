/**
 * What `eda-kit cost` prints: the bill by service for the app, naive and floor, the consumers as synthesized, what
 * to change and the notes, as text for people or as JSON (`--json`) for machines.
 *
 * @module
 */
import type { CostComparison } from './compare';
import { COST_LINES, type CostEstimate, type CostLine, SERVICES, serviceOf } from './estimate';
import { pricesAsOf } from './prices';

/** Where the comparison's app came from, for the heading. */
export interface ReportContext {
  /** Where the app came from: the cloud assembly read, or how it was synthesized. */
  readonly source?: string;
}

/** Lines of the bill as the report names them under their service. */
const LINE_LABELS: Readonly<Record<CostLine, string>> = {
  'lambda.requests': 'requests',
  'lambda.duration': 'duration',
  'lambda.eventPollers': 'SQS provisioned pollers',
  'sqs.requests': 'requests',
  kinesis: 'streams, ingestion, reads',
  'dynamodb.idempotency': 'idempotency store',
  'dynamodb.effects': 'effects',
  'dynamodb.reads': 'reads',
  'cloudwatch.logs': 'logs',
  'cloudwatch.alarms': 'alarms',
  'cloudwatch.dashboards': 'dashboards',
};

/** The comparison as text. */
export function renderCostReport(comparison: CostComparison, context: ReportContext = {}): string {
  const { workload, prices, settings, app, naive, floor } = comparison;
  const estimates = [app, naive, floor];
  const asOf = pricesAsOf(prices);
  const epu = prices['lambda.sqsProvisionedMode.eventPollerUnitHour'];
  const out: string[] = [];
  out.push(
    `Cost per million events of ${settings.stacks.join(', ')}${context.source ? ` (${context.source})` : ''}`,
    `Workload: ${number(workload.eventsPerSecond)} events/s of ${number(workload.recordBytes)} bytes, ${percent(workload.duplicateShare)} repeating an earlier event's key ${number(workload.retryDelaySeconds)} s later, ${
      comparison.effectsGiven.length > 0
        ? `effects sized by the app's item builders (${comparison.effectsGiven.join(', ')})`
        : `${number(workload.effectWrites)} effect write unit${workload.effectWrites === 1 ? '' : 's'} per record`
    }, ${number(workload.dynamoDBLatencyMs)} ms per DynamoDB request, ${number(workload.cpuMsPerRecord)} ms CPU per record`,
    `Prices: us-east-1 list prices as of ${asOf.from} to ${asOf.to}; SQS provisioned mode at $${epu.usd / epu.per} per event poller unit-hour${epu.source.startsWith('https://') ? '' : ` (${epu.source})`}`,
    '',
  );

  const bill: string[][] = [['USD per 1M events', ...estimates.map((e) => e.label)]];
  // A service none of the three pays for is left out.
  for (const service of SERVICES.filter((s) => estimates.some((e) => e.byService[s] >= 0.005))) {
    const lines = COST_LINES.filter((line) => serviceOf(line) === service);
    bill.push([service, ...estimates.map((e) => money(e.byService[service]))]);
    if (lines.length > 1) {
      for (const line of lines.filter((l) => estimates.some((e) => e.byLine[l] >= 0.005))) {
        bill.push([`  ${LINE_LABELS[line]}`, ...estimates.map((e) => money(e.byLine[line]))]);
      }
    }
  }
  bill.push(['total', ...estimates.map((e) => money(e.usdPerMillionEvents))]);
  out.push(table(bill, ['l', 'r', 'r', 'r']), '');
  out.push(
    `${app.label}: as synthesized; naive: batch size 1, no window, an idempotency record per record (Powertools' documented pattern); floor: the largest batches, standard polling, no idempotency store (only the effects' own writes)`,
    '',
  );

  out.push(`Consumers (${app.label})`);
  const consumers: string[][] = [
    [
      'consumer',
      'source',
      'batch',
      'filled',
      'window',
      'memory',
      'ms/batch',
      'store W/rec',
      'effect WRU/rec',
      'USD/1M',
    ],
  ];
  for (const consumer of app.consumers) {
    const config = settings.consumers.find((c) => c.id === consumer.id);
    if (!config) continue;
    consumers.push([
      consumer.name,
      config.source.kind === 'sqs'
        ? `SQS${config.source.fifo ? ' FIFO' : ''}${config.provisionedPollers ? `, ${consumer.eventPollers} pollers` : ''}`
        : `Kinesis${config.source.enhancedFanOut ? ' EFO' : ''}${config.parallelizationFactor > 1 ? `, PF ${config.parallelizationFactor}` : ''}`,
      String(config.batchSize),
      number(consumer.recordsPerBatch),
      `${config.maxBatchingWindowSeconds} s`,
      `${config.memoryMB} MB ${config.architecture}`,
      String(consumer.billedMsPerInvocation),
      number(consumer.idempotencyWritesPerRecord),
      number(consumer.effectUnitsPerRecord),
      money(consumer.usd),
    ]);
  }
  out.push(table(consumers, ['l', 'l', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'r']), '');

  out.push('What to change, largest saving first');
  if (comparison.advice.length === 0)
    out.push('  Nothing the model tries saves a cent per million events at this workload.');
  comparison.advice.forEach((advice, index) => {
    out.push(
      `${index + 1}. ${advice.construct}`,
      `   ${advice.setting}: ${advice.from} -> ${advice.to}`,
      `   saves $${money(advice.usdPerMillionEventsSaved)} per million events (${percent(advice.shareSaved)}): ${advice.why}`,
    );
  });
  if (comparison.notes.length > 0) {
    out.push('', 'Notes');
    for (const note of comparison.notes) out.push(`- ${note}`);
  }
  out.push(
    '',
    'Not charged: failures, retries and redrives, storage (tables, logs, stream retention, failure buckets), custom metrics, free tiers; cold starts are ignored.',
  );
  return out.join('\n');
}

/** The comparison as a JSON-ready object. */
export function costReportJson(comparison: CostComparison, context: ReportContext = {}) {
  const { workload, prices, settings, app, naive, floor } = comparison;
  const estimates = { app, naive, floor };
  const map = <T>(f: (estimate: CostEstimate) => T) =>
    Object.fromEntries(Object.entries(estimates).map(([label, estimate]) => [label, f(estimate)])) as Record<
      'app' | 'naive' | 'floor',
      T
    >;
  const epu = prices['lambda.sqsProvisionedMode.eventPollerUnitHour'];
  return {
    ...(context.source !== undefined && { source: context.source }),
    stacks: settings.stacks,
    workload,
    prices: { region: 'us-east-1', asOf: pricesAsOf(prices), eventPollerUnitHourUsd: epu.usd / epu.per },
    usdPerMillionEvents: map((e) => e.usdPerMillionEvents),
    byService: map((e) => e.byService),
    byLine: map((e) => e.byLine),
    byPayer: map((e) => e.byPayer),
    consumers: app.consumers.map((consumer) => {
      const config = settings.consumers.find((c) => c.id === consumer.id);
      return {
        ...consumer,
        construct: config?.kitConstruct?.path ?? config?.mappingPath,
        batchSize: config?.batchSize,
        maxBatchingWindowSeconds: config?.maxBatchingWindowSeconds,
        memoryMB: config?.memoryMB,
        architecture: config?.architecture,
        provisionedPollers: config?.provisionedPollers,
      };
    }),
    shardsByStream: app.shardsByStream,
    advice: comparison.advice,
    notes: comparison.notes,
  };
}

/** Columns padded to their widest cell; `l` or `r` aligns each. */
function table(rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (align[column] === 'r' ? cell.padStart(widths[column]) : cell.padEnd(widths[column])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function money(value: number): string {
  return value.toFixed(2);
}

function number(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return (Math.round(value * 100) / 100).toLocaleString('en-US');
}

function percent(share: number): string {
  const value = share * 100;
  return `${value < 10 ? Math.round(value * 10) / 10 : Math.round(value)}%`;
}
