import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CommanderError, InvalidArgumentError } from 'commander';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { CONSUMER_ENVIRONMENT } from '../../../contract';
import { costCommand } from '../../../ops/cost/command';

/**
 * A cloud assembly written by hand, as `cdk synth` writes one: a stack `Shop` with a queue consumer of the kit
 * (batch 10, provisioned mode with 2 to 20 pollers), its idempotency and orders tables, and an API function that
 * sends every event to the queue.
 */
function writeAssembly(resources: Record<string, unknown> = SHOP): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'eda-kit-cost-command-'));
  writeFileSync(
    path.join(dir, 'manifest.json'),
    JSON.stringify({
      version: '55.0.0',
      artifacts: { Shop: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Shop.template.json' } } },
    }),
  );
  writeFileSync(path.join(dir, 'Shop.template.json'), JSON.stringify({ Resources: resources }));
  return dir;
}

const at = (constructPath: string) => ({ Metadata: { 'aws:cdk:path': `${constructPath}/Resource` } });

const SHOP: Record<string, unknown> = {
  OrdersQueue: { Type: 'AWS::SQS::Queue', Properties: {}, ...at('Shop/Orders/Queue') },
  IdempotencyTable: {
    Type: 'AWS::DynamoDB::Table',
    Properties: { BillingMode: 'PAY_PER_REQUEST' },
    ...at('Shop/Idempotency/Table'),
  },
  OrdersTable: {
    Type: 'AWS::DynamoDB::Table',
    Properties: { BillingMode: 'PAY_PER_REQUEST' },
    ...at('Shop/OrdersTable'),
  },
  OrdersFunction: {
    Type: 'AWS::Lambda::Function',
    Properties: {
      MemorySize: 256,
      Timeout: 30,
      Architectures: ['arm64'],
      Environment: {
        Variables: {
          [CONSUMER_ENVIRONMENT.serviceName]: 'orders',
          [CONSUMER_ENVIRONMENT.idempotencyTableName]: { Ref: 'IdempotencyTable' },
          ORDERS_TABLE_NAME: { Ref: 'OrdersTable' },
        },
      },
    },
    ...at('Shop/Orders/Consumer/Function'),
  },
  OrdersMapping: {
    Type: 'AWS::Lambda::EventSourceMapping',
    Properties: {
      BatchSize: 10,
      EventSourceArn: { 'Fn::GetAtt': ['OrdersQueue', 'Arn'] },
      FunctionName: { Ref: 'OrdersFunction' },
      ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 20 },
    },
    ...at('Shop/Orders/Consumer/Function/SqsEventSource:ShopOrdersQueue'),
  },
  ApiFunction: {
    Type: 'AWS::Lambda::Function',
    Properties: {
      MemorySize: 256,
      Architectures: ['arm64'],
      Environment: { Variables: { QUEUE_URL: { Ref: 'OrdersQueue' } } },
    },
    ...at('Shop/Api/Function'),
  },
};

/** Runs `eda-kit cost` with `args` and returns what it printed; a bad flag throws what commander would print. */
async function run(...args: string[]): Promise<string> {
  const printed: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((text: string) => {
    printed.push(text);
  });
  const errors: string[] = [];
  try {
    await costCommand()
      .exitOverride()
      .configureOutput({ writeErr: (text) => errors.push(text.trim()) })
      .parseAsync(args, { from: 'user' });
  } catch (error) {
    // Commander says what was wrong with a flag on stderr; anything the command itself throws goes on as it is.
    if (error instanceof CommanderError && errors.length > 0) throw new Error(errors.join('\n'));
    throw error;
  } finally {
    log.mockRestore();
  }
  return printed.join('\n');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('eda-kit cost', () => {
  test('prints the bill by service for the app, naive and floor, and what to change', async () => {
    // GIVEN the assembly of an app
    const dir = writeAssembly();

    // WHEN costed at 300 events/s of 800 bytes
    const output = await run('--assembly', dir, '--rate', '300', '--record-bytes', '800');

    // THEN
    expect(output).toContain(`Cost per million events of Shop (${path.relative(process.cwd(), dir)})`);
    expect(output).toContain('Workload: 300 events/s of 800 bytes');
    expect(output).toMatch(/^USD per 1M events\s+app\s+naive\s+floor$/m);
    // 2 pollers x $0.00925 an hour over 1.08M events an hour: $0.017 (none in the floor)
    expect(output).toMatch(/^ {2}SQS provisioned pollers\s+0\.02\s+0\.02\s+0\.00$/m);
    expect(output).not.toMatch(/^Kinesis/m);
    expect(output).toMatch(/^total\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d$/m);
    expect(output).toContain('1. Shop/Orders (QueueConsumer)\n   batchSize, maxBatchingWindow: 10, 0 s -> 500, 1 s');
    expect(output).toContain(
      '2. Shop/Orders (QueueConsumer)\n   provisionedPollers: minimum 2, maximum 20 -> none (standard polling)',
    );
  });

  test('prints JSON with --json', async () => {
    const dir = writeAssembly();

    const report = JSON.parse(await run('--assembly', dir, '--rate', '300', '--record-bytes', '800', '--json'));

    // 2 pollers x $0.00925 an hour over 1.08M events an hour
    expect(report.workload).toMatchObject({ eventsPerSecond: 300, recordBytes: 800, duplicateShare: 0 });
    expect(report.byLine.app['lambda.eventPollers']).toBeCloseTo((2 * 0.00925 * 1e6) / (300 * 3600), 10);
    expect(report.usdPerMillionEvents.naive).toBeGreaterThan(report.usdPerMillionEvents.app);
    expect(report.usdPerMillionEvents.app).toBeGreaterThan(report.usdPerMillionEvents.floor);
    expect(report.consumers[0]).toMatchObject({ name: 'orders', construct: 'Shop/Orders', eventPollers: 2 });
    expect(report.advice.map((a: { construct: string; setting: string }) => [a.construct, a.setting])).toEqual([
      ['Shop/Orders (QueueConsumer)', 'batchSize, maxBatchingWindow'],
      ['Shop/Orders (QueueConsumer)', 'provisionedPollers'],
      // The API waits 10 ms on its sends whatever its memory: 128 MB pays less for the wait.
      ['Shop/Api/Function (AWS::Lambda::Function)', 'MemorySize'],
    ]);
  });

  test('prices provisioned mode at --epu-hour-usd when given', async () => {
    const dir = writeAssembly();

    const report = JSON.parse(await run('--assembly', dir, '--rate', '300', '--epu-hour-usd', '0.02', '--json'));
    const text = await run('--assembly', dir, '--rate', '300', '--epu-hour-usd', '0.02');

    expect(report.prices.eventPollerUnitHourUsd).toBe(0.02);
    expect(report.byLine.app['lambda.eventPollers']).toBeCloseTo((2 * 0.02 * 1e6) / (300 * 3600), 10);
    expect(text).toContain('SQS provisioned mode at $0.02 per event poller unit-hour (--epu-hour-usd)');
  });

  test.each([
    [
      '--rate',
      '0',
      "option '--rate <events>' argument '0' is invalid. expected events per second above 0 and up to 1,000,000, got '0'",
    ],
    [
      '--rate',
      'fast',
      "option '--rate <events>' argument 'fast' is invalid. expected events per second above 0 and up to 1,000,000, got 'fast'",
    ],
    [
      '--record-bytes',
      '1.5',
      "option '--record-bytes <bytes>' argument '1.5' is invalid. expected a whole number of bytes from 1 to 1,048,576, got '1.5'",
    ],
    [
      '--duplicate-share',
      '1',
      "option '--duplicate-share <share>' argument '1' is invalid. expected a share from 0 to 0.99, got '1'",
    ],
    [
      '--effect-writes',
      '-1',
      "option '--effect-writes <units>' argument '-1' is invalid. expected write units per record from 0 to 100, got '-1'",
    ],
    [
      '--filter-match',
      '0',
      "option '--filter-match <share>' argument '0' is invalid. expected a share above 0 and up to 1, got '0'",
    ],
    [
      '--window-budget',
      '0.5',
      "option '--window-budget <seconds>' argument '0.5' is invalid. expected a whole number of seconds from 0 to 300, got '0.5'",
    ],
    [
      '--epu-hour-usd',
      '0',
      "option '--epu-hour-usd <usd>' argument '0' is invalid. expected US dollars above 0 and up to 100, got '0'",
    ],
  ])('fails when %s is %s', async (flag, value, message) => {
    await expect(run('--assembly', writeAssembly(), flag, value)).rejects.toThrow(`error: ${message}`);
  });

  test('fails when the folder has no cloud assembly', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'eda-kit-cost-empty-'));

    const failure = run('--assembly', empty);

    await expect(failure).rejects.toThrow(InvalidArgumentError);
    await expect(failure).rejects.toThrow(
      `no cloud assembly at ${empty} (no manifest.json): run \`npx cdk synth\` first, or give the folder it wrote`,
    );
  });

  test('fails when the folder has no cdk.json and no --assembly is given', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'eda-kit-cost-nothing-'));
    mkdirSync(path.join(folder, 'src'));
    const cwd = vi.spyOn(process, 'cwd').mockReturnValue(folder);

    await expect(run()).rejects.toThrow(
      `no cdk.json in ${folder}: run eda-kit cost in a CDK app's folder, or give the cloud assembly with --assembly <dir>`,
    );
    cwd.mockRestore();
  });

  test('fails when the app has no consumer of a queue or stream', async () => {
    const { OrdersMapping: _mapping, ...withoutMapping } = SHOP;

    await expect(run('--assembly', writeAssembly(withoutMapping))).rejects.toThrow(
      'no event source mapping of the app reads an SQS queue or a Kinesis stream (stacks: Shop): nothing to cost per event',
    );
  });
});
