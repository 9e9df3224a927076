import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

/** `eda-kit local` as the package ships it (dist/, built by `npm test` before the tests run). */
const CLI = path.resolve(__dirname, '..', '..', 'dist', 'bin', 'eda-kit.js');

function edaKitLocal(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [CLI, 'local', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    timeout: 60_000,
  });
}

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A cloud assembly as `cdk synth` writes it, with one stack of the given resources. */
function assemblyWith(resources: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'eda-kit-assembly-test-'));
  made.push(dir);
  writeFileSync(
    path.join(dir, 'manifest.json'),
    JSON.stringify({
      version: '48.0.0',
      artifacts: { Shop: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Shop.template.json' } } },
    }),
  );
  writeFileSync(path.join(dir, 'Shop.template.json'), JSON.stringify({ Resources: resources }));
  return dir;
}

const QUEUE = { Type: 'AWS::SQS::Queue', Metadata: { 'aws:cdk:path': 'Shop/Orders/Resource' } };
const TOPIC = { Type: 'AWS::SNS::Topic', Metadata: { 'aws:cdk:path': 'Shop/Alerts/Resource' } };
const PYTHON_FUNCTION = {
  Type: 'AWS::Lambda::Function',
  Properties: { Runtime: 'python3.13', Handler: 'index.handler' },
  Metadata: { 'aws:cdk:path': 'Shop/Report/Resource', 'aws:asset:path': 'asset.1' },
};

describe('eda-kit local, given input it cannot start from', () => {
  test('GIVEN a folder without cdk.json THEN one line names the folder, exit code 2', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'eda-kit-no-app-'));

    const result = edaKitLocal(empty);

    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(`no cdk.json in ${empty}: start in a CDK app's folder, or give a cloud assembly`);
  });

  test('GIVEN --assembly of a folder that does not exist THEN one line names it, exit code 2', () => {
    const missing = path.join(tmpdir(), 'eda-kit-no-such-assembly');

    const result = edaKitLocal(tmpdir(), '--assembly', missing);

    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      `no cloud assembly at ${missing} (no manifest.json): run \`npx cdk synth\` first, or give the folder it wrote`,
    );
  });

  test('GIVEN an app with resources the local cloud cannot run THEN one line names the first and counts the rest, exit code 2', () => {
    const assembly = assemblyWith({ Orders: QUEUE, Alerts: TOPIC, Report: PYTHON_FUNCTION });

    const result = edaKitLocal(tmpdir(), '--assembly', assembly);

    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'Shop/Alerts (AWS::SNS::Topic): the local cloud cannot run this resource type (and 1 more). The local cloud ' +
        'runs SQS queues, Kinesis streams, DynamoDB tables, S3 buckets and Node.js functions with their event source mappings; ' +
        '--allow-unsupported starts without the rest',
    ]);
  });

  test('GIVEN --serve on a port another process holds THEN one line names the port, exit code 2', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as AddressInfo).port;
    try {
      const result = edaKitLocal(
        tmpdir(),
        '--assembly',
        assemblyWith({ Orders: QUEUE }),
        '--serve',
        '--port',
        String(taken),
      );

      expect(result.status).toBe(2);
      expect(result.stderr.trim()).toBe(
        `port ${taken} is in use by another process: stop it, or choose another port with --port`,
      );
    } finally {
      holder.close();
    }
  });
});

test('GIVEN --allow-unsupported THEN it starts without them, naming each, and without --serve stops with exit code 0', () => {
  const appDir = mkdtempSync(path.join(tmpdir(), 'eda-kit-partial-app-'));
  const assembly = assemblyWith({ Orders: QUEUE, Alerts: TOPIC, Report: PYTHON_FUNCTION });

  const result = edaKitLocal(appDir, '--assembly', assembly, '--allow-unsupported');

  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(result.stdout).toContain(
    'Not as on AWS: Shop/Alerts (AWS::SNS::Topic) is left out: the local cloud cannot run this resource type.',
  );
  expect(result.stdout).toContain(
    'Not as on AWS: Shop/Report (AWS::Lambda::Function) is left out: runtime python3.13, not Node.js.',
  );
  expect(result.stdout).toContain('Local cloud up: 0 functions, 0 event source mappings.');
});
