import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { copyExampleWithTarball, EXAMPLE_DIR } from '../helpers/example-app';

/**
 * The user-activity example as a user meets the kit: the package packed as npm would publish it, installed from the
 * tarball next to the user's own copies of its peers, compiled with the user's strict settings and synthesized by
 * the CDK CLI. Nothing here imports the kit's sources.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLE = EXAMPLE_DIR;
const IDEMPOTENCY_TABLE_NAME = 'user-activity-idempotency';
const POWERTOOLS = ['batch', 'idempotency', 'logger', 'metrics'];

interface StepResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface ValidationReport {
  pluginReports: { pluginName: string; violations: { ruleName: string; description: string }[] }[];
}

interface Metafile {
  inputs: Record<string, { format?: 'cjs' | 'esm' }>;
}

const timings: { step: string; seconds: number }[] = [];

/** The kit's documented idiom, `new IdempotencyTable` handed to a consumer and to the monitoring, as a user compiles it. */
const NEW_TABLE_PROBE = `import type { Stack } from 'aws-cdk-lib';
import { IdempotencyTable, PipelineMonitoring, QueueConsumer } from 'cdk-eda-kit';

export function probe(stack: Stack): void {
  const idempotencyTable = new IdempotencyTable(stack, 'NewIdempotency');
  const consumer = new QueueConsumer(stack, 'Probe', { functionProps: { entry: 'handler.ts' }, idempotencyTable });
  new PipelineMonitoring(stack, 'ProbeMonitoring').monitorQueueConsumer(consumer).monitorIdempotencyTable(idempotencyTable);
}
`;

/**
 * The environment of a user's shell: without the emulator endpoints and credentials the test run sets, and without
 * what `npm test` tells its own scripts about the root package.
 */
function userEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !/^(AWS_|POWERTOOLS_|IDEMPOTENCY_|DEAD_LETTER_|npm_package_|npm_lifecycle_|INIT_CWD$|VITEST|TEST$|NODE_ENV$)/.test(
          name,
        ),
    ),
  );
}

/** Runs a command, times it under `step`, and resolves with its outcome whatever its exit code. */
function run(step: string, command: string, args: string[], cwd: string, env = userEnvironment()): Promise<StepResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      timings.push({ step, seconds: (performance.now() - started) / 1000 });
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a command that must succeed, or fails the setup with its output. */
async function runOrThrow(step: string, command: string, args: string[], cwd: string): Promise<StepResult> {
  const result = await run(step, command, args, cwd);
  if (result.code !== 0) {
    throw new Error(`${step} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`.slice(0, 20_000));
  }
  return result;
}

/** A CloudFormation string value with its intrinsics written out, e.g. `arn:${AWS::Partition}:...`. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = value as Record<string, any>;
  if (object['Fn::Join']) return (object['Fn::Join'][1] as unknown[]).map(flatten).join(object['Fn::Join'][0]);
  if (object.Ref) return `\${${object.Ref}}`;
  if (object['Fn::GetAtt']) return `\${${object['Fn::GetAtt'].join('.')}}`;
  return JSON.stringify(value);
}

/** Every `.ts` file of the example's own sources. */
function exampleSources(dir = EXAMPLE): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'cdk.out'].includes(entry.name) ? [] : exampleSources(file);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [file] : [];
  });
}

describe('the user-activity example, built from the packed kit', () => {
  let work: string;
  let appDir: string;
  let tarball: string;
  let build: StepResult;
  let libCheck: StepResult;
  let synth: StepResult;
  let template: { Resources: Record<string, any> };
  let report: ValidationReport;

  /** The first line of each error the check without skipLibCheck reported. */
  const libCheckDiagnostics = () => {
    const diagnostics = libCheck.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
    // A failed run that names no error failed for another reason (configuration, a crash): show it.
    if (libCheck.code !== 0) expect(diagnostics.length, `${libCheck.stdout}${libCheck.stderr}`).toBeGreaterThan(0);
    return diagnostics;
  };
  const resources = (type: string) =>
    Object.entries(template.Resources).filter(([, resource]) => resource.Type === type) as [string, any][];

  beforeAll(async () => {
    const distEntries = ['dist/lib/index.js', 'dist/lambdas/runtime/index.js'];
    const missing = distEntries.filter((file) => !existsSync(path.join(ROOT, file)));
    if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: run \`npm run build\` first`);

    // GIVEN the package as npm publishes it. No prepack: `npm test` has just built dist/, and rebuilding it here
    // would remove it under the test files that load it at the same time.
    work = mkdtempSync(path.join(tmpdir(), 'eda-kit-user-activity-'));
    const pack = await runOrThrow(
      'npm pack',
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
      ROOT,
    );
    tarball = path.join(work, (JSON.parse(pack.stdout) as { filename: string }[])[0].filename);

    // AND the example in a folder of its own, outside the repository: no node_modules above it, so nothing
    // resolves from the root's.
    appDir = copyExampleWithTarball(work, tarball);

    // WHEN the user installs, builds and synthesizes it
    await runOrThrow(
      'npm install',
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'],
      appDir,
    );
    build = await run('npm run build (tsc)', 'npm', ['run', 'build'], appDir);
    const tsc = path.join(appDir, 'node_modules', '.bin', 'tsc');
    // AND, for that check only, the kit's own idiom beside the example: a new table passed to the constructs.
    mkdirSync(path.join(appDir, 'probe'));
    writeFileSync(path.join(appDir, 'probe', 'new-idempotency-table.ts'), NEW_TABLE_PROBE);
    // The example skips aws-cdk-lib's declarations, which do not compile under its settings; the kit's must.
    // One step after the other: on two cores, running both at once takes longer than the sum.
    libCheck = await run('tsc --noEmit --skipLibCheck false', tsc, ['--noEmit', '--skipLibCheck', 'false'], appDir);
    synth =
      build.code === 0
        ? await run('cdk synth -q', path.join(appDir, 'node_modules', '.bin', 'cdk'), ['synth', '-q'], appDir)
        : { code: -1, stdout: '', stderr: 'not run: the build failed' };

    const out = path.join(appDir, 'cdk.out');
    if (existsSync(path.join(out, 'UserActivity.template.json'))) {
      template = JSON.parse(readFileSync(path.join(out, 'UserActivity.template.json'), 'utf8'));
    }
    if (existsSync(path.join(out, 'validation-report.json'))) {
      report = JSON.parse(readFileSync(path.join(out, 'validation-report.json'), 'utf8'));
    }
    console.log(
      `user-activity example, step timings:\n${timings.map((t) => `  ${t.step}: ${t.seconds.toFixed(1)} s`).join('\n')}`,
    );
  }, 240_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("installs the kit from the tarball, beside the user's own copies of its peers", () => {
    const installed = JSON.parse(readFileSync(path.join(appDir, 'node_modules/cdk-eda-kit/package.json'), 'utf8'));
    const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(installed.version).toBe(root.version);
    // The example's own manifest names the tarball `npm pack` writes in the repository root.
    const example = JSON.parse(readFileSync(path.join(EXAMPLE, 'package.json'), 'utf8'));
    expect(example.dependencies['cdk-eda-kit']).toBe(`file:../../${root.name}-${root.version}.tgz`);
    // The test's folder has no node_modules above it: every module resolves from the example's own.
    const ancestors = [path.dirname(appDir)];
    while (ancestors[0] !== path.dirname(ancestors[0])) ancestors.unshift(path.dirname(ancestors[0]));
    for (const dir of ancestors) expect(existsSync(path.join(dir, 'node_modules')), dir).toBe(false);
    const optional = new Set(
      Object.entries(root.peerDependenciesMeta as Record<string, { optional?: boolean }>)
        .filter(([, meta]) => meta.optional)
        .map(([name]) => name),
    );
    const devDependencies = Object.keys(example.devDependencies);
    for (const peer of Object.keys(root.peerDependencies)) {
      expect(existsSync(path.join(appDir, 'node_modules/cdk-eda-kit/node_modules', peer)), peer).toBe(false);
      // An optional peer (the emulators, the dashboard's charts) is there when the app installs it, and only then.
      const wanted = !optional.has(peer) || devDependencies.includes(peer);
      expect(existsSync(path.join(appDir, 'node_modules', peer)), peer).toBe(wanted);
    }
  });

  test('compiles under strict, exactOptionalPropertyTypes and lib es2020, with no error from the kit', async () => {
    expect(`${build.stdout}${build.stderr}`, 'npm run build').not.toMatch(/error TS/);
    expect(build.code).toBe(0);
    const shown = await run('tsc --showConfig', path.join(appDir, 'node_modules/.bin/tsc'), ['--showConfig'], appDir);
    expect(JSON.parse(shown.stdout).compilerOptions).toMatchObject({
      strict: true,
      exactOptionalPropertyTypes: true,
      lib: ['es2020'],
      module: 'nodenext',
      moduleResolution: 'nodenext',
      types: ['node'],
    });
    // Without skipLibCheck aws-cdk-lib reports errors in its own declarations; none may name a file of the kit,
    // and none the example's sources.
    const diagnostics = libCheckDiagnostics();
    expect(diagnostics.filter((line) => !/^(node_modules\/aws-cdk-lib|probe)\//.test(line))).toEqual([]);
  });

  test('lets a user hand a new IdempotencyTable to the constructs under exactOptionalPropertyTypes', () => {
    expect(libCheckDiagnostics().filter((line) => line.startsWith('probe/'))).toEqual([]);
  });

  test('synthesizes with `cdk synth`', () => {
    expect(synth.code, `${synth.stdout}${synth.stderr}`).toBe(0);
    expect(template).toBeDefined();
  });

  test('runs the operations CLI from the installed package, with nothing but its own dependencies', async () => {
    const cli = path.join(appDir, 'node_modules', '.bin', 'eda-kit');
    const help = await run('eda-kit --help', cli, ['--help'], appDir);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/redrive/);
    expect(help.stdout).toMatch(/replay/);
    // A user's mistake gets one line and exit code 2.
    const noLocalCloud = await run(
      'eda-kit redrive --local',
      cli,
      ['redrive', '--local', '--dlq', 'a', '--to', 'b'],
      appDir,
    );
    expect(noLocalCloud.code).toBe(2);
    expect(noLocalCloud.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('prices a million events of the app with eda-kit cost, from the installed package', async () => {
    const cli = path.join(appDir, 'node_modules', '.bin', 'eda-kit');
    const cost = await run(
      'eda-kit cost',
      cli,
      ['cost', '--assembly', 'cdk.out', '--rate', '50', '--record-bytes', '400', '--json'],
      appDir,
    );
    expect(cost.code, cost.stderr).toBe(0);
    const report = JSON.parse(cost.stdout);
    // The example's queue, stream, table and functions are all read from its template and charged.
    expect(Object.keys(report.byService.app)).toEqual(expect.arrayContaining(['Lambda', 'SQS', 'Kinesis', 'DynamoDB']));
    expect(report.usdPerMillionEvents.app).toBeGreaterThan(report.usdPerMillionEvents.floor);
    expect(report.consumers.length).toBeGreaterThanOrEqual(2);
  });

  test('gives every consumer its dead-letter or failure queue', () => {
    const queues = new Set(resources('AWS::SQS::Queue').map(([id]) => id));
    const redriven = resources('AWS::SQS::Queue').filter(([, queue]) => queue.Properties.RedrivePolicy);
    expect(redriven).toHaveLength(1);
    const deadLetterQueue = redriven[0][1].Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0];
    expect(queues.has(deadLetterQueue)).toBe(true);

    const kinesisMappings = resources('AWS::Lambda::EventSourceMapping').filter(([, mapping]) =>
      flatten(mapping.Properties.EventSourceArn).includes('Stream'),
    );
    expect(kinesisMappings).toHaveLength(1);
    const failureQueue = kinesisMappings[0][1].Properties.DestinationConfig?.OnFailure?.Destination['Fn::GetAtt'][0];
    expect(queues.has(failureQueue)).toBe(true);

    // Each function's runtime dead-letters the records it can never process into its consumer's queue.
    const deadLetterTargets = resources('AWS::Lambda::Function').map(
      ([, fn]) => fn.Properties.Environment.Variables.DEAD_LETTER_QUEUE_URL.Ref,
    );
    expect(new Set(deadLetterTargets)).toEqual(new Set([deadLetterQueue, failureQueue]));
  });

  test('reports partial batch failures from every event source mapping', () => {
    const mappings = resources('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(2);
    for (const [id, mapping] of mappings) {
      expect(mapping.Properties.FunctionResponseTypes, id).toEqual(['ReportBatchItemFailures']);
    }
  });

  test('alarms on the first message in each dead-letter and failure queue', () => {
    // The queues nothing is redriven from: the dead-letter queue and the failure queue.
    const deadLetterQueues = resources('AWS::SQS::Queue')
      .filter(([, queue]) => !queue.Properties.RedrivePolicy)
      .map(([id]) => id);
    expect(deadLetterQueues).toHaveLength(2);
    const alarmed = resources('AWS::CloudWatch::Alarm')
      .filter(([, alarm]) => alarm.Properties.MetricName === 'ApproximateNumberOfMessagesVisible')
      .map(([, alarm]) => alarm.Properties);
    for (const queue of deadLetterQueues) {
      const alarm = alarmed.find((props) => props.Dimensions[0].Value['Fn::GetAtt'][0] === queue);
      expect(alarm, queue).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    }
  });

  test('grants no wildcard action', () => {
    const actions = resources('AWS::IAM::Policy').flatMap(([, policy]) =>
      policy.Properties.PolicyDocument.Statement.flatMap((statement: any) => [statement.Action].flat()),
    );
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action: string) => action.includes('*'))).toEqual([]);
  });

  test('holds each function to its own keys of the existing idempotency table, and creates none', () => {
    const functions = resources('AWS::Lambda::Function');
    expect(functions).toHaveLength(2);
    for (const [id, fn] of functions) {
      const variables = fn.Properties.Environment.Variables;
      expect(variables.IDEMPOTENCY_TABLE_NAME, id).toBe(IDEMPOTENCY_TABLE_NAME);
      const role = fn.Properties.Role['Fn::GetAtt'][0];
      const statements = resources('AWS::IAM::Policy')
        .filter(([, policy]) => policy.Properties.Roles.some((ref: any) => ref.Ref === role))
        .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);
      const onIdempotencyTable = statements.filter((statement: any) =>
        [statement.Resource].flat().some((arn: unknown) => flatten(arn).includes(`:table/${IDEMPOTENCY_TABLE_NAME}`)),
      );
      expect(onIdempotencyTable, id).toHaveLength(1);
      expect(flatten(onIdempotencyTable[0].Resource)).toBe(
        `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/${IDEMPOTENCY_TABLE_NAME}`,
      );
      expect(onIdempotencyTable[0].Condition, id).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${variables.IDEMPOTENCY_KEY_PREFIX}*`] },
      });
    }
    // Only the example's own tables: the outbox of welcome emails and the sessions.
    const tables = resources('AWS::DynamoDB::Table').map(([, table]) => table.Properties.KeySchema[0].AttributeName);
    expect(tables.sort()).toEqual(['sessionId', 'userId']);
  });

  test("passes cdk-nag with no finding left, the kit's acknowledgements written into the template", () => {
    expect(report, 'validation-report.json').toBeDefined();
    const violations = report.pluginReports.flatMap((plugin) =>
      plugin.violations.map((violation) => `${plugin.pluginName}: ${violation.ruleName}`),
    );
    expect(violations).toEqual([]);
    // The packs ran: what they were told to accept is in the template, each with its reason.
    const acknowledged = Object.values(template.Resources).flatMap(
      (resource: any) => resource.Metadata?.cdk_nag?.rules_to_suppress ?? [],
    ) as { id: string; reason: string }[];
    expect(acknowledged.map((rule) => rule.id)).toEqual(
      expect.arrayContaining(['Serverless-LambdaDLQ', 'Serverless-LambdaTracing', 'AwsSolutions-SQS3']),
    );
    for (const rule of acknowledged) expect(rule.reason.length, rule.id).toBeGreaterThan(60);
  });

  test('bundles one copy of each Powertools package and of valibot, none from inside the kit', async () => {
    // The example's own esbuild (the kit's dependency), bundling as the constructs do.
    const esbuild: typeof import('esbuild') = createRequire(path.join(appDir, 'package.json'))('esbuild');
    const inputs: string[] = [];
    const formats = new Map<string, 'cjs' | 'esm' | undefined>();
    for (const name of ['welcome-email', 'sessionizer']) {
      const result = await esbuild.build({
        entryPoints: [path.join(appDir, 'lambdas', name, 'handler.ts')],
        absWorkingDir: appDir,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node24', // the constructs' runtime
        write: false,
        metafile: true,
        external: ['@aws-sdk/*', '@smithy/*'],
        logLevel: 'silent',
      });
      for (const [input, { format }] of Object.entries((result.metafile as Metafile).inputs)) {
        inputs.push(input);
        formats.set(input, format);
      }
    }
    expect(inputs.filter((input) => input.startsWith('node_modules/cdk-eda-kit/node_modules/'))).toEqual([]);
    // The kit's ES module build (its `module` condition), which esbuild can tree-shake; not the CommonJS one.
    expect(inputs.some((input) => input.startsWith('node_modules/cdk-eda-kit/dist/esm/lambdas/runtime/'))).toBe(true);
    expect(inputs.filter((input) => input.startsWith('node_modules/cdk-eda-kit/dist/lambdas/'))).toEqual([]);
    const packageDirs = (pkg: string) =>
      new Set(
        inputs.flatMap((input) => {
          const at = input.indexOf(`node_modules/${pkg}/`);
          return at === -1 ? [] : [input.slice(0, at + `node_modules/${pkg}`.length)];
        }),
      );
    // The four the user depends on, and any other Powertools package they bring (commons).
    const bundled = inputs.flatMap((input) => /node_modules\/(@aws-lambda-powertools\/[^/]+)\//.exec(input)?.[1] ?? []);
    const packages = new Set([...POWERTOOLS.map((name) => `@aws-lambda-powertools/${name}`), ...bundled, 'valibot']);
    for (const pkg of packages) expect([...packageDirs(pkg)], pkg).toEqual([`node_modules/${pkg}`]);
    // And one build of each: a dual package bundled both as CommonJS and as ES modules is two copies in one folder.
    for (const pkg of packages) {
      const built = new Set(
        inputs.filter((input) => input.includes(`node_modules/${pkg}/`)).map((input) => formats.get(input)),
      );
      expect([...built], pkg).toEqual(['esm']);
    }
  });

  test('bundles functions that load on Node.js with their environment', async () => {
    const assets = resources('AWS::Lambda::Function').map(([id, fn]) => ({
      id,
      file: path.join(appDir, 'cdk.out', fn.Metadata['aws:asset:path'], 'index.js'),
      variables: Object.keys(fn.Properties.Environment.Variables),
    }));
    for (const asset of assets) {
      const env = {
        ...userEnvironment(),
        ...Object.fromEntries(asset.variables.map((name) => [name, `local-${name}`])),
        AWS_REGION: 'us-east-1',
      };
      const loaded = await run(
        `load ${asset.id}`,
        process.execPath,
        ['-e', 'process.stdout.write(typeof require(process.argv[1]).handler)', asset.file],
        appDir,
        env,
      );
      // stderr may carry the AWS SDK's notice about the Node.js version; an error exits non-zero.
      expect(loaded.code, `${asset.id}: ${loaded.stderr}`).toBe(0);
      expect(loaded.stdout, asset.id).toBe('function');
    }
  });

  test('uses the kit only through its package', () => {
    const sources = exampleSources();
    expect(sources.length).toBeGreaterThanOrEqual(4);
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/\.\.\/\.\.\/(lib|contract)|lambdas\/runtime|\/work\/main/);
      const kitImports = [...text.matchAll(/from '(cdk-eda-kit[^']*)'/g)].map((match) => match[1]);
      for (const specifier of kitImports)
        expect(['cdk-eda-kit', 'cdk-eda-kit/runtime', 'cdk-eda-kit/local'], file).toContain(specifier);
    }
  });
  test("passes its own end-to-end tests, written with cdk-eda-kit/local, on the kit's local cloud", async () => {
    // The example's `npm test` after its build: vitest, the app synthesized from its cdk.json, the emulators it
    // installed as dev dependencies. A duplicate applied once and a poison event in its DLQ are among its checks.
    const tests = await run(
      'vitest run (the example)',
      path.join(appDir, 'node_modules', '.bin', 'vitest'),
      ['run'],
      appDir,
    );
    expect(tests.code, `${tests.stdout}${tests.stderr}`).toBe(0);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: vitest colours its summary
    expect(tests.stdout.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/Tests\s+3 passed/);
  });

  test('runs on `npx eda-kit local --serve` from the assembly `cdk synth` wrote: an event sent by a stock SDK client to the single endpoint is processed; Ctrl-C stops it all', async () => {
    const started = performance.now();
    // From the cloud assembly of the `cdk synth` above (its own synth is what the example's tests just ran).
    const child = spawn(
      path.join(appDir, 'node_modules', '.bin', 'eda-kit'),
      ['local', '--assembly', 'cdk.out', '--serve', '--port', '0', '--dashboard-port', '0'],
      {
        cwd: appDir,
        env: userEnvironment(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const waitFor = (pattern: RegExp, seconds: number) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const timer = setInterval(() => {
          const match = pattern.exec(output);
          if (match) {
            clearInterval(timer);
            resolve(match);
          } else if (performance.now() - started > seconds * 1000 || child.exitCode !== null) {
            clearInterval(timer);
            reject(new Error(`no ${pattern} in:\n${output}`));
          }
        }, 50);
      });
    try {
      const [, endpoint] = await waitFor(/AWS_ENDPOINT_URL=(http:\/\/127\.0\.0\.1:\d+)/, 90);
      const served = JSON.parse(readFileSync(path.join(appDir, '.local', 'endpoints.json'), 'utf8'));
      const queueUrl = Object.values(served.resources.UserActivity as Record<string, any>).find(
        (resource) => resource.type === 'AWS::SQS::Queue' && resource.attributes.QueueName.includes('SignUpsQueue'),
      ).ref;
      // The example's own SDK, configured by nothing but the environment, as a user's script would be.
      const sent = await run(
        'aws-sdk send to the single endpoint',
        process.execPath,
        [
          '-e',
          `const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');
           new SQSClient({}).send(new SendMessageCommand({ QueueUrl: process.argv[1], MessageBody: process.argv[2] }))
             .then(() => console.log('sent'), (error) => { console.error(error.message); process.exit(1); });`,
          queueUrl,
          JSON.stringify({
            type: 'UserSignedUp',
            eventId: '0b7c8f4e-2f6a-4b8e-9d7e-1c2a3b4c5d6e',
            userId: 'u-cli',
            email: 'cli@example.com',
            displayName: 'Cli',
            signedUpAt: new Date().toISOString(),
          }),
        ],
        appDir,
        {
          ...userEnvironment(),
          AWS_ENDPOINT_URL: endpoint,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      );
      expect(sent.stdout.trim(), sent.stderr).toBe('sent');
      await waitFor(/First event processed \(welcome-email\)/, 120);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited, output).toBe(0);
    // No emulator and no execution environment outlives it.
    const processes = await run('ps', 'ps', ['-eo', 'args'], appDir);
    const kitDir = path.join(appDir, 'node_modules', 'cdk-eda-kit');
    expect(processes.stdout.split('\n').filter((line) => line.includes(kitDir))).toEqual([]);
    timings.push({ step: 'eda-kit local --serve, first event, Ctrl-C', seconds: (performance.now() - started) / 1000 });
  }, 150_000);

  // Last: it replaces aws-cdk-lib in the copy. The peer range starts where the constructs' APIs start
  // (`Validations.of().acknowledge`, which cdk-nag 3 reads); the oldest release it admits must synthesize the app.
  test('synthesizes with the oldest aws-cdk-lib of its peer range', async () => {
    const root = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const oldest = String(root.peerDependencies['aws-cdk-lib']).replace(/^\^/, '');
    // A fresh install with the oldest release pinned: npm leaves aws-cdk-lib's bundled dependencies broken when
    // it swaps the version in place.
    const manifestFile = path.join(appDir, 'package.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    manifest.dependencies['aws-cdk-lib'] = oldest;
    writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    rmSync(path.join(appDir, 'node_modules'), { recursive: true, force: true });
    rmSync(path.join(appDir, 'package-lock.json'), { force: true });
    await runOrThrow(
      `npm install (aws-cdk-lib ${oldest})`,
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'],
      appDir,
    );
    const installed = JSON.parse(readFileSync(path.join(appDir, 'node_modules/aws-cdk-lib/package.json'), 'utf8'));
    expect(installed.version).toBe(oldest);
    rmSync(path.join(appDir, 'cdk.out'), { recursive: true, force: true });
    const oldestSynth = await run(
      `cdk synth -q (aws-cdk-lib ${oldest})`,
      path.join(appDir, 'node_modules', '.bin', 'cdk'),
      ['synth', '-q'],
      appDir,
    );
    expect(oldestSynth.code, `${oldestSynth.stdout}${oldestSynth.stderr}`).toBe(0);
    const oldestTemplate = JSON.parse(readFileSync(path.join(appDir, 'cdk.out', 'UserActivity.template.json'), 'utf8'));
    const mappings = Object.values(oldestTemplate.Resources as Record<string, any>).filter(
      (resource) => resource.Type === 'AWS::Lambda::EventSourceMapping',
    );
    expect(mappings.map((mapping) => mapping.Properties.FunctionResponseTypes)).toEqual([
      ['ReportBatchItemFailures'],
      ['ReportBatchItemFailures'],
    ]);
  }, 120_000);
});
