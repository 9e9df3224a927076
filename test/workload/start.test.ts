import { spawnSync } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import * as path from 'node:path';
import { expect, test } from 'vitest';

const projectDir = path.resolve(__dirname, '..', '..');

test.each([
  [
    ['--orders', '-3'],
    "error: option '--orders <n>' argument '-3' is invalid. expected a whole number of 0 or more, got '-3'",
  ],
  [
    ['--duplicates', '1.5'],
    "error: option '--duplicates <ratio>' argument '1.5' is invalid. expected a number from 0 to 1, got '1.5'",
  ],
  [['--bogus'], "error: unknown option '--bogus'"],
])('GIVEN the bad flags %j THEN npm start says why on one line and exits 2, starting nothing', (args, message) => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'workload/start.ts', ...args], {
    cwd: projectDir,
    encoding: 'utf8',
  });

  expect(result.status).toBe(2);
  expect(result.stderr.trim()).toBe(message);
  expect(result.stdout).toBe('');
});

test('GIVEN --port out of range THEN npm start says why on one line and exits 2', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'workload/start.ts', '--serve', '--port', '70000'], {
    cwd: projectDir,
    encoding: 'utf8',
  });

  expect(result.status).toBe(2);
  expect(result.stderr.trim()).toBe(
    "error: option '--port <n>' argument '70000' is invalid. expected a port from 0 to 65535, got '70000'",
  );
});

test('GIVEN --serve on a port another process holds THEN npm start names the port, exits 2 and starts nothing', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const taken = (holder.address() as AddressInfo).port;
  try {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'workload/start.ts', '--serve', '--port', String(taken)],
      { cwd: projectDir, encoding: 'utf8' },
    );

    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      `port ${taken} is in use by another process: stop it, or choose another port with --port`,
    );
    expect(result.stdout).toBe('');
  } finally {
    holder.close();
  }
});
