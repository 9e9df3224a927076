import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FunctionRuntime, FunctionTimeoutError, type LocalFunctionConfig } from '../../local/function-runtime';

const made: string[] = [];
const runtimes: FunctionRuntime[] = [];
afterAll(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.stop()));
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A function whose handler is `source` (the body of an async function of `event`), in a bundle of its own. */
function runtimeOf(source: string, overrides: Partial<LocalFunctionConfig> = {}): FunctionRuntime {
  const codeDir = mkdtempSync(path.join(tmpdir(), 'eda-kit-function-'));
  made.push(codeDir);
  writeFileSync(path.join(codeDir, 'index.js'), `exports.handler = async (event) => {\n${source}\n};\n`);
  const runtime = new FunctionRuntime(
    {
      name: 'test-function',
      label: 'test-function',
      codeDir,
      handler: 'index.handler',
      timeoutSeconds: 30,
      memoryMb: 128,
      environment: {},
      ...overrides,
    },
    () => undefined,
  );
  runtimes.push(runtime);
  return runtime;
}

describe('FunctionRuntime, the CPU its execution environments use', () => {
  test('GIVEN an environment killed past its timeout THEN the CPU it used is still counted', async () => {
    // Prepare: a warm environment, whose handler never returns
    const runtime = runtimeOf('await new Promise(() => {});', { timeoutSeconds: 1 });
    await runtime.warm();
    const beforeInvocation = runtime.cpuSeconds();

    // Act
    const invocation = runtime.invoke({});

    // Assess
    await expect(invocation).rejects.toBeInstanceOf(FunctionTimeoutError);
    expect(runtime.stats.timeouts).toBe(1);
    expect(runtime.inFlight).toBe(0);
    expect(beforeInvocation).toBeGreaterThan(0);
    expect(runtime.cpuSeconds()).toBeGreaterThanOrEqual(beforeInvocation);
  });

  test('GIVEN a live environment THEN its CPU is counted, and grows with what it runs', async () => {
    // Prepare
    const runtime = runtimeOf(
      'const until = process.cpuUsage().user + 200_000; while (process.cpuUsage().user < until) {}\nreturn event;',
    );
    await runtime.warm();
    const warm = runtime.cpuSeconds();

    // Act
    const result = await runtime.invoke({ n: 1 });

    // Assess
    expect(result).toEqual({ n: 1 });
    expect(warm).toBeGreaterThan(0);
    expect(runtime.cpuSeconds() - warm).toBeGreaterThanOrEqual(0.2);
  });
});
