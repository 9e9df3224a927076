import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadPrices, PRICE_NAMES, PRICES_FILE, pricesAsOf, unitPrice, withPrice } from '../../../ops/cost/prices';

describe('ops/cost/prices.json', () => {
  test('gives every price the model charges with its AWS pricing page and a date', () => {
    // GIVEN the prices file as written
    const { prices: raw } = JSON.parse(readFileSync(PRICES_FILE, 'utf8')) as {
      prices: Record<string, { usd: number; source: string; asOf: string; checkedAgainst?: string[] }>;
    };

    // THEN every price the model charges is there, positive, sourced from an AWS pricing page, dated and checked
    for (const name of PRICE_NAMES) {
      expect(raw[name], name).toBeDefined();
      expect(raw[name].usd, name).toBeGreaterThan(0);
      expect(raw[name].source, name).toMatch(/^https:\/\/aws\.amazon\.com\/[a-z/-]*pricing\//);
      expect(raw[name].asOf, name).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(Date.parse(raw[name].asOf), name).toBeLessThanOrEqual(Date.now());
      expect(raw[name].checkedAgainst?.length, name).toBeGreaterThan(0);
    }
  });

  test('is what the module loads when no file is given', () => {
    const shipped = loadPrices();

    expect(loadPrices(PRICES_FILE)).toEqual(shipped);
    expect(unitPrice(shipped, 'lambda.requests')).toBe(0.2 / 1e6);
    expect(unitPrice(shipped, 'lambda.sqsProvisionedMode.eventPollerUnitHour')).toBe(0.00925);
    expect(pricesAsOf(shipped)).toEqual({ from: '2025-05-01', to: '2026-09-19' });
  });

  test('replaces one price with a given one', () => {
    const given = withPrice(loadPrices(), 'lambda.sqsProvisionedMode.eventPollerUnitHour', 0.02, '--epu-hour-usd');

    expect(unitPrice(given, 'lambda.sqsProvisionedMode.eventPollerUnitHour')).toBe(0.02);
    expect(given['lambda.sqsProvisionedMode.eventPollerUnitHour'].source).toBe('--epu-hour-usd');
  });

  test('fails when a price has no source, naming the file and the price', () => {
    // GIVEN a prices file whose Lambda request price lost its source and whose EPU price is gone
    const document = JSON.parse(readFileSync(PRICES_FILE, 'utf8'));
    delete document.prices['lambda.requests'].source;
    delete document.prices['lambda.sqsProvisionedMode.eventPollerUnitHour'];
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'eda-kit-prices-')), 'prices.json');
    writeFileSync(file, JSON.stringify(document));

    // THEN loading it names both
    expect(() => loadPrices(file)).toThrow(
      `${file} is not usable:\n  - lambda.requests needs its AWS pricing page as source, got undefined\n  - lambda.sqsProvisionedMode.eventPollerUnitHour is missing`,
    );
  });
});
