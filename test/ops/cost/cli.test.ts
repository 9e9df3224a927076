import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect, test } from 'vitest';
import { CONSUMER_ENVIRONMENT } from '../../../contract';

/**
 * `eda-kit cost` as the package ships it: dist/bin/eda-kit.js, built by `npm test` (and `npm run build`) before
 * the suite runs, with `program.addCommand(costCommand())` in bin/eda-kit.ts.
 */
const cli = path.resolve(__dirname, '..', '..', '..', 'dist', 'bin', 'eda-kit.js');

/** A cloud assembly with one queue consumer, whose queue receives every event from outside. */
function writeAssembly(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'eda-kit-cost-cli-'));
  writeFileSync(
    path.join(dir, 'manifest.json'),
    JSON.stringify({
      version: '55.0.0',
      artifacts: { Jobs: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Jobs.template.json' } } },
    }),
  );
  writeFileSync(
    path.join(dir, 'Jobs.template.json'),
    JSON.stringify({
      Resources: {
        Queue: { Type: 'AWS::SQS::Queue' },
        Worker: {
          Type: 'AWS::Lambda::Function',
          Properties: { MemorySize: 512, Environment: { Variables: { [CONSUMER_ENVIRONMENT.serviceName]: 'worker' } } },
        },
        Mapping: {
          Type: 'AWS::Lambda::EventSourceMapping',
          Properties: { EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] }, FunctionName: { Ref: 'Worker' } },
        },
      },
    }),
  );
  return dir;
}

test('GIVEN a cloud assembly THEN the shipped eda-kit cost prints its bill and reads its prices from dist', () => {
  const result = spawnSync(process.execPath, [cli, 'cost', '--assembly', writeAssembly(), '--rate', '50'], {
    encoding: 'utf8',
  });

  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(result.stdout).toContain('Workload: 50 events/s of 1,024 bytes');
  expect(result.stdout).toMatch(/^worker\s+SQS\s+10\s+10\s+0 s\s+512 MB x86_64/m);
  expect(result.stdout).toMatch(/^total\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d$/m);
});

test('GIVEN a bad --rate THEN the shipped eda-kit cost says why on one line and exits 2', () => {
  const result = spawnSync(process.execPath, [cli, 'cost', '--assembly', writeAssembly(), '--rate', '-3'], {
    encoding: 'utf8',
  });

  expect(result.status).toBe(2);
  expect(result.stderr.trim()).toBe(
    "error: option '--rate <events>' argument '-3' is invalid. expected events per second above 0 and up to 1,000,000, got '-3'",
  );
});
