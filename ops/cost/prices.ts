/**
 * The list prices the cost model charges: ops/cost/prices.json, AWS us-east-1 prices, each with the pricing page
 * it comes from, the date it is known to hold and the stored copies it was checked against. The file ships in the
 * package beside this module (it is imported, so the compiler copies it into dist).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import shippedPrices from './prices.json';

/** ops/cost/prices.json, as it lies beside this module (in the sources, and in dist once built). */
export const PRICES_FILE = path.join(__dirname, 'prices.json');

/** Every price the model charges. */
export const PRICE_NAMES = [
  'lambda.requests',
  'lambda.arm64.gbSecond',
  'lambda.x86_64.gbSecond',
  'lambda.sqsProvisionedMode.eventPollerUnitHour',
  'sqs.standard.requests',
  'sqs.fifo.requests',
  'kinesis.onDemand.streamHour',
  'kinesis.onDemand.ingestGB',
  'kinesis.onDemand.retrievalGB',
  'kinesis.onDemand.efoRetrievalGB',
  'kinesis.provisioned.shardHour',
  'kinesis.provisioned.putPayloadUnits',
  'kinesis.provisioned.efoConsumerShardHour',
  'kinesis.provisioned.efoRetrievalGB',
  'dynamodb.onDemand.writeRequestUnits',
  'dynamodb.onDemand.readRequestUnits',
  'cloudwatch.logs.ingestGB',
  'cloudwatch.alarms.standardAlarmMonth',
  'cloudwatch.alarms.highResolutionAlarmMonth',
  'cloudwatch.alarms.compositeAlarmMonth',
  'cloudwatch.dashboards.dashboardMonth',
] as const;

/** The name of a price in the prices file. */
export type PriceName = (typeof PRICE_NAMES)[number];

/** One list price: `usd` for `per` `unit`. */
export interface Price {
  readonly usd: number;
  readonly per: number;
  readonly unit: string;
  /** The AWS pricing page it comes from. */
  readonly source: string;
  /** The date the price is known to hold (YYYY-MM-DD). */
  readonly asOf: string;
  /** Stored copies the price was checked against, each with its date where it has one. */
  readonly checkedAgainst?: readonly string[];
  readonly note?: string;
}

/** Every price the model charges, by name. */
export type Prices = Readonly<Record<PriceName, Price>>;

/**
 * Checks a prices document (the shape of ops/cost/prices.json): every price present, positive, with its AWS
 * pricing page as source and a date. Throws one error that names `where` and every problem.
 */
export function checkPrices(document: unknown, where: string): Prices {
  const prices = ((document as { prices?: Record<string, Partial<Price>> } | null)?.prices ?? {}) as Record<
    string,
    Partial<Price> | undefined
  >;
  const problems: string[] = [];
  for (const name of PRICE_NAMES) {
    const price = prices[name];
    if (!price) {
      problems.push(`${name} is missing`);
      continue;
    }
    if (!((price.usd ?? 0) > 0) || !((price.per ?? 0) > 0)) problems.push(`${name} needs a positive usd and per`);
    if (!/^https:\/\/aws\.amazon\.com\//.test(price.source ?? '')) {
      problems.push(`${name} needs its AWS pricing page as source, got ${price.source}`);
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(price.asOf ?? '')) problems.push(`${name} needs asOf as YYYY-MM-DD`);
  }
  if (problems.length > 0) throw new Error(`${where} is not usable:\n  - ${problems.join('\n  - ')}`);
  return prices as unknown as Prices;
}

/** The shipped prices (ops/cost/prices.json), or those of `file`, checked with {@link checkPrices}. */
export function loadPrices(file?: string): Prices {
  if (file === undefined) return checkPrices(shippedPrices, PRICES_FILE);
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the prices file ${file}: ${(error as Error).message}`);
  }
  return checkPrices(document, file);
}

/** The prices with one replaced: `usd` per `per` of the same unit, from `source`. */
export function withPrice(prices: Prices, name: PriceName, usd: number, source: string): Prices {
  return { ...prices, [name]: { ...prices[name], usd, per: 1, source, checkedAgainst: [], note: undefined } };
}

/** USD for one unit of the price. */
export function unitPrice(prices: Prices, name: PriceName): number {
  return prices[name].usd / prices[name].per;
}

/** The earliest and latest `asOf` of the prices. */
export function pricesAsOf(prices: Prices): { readonly from: string; readonly to: string } {
  const dates = PRICE_NAMES.map((name) => prices[name].asOf).sort();
  return { from: dates[0], to: dates[dates.length - 1] };
}
