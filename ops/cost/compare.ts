/**
 * `eda-kit cost` in one call: the app as synthesized, the naive and the floor configurations, the advice, and the
 * notes that say what the model assumed.
 *
 * @module
 */
import { type Advice, adviseOn } from './advice';
import type { AppSettings } from './app-settings';
import { appConfig, type CostConfig, floorConfig, naiveConfig } from './configurations';
import { DYNAMODB_ITEM_LIMIT_BYTES, type EffectProfile } from './effects';
import { type CostEstimate, estimateCost, externalSources, sourceId } from './estimate';
import { loadPrices, type Prices } from './prices';
import { type Workload, type WorkloadOverrides, workloadOf } from './workload';

/** What {@link compareCosts} costs. */
export interface CostOptions {
  /** The app, read from its templates (`readAssemblySettings`). */
  readonly settings: AppSettings;
  /** Overrides of the default workload. */
  readonly workload?: WorkloadOverrides;
  /** @default - ops/cost/prices.json */
  readonly prices?: Prices;
  /**
   * What each consumer writes, by consumer name (its `POWERTOOLS_SERVICE_NAME`, else its function's construct
   * path), for an app that knows its items.
   *
   * @default - `workload.effectWrites` write units per record for every consumer whose environment names a table
   */
  readonly effects?: Readonly<Record<string, EffectProfile>>;
  /** The app's column label. @default 'app' */
  readonly label?: string;
}

/** The three estimates, the configurations and workload behind them, and what to change. */
export interface CostComparison {
  readonly workload: Workload;
  readonly prices: Prices;
  readonly settings: AppSettings;
  readonly app: CostEstimate;
  readonly naive: CostEstimate;
  readonly floor: CostEstimate;
  readonly configs: { readonly app: CostConfig; readonly naive: CostConfig; readonly floor: CostConfig };
  /** Largest saving first. */
  readonly advice: readonly Advice[];
  /** What the model read with an assumption, what it did not cost, and what it found worth a look. */
  readonly notes: readonly string[];
  /** Consumers whose writes the caller described (`CostOptions.effects`), by name. */
  readonly effectsGiven: readonly string[];
}

/** Costs the app as synthesized, naive and floor, and advises. Throws when the app has nothing to cost. */
export function compareCosts(options: CostOptions): CostComparison {
  const { settings } = options;
  if (settings.consumers.length === 0) {
    throw new Error(
      `no event source mapping of the app reads an SQS queue or a Kinesis stream (stacks: ${settings.stacks.join(', ') || 'none'}): nothing to cost per event`,
    );
  }
  const workload = workloadOf(options.workload);
  const prices = options.prices ?? loadPrices();
  const app = appConfig(settings, workload, options.effects, options.label);
  const naive = naiveConfig(app);
  const floor = floorConfig(app, workload);
  const estimates = {
    app: estimateCost(app, workload, prices),
    naive: estimateCost(naive, workload, prices),
    floor: estimateCost(floor, workload, prices),
  };
  return {
    workload,
    prices,
    settings,
    ...estimates,
    configs: { app, naive, floor },
    advice: adviseOn(app, workload, prices, estimates.app),
    notes: [...settings.notes, ...modelNotes(app, estimates.app)],
    effectsGiven: settings.consumers.map((c) => c.name).filter((name) => options.effects?.[name] !== undefined),
  };
}

/** What the estimate of the app found worth saying. */
function modelNotes(app: CostConfig, estimate: CostEstimate): string[] {
  const { settings } = app;
  const notes: string[] = [];
  const pathOf = (id: string) =>
    settings.queues.find((q) => q.id === id)?.path ?? settings.streams.find((s) => s.id === id)?.path ?? id;
  for (const id of externalSources(settings)) {
    notes.push(`no function of the app publishes to ${pathOf(id)}: every event is assumed sent to it from outside`);
  }
  for (const consumer of estimate.consumers) {
    const settingsOf = settings.consumers.find((c) => c.id === consumer.id);
    if (consumer.source === 'kinesis' && consumer.utilization > 1) {
      notes.push(
        `${consumer.name} falls behind at this rate: one batch at a time per shard takes ${round(consumer.utilization)}x the time its records take to arrive; it needs a parallelizationFactor of ${Math.ceil(consumer.utilization * (settingsOf?.parallelizationFactor ?? 1))} (same cost per event)`,
      );
    }
    if (consumer.effect.largestItemBytes > DYNAMODB_ITEM_LIMIT_BYTES) {
      notes.push(`${consumer.name}'s item would pass DynamoDB's 400 KB item limit at this rate, and its writes fail`);
    }
    if (settingsOf && settingsOf.filterPatterns > 0) {
      notes.push(
        `${consumer.name} filters its records (${settingsOf.filterPatterns} pattern${settingsOf.filterPatterns === 1 ? '' : 's'}): --filter-match says which share invokes it`,
      );
    }
  }
  const store = estimate.byLine['dynamodb.idempotency'];
  if (store >= 0.2 * estimate.usdPerMillionEvents && store > 0) {
    notes.push(
      `the idempotency store is ${usd(store)} of the app's ${usd(estimate.usdPerMillionEvents)} (${Math.round((store / estimate.usdPerMillionEvents) * 100)}%): two writes per new record. It buys exactly-once effects for handlers whose effects are not idempotent; where every effect is a conditional write (putIfAbsent, addOnce), the floor shows the bill without it`,
    );
  }
  const forever = settings.logGroups.filter((group) => group.retentionDays === undefined);
  if (forever.length > 0) {
    notes.push(
      `${forever.map((group) => group.path).join(', ')} keep${forever.length === 1 ? 's' : ''} logs forever (no RetentionInDays): storage is not in the bill, but grows every month`,
    );
  }
  const consumedStreams = new Set(settings.consumers.map((c) => sourceId(c.source)));
  for (const stream of settings.streams.filter((s) => !consumedStreams.has(s.id))) {
    notes.push(`${stream.path} has no consumer in the app: its hourly charge is in the bill, its reads are not`);
  }
  return notes;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function usd(value: number): string {
  return `$${value.toFixed(2)}`;
}
