import { expect, test } from 'vitest';
import { benchSteps } from '../../bench/index';

const argsOf = (steps: ReturnType<typeof benchSteps>, script: string) =>
  steps.find((step) => step.args[0] === script)?.args ?? [];

test('GIVEN --quick THEN the local cloud runs 1,000 orders once and the other steps run fewer times', () => {
  const quick = benchSteps({ quick: true, latencyMs: 5 });
  const full = benchSteps({ quick: false, latencyMs: 5 });

  expect(argsOf(quick, 'bench/local.ts')).toEqual(['bench/local.ts', '--orders', '1000', '--runs', '1']);
  expect(argsOf(full, 'bench/local.ts')).toEqual(['bench/local.ts', '--orders', '1000,10000,50000', '--runs', '3']);
  expect(argsOf(quick, 'bench/synth.ts')).toContain('1');
  expect(argsOf(full, 'bench/synth.ts')).toContain('3');
  expect(argsOf(quick, 'bench/sdk-warmup.ts')).toEqual(['bench/sdk-warmup.ts', '--runs', '1']);
  expect(argsOf(full, 'bench/sdk-warmup.ts')).toEqual(['bench/sdk-warmup.ts', '--runs', '3']);
  // Every step of the full run is in the quick one, and the report comes last.
  expect(quick.map((step) => step.args[0])).toEqual(full.map((step) => step.args[0]));
  expect(full.at(-1)?.args[0]).toBe('bench/report.ts');
});

test('GIVEN a modelled latency THEN the steps that model it get it', () => {
  const steps = benchSteps({ quick: false, latencyMs: 12, runs: 7 });

  expect(argsOf(steps, 'bench/runtime.ts')).toEqual(expect.arrayContaining(['--latency-ms', '12', '--runs', '7']));
  expect(argsOf(steps, 'bench/cost.ts')).toEqual(['bench/cost.ts', '--latency-ms', '12']);
});

test('GIVEN a full run THEN the example app and the single endpoint are measured against their baselines, before the report', () => {
  const full = benchSteps({ quick: false, latencyMs: 5 });
  const quick = benchSteps({ quick: true, latencyMs: 5 });
  const chosen = benchSteps({ quick: false, latencyMs: 5, runs: 7 });

  expect(argsOf(full, 'bench/example-local.ts')).toEqual(['bench/example-local.ts', '--runs', '3']);
  expect(argsOf(quick, 'bench/example-local.ts')).toEqual(['bench/example-local.ts', '--runs', '1']);
  expect(argsOf(chosen, 'bench/example-local.ts')).toEqual(['bench/example-local.ts', '--runs', '7']);
  // The single endpoint is compared on the 1,000-order workload, whatever the run.
  expect(argsOf(full, 'bench/single-endpoint.ts')).toEqual([
    'bench/single-endpoint.ts',
    '--orders',
    '1000',
    '--runs',
    '2',
  ]);
  expect(argsOf(quick, 'bench/single-endpoint.ts')).toEqual([
    'bench/single-endpoint.ts',
    '--orders',
    '1000',
    '--runs',
    '1',
  ]);
  expect(argsOf(quick, 'bench/dashboard.ts')).toEqual(['bench/dashboard.ts', '--orders', '1000', '--runs', '1']);
  const scripts = full.map((step) => step.args[0]);
  expect(scripts.indexOf('bench/dashboard.ts')).toBeLessThan(scripts.indexOf('bench/report.ts'));
  expect(scripts.indexOf('bench/example-local.ts')).toBeLessThan(scripts.indexOf('bench/report.ts'));
  expect(scripts.indexOf('bench/single-endpoint.ts')).toBeLessThan(scripts.indexOf('bench/report.ts'));
});
