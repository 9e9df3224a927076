import { spawnSync } from 'node:child_process';
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
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'local/start.ts', ...args], {
    cwd: projectDir,
    encoding: 'utf8',
  });

  expect(result.status).toBe(2);
  expect(result.stderr.trim()).toBe(message);
  expect(result.stdout).toBe('');
});
