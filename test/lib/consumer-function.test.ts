import * as fs from 'node:fs';
import * as path from 'node:path';
import { type App, CfnParameter, Duration, type Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_METRICS_NAMESPACE } from '../../contract';
import { CONSUMER_RUNTIME, ConsumerFunction, type ConsumerFunctionProps } from '../../lib/consumer-function';
import { createTestStack, HANDLER_ENTRY, snapshotTemplate } from '../helpers/template';

interface Built {
  readonly app: App;
  readonly stack: Stack;
  readonly consumer: ConsumerFunction;
  readonly template: Template;
}

/** Builds a ConsumerFunction at 'TestStack/Orders/Consumer', as a consumer construct called 'Orders' would. */
function build(props: Partial<ConsumerFunctionProps> = {}): Built {
  const { app, stack } = createTestStack();
  const consumer = new ConsumerFunction(new Construct(stack, 'Orders'), 'Consumer', { entry: HANDLER_ENTRY, ...props });
  return { app, stack, consumer, template: Template.fromStack(stack) };
}

/** The bundled handler code of the only function of a synthesized app. */
function bundledCode(built: Built): string {
  const assembly = built.app.synth();
  const [fn] = Object.values(built.template.findResources('AWS::Lambda::Function'));
  const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
  return fs.readFileSync(path.join(assembly.directory, `asset.${hash}`, 'index.js'), 'utf8');
}

/** The version of every `NODEJS_<n>_X` runtime that aws-cdk-lib offers. */
function nodejsRuntimeVersions(): number[] {
  return Object.getOwnPropertyNames(lambda.Runtime)
    .map((name) => /^NODEJS_(\d+)_X$/.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]));
}

describe('CONSUMER_RUNTIME', () => {
  test('THEN it is the newest NODEJS_<n>_X runtime that aws-cdk-lib offers', () => {
    // GIVEN
    const versions = nodejsRuntimeVersions();
    const newest = Math.max(...versions);

    // THEN
    expect(versions.length).toBeGreaterThan(0);
    expect(CONSUMER_RUNTIME).toBe((lambda.Runtime as unknown as Record<string, lambda.Runtime>)[`NODEJS_${newest}_X`]);
    expect(CONSUMER_RUNTIME.name).toBe(`nodejs${newest}.x`);
  });
});

describe('ConsumerFunction with default props', () => {
  let built: Built;
  let template: Template;

  beforeAll(() => {
    // GIVEN / WHEN
    built = build();
    template = built.template;
  });

  test('THEN it creates one function, one log group and one role', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.resourceCountIs('AWS::IAM::Role', 1);
  });

  test('THEN the function runs on ARM64 with the newest Node.js runtime', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
    });
  });

  test('THEN the function has a 30 second timeout and 256 MiB of memory', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 30, MemorySize: 256 });
    expect(built.consumer.timeout.toSeconds()).toBe(30);
  });

  test('THEN the function reserves no concurrency, has no tracing and no description', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: Match.absent(),
      TracingConfig: Match.absent(),
      Description: Match.absent(),
    });
  });

  test('THEN the function logs to its own log group, kept for 30 days', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: {
        LogGroup: { Ref: built.stack.getLogicalId(built.consumer.logGroup.node.defaultChild as never) },
      },
    });
  });

  test('THEN the role is assumed by Lambda and has no managed policy', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      },
      ManagedPolicyArns: Match.absent(),
      Description: 'Execution role of TestStack/Orders',
    });
  });

  test('THEN the role may write only to the function log group', () => {
    const logGroupId = built.stack.getLogicalId(built.consumer.logGroup.node.defaultChild as never);
    template.resourceCountIs('AWS::IAM::Policy', 1);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
          },
        ],
      },
    });
  });

  test('THEN the function is created after its role and the role policy', () => {
    const roleId = built.stack.getLogicalId(built.consumer.role.node.defaultChild as never);
    const policy = built.consumer.role.node.findChild('DefaultPolicy').node.defaultChild as never;
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(fn.DependsOn).toEqual(expect.arrayContaining([roleId, built.stack.getLogicalId(policy)]));
  });

  test('THEN the environment names the service after the enclosing construct and the EdaKit namespace', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectEquals({ POWERTOOLS_SERVICE_NAME: 'Orders', POWERTOOLS_METRICS_NAMESPACE: 'EdaKit' }),
      },
    });
    expect(built.consumer.serviceName).toBe('Orders');
    expect(built.consumer.metricsNamespace).toBe(DEFAULT_METRICS_NAMESPACE);
    expect(DEFAULT_METRICS_NAMESPACE).toBe('EdaKit');
  });

  test('THEN the handler is bundled minified', () => {
    const code = bundledCode(built);
    expect(code).toContain('batchItemFailures');
    // esbuild names each source file in a comment unless it minifies.
    expect(code).not.toContain('test/fixtures/handler.ts');
  });

  test('THEN it matches the snapshot', () => {
    expect(snapshotTemplate(template)).toMatchSnapshot();
  });
});

describe('ConsumerFunction props', () => {
  test('GIVEN a timeout THEN the function has it', () => {
    // GIVEN / WHEN
    const { template, consumer } = build({ timeout: Duration.minutes(2) });

    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 120 });
    expect(consumer.timeout.toSeconds()).toBe(120);
  });

  test.each([
    [1, 1],
    [900, 900],
  ])('GIVEN a timeout of %d seconds at the edge of the range THEN it is accepted', (seconds, expected) => {
    // GIVEN / WHEN
    const { template } = build({ timeout: Duration.seconds(seconds) });

    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: expected });
  });

  test('GIVEN a memorySize THEN the function has it', () => {
    // GIVEN / WHEN
    const { template } = build({ memorySize: 10_240 });

    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 10_240 });
  });

  test('GIVEN a logRetention THEN the log group keeps logs that long', () => {
    // GIVEN / WHEN
    const { template } = build({ logRetention: logs.RetentionDays.ONE_WEEK });

    // THEN
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  test.each([0, 5])('GIVEN reservedConcurrentExecutions %d THEN the function reserves it', (reserved) => {
    // GIVEN / WHEN
    const { template } = build({ reservedConcurrentExecutions: reserved });

    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: reserved });
  });

  test('GIVEN an environment THEN it is kept, and the kit variables win over it', () => {
    // GIVEN / WHEN
    const { template } = build({
      environment: { TABLE: 'orders', POWERTOOLS_SERVICE_NAME: 'ignored', POWERTOOLS_METRICS_NAMESPACE: 'ignored' },
    });

    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectEquals({
          TABLE: 'orders',
          POWERTOOLS_SERVICE_NAME: 'Orders',
          POWERTOOLS_METRICS_NAMESPACE: 'EdaKit',
        }),
      },
    });
  });

  test('GIVEN a serviceName THEN the environment and the role description use it', () => {
    // GIVEN / WHEN
    const { template, consumer } = build({ serviceName: 'order-intake' });

    // THEN
    expect(consumer.serviceName).toBe('order-intake');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'order-intake' } },
    });
    template.hasResourceProperties('AWS::IAM::Role', { Description: 'Execution role of TestStack/order-intake' });
  });

  test('GIVEN a metricsNamespace THEN the environment uses it', () => {
    // GIVEN / WHEN
    const { template, consumer } = build({ metricsNamespace: 'Shop' });

    // THEN
    expect(consumer.metricsNamespace).toBe('Shop');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { POWERTOOLS_METRICS_NAMESPACE: 'Shop' } },
    });
  });

  test('GIVEN active tracing THEN the function traces and may write trace segments', () => {
    // GIVEN / WHEN
    const { template } = build({ tracing: lambda.Tracing.ACTIVE });

    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' }),
        ]),
      },
    });
  });

  test('GIVEN a description and a handler name THEN the function has them', () => {
    // GIVEN / WHEN
    const { template } = build({ description: 'Consumes orders', handler: 'main' });

    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', { Description: 'Consumes orders', Handler: 'index.main' });
  });

  test('GIVEN bundling options THEN they are merged over the kit bundling', () => {
    // GIVEN / WHEN
    const built = build({ bundling: { sourceMap: true } });

    // THEN the user option applies: the bundle links a source map
    const code = bundledCode(built);
    expect(code).toContain('sourceMappingURL=index.js.map');
    // AND the kit options it did not override still apply
    expect(code).not.toContain('test/fixtures/handler.ts');
  });

  test('GIVEN bundling that turns minify off THEN the user option wins', () => {
    // GIVEN / WHEN
    const built = build({ bundling: { minify: false } });

    // THEN
    expect(bundledCode(built)).toContain('test/fixtures/handler.ts');
  });

  test('GIVEN Tokens for timeout, memorySize and reservedConcurrentExecutions THEN they pass through unvalidated', () => {
    // GIVEN
    const { stack } = createTestStack();
    const value = Token.asNumber(new CfnParameter(stack, 'P', { type: 'Number' }).valueAsNumber);

    // WHEN
    new ConsumerFunction(stack, 'Consumer', {
      entry: HANDLER_ENTRY,
      timeout: Duration.seconds(value),
      memorySize: value,
      reservedConcurrentExecutions: value,
    });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Timeout: { Ref: 'P' },
      MemorySize: { Ref: 'P' },
      ReservedConcurrentExecutions: { Ref: 'P' },
    });
  });
});

describe('ConsumerFunction validation', () => {
  const prefix = "ConsumerFunction at 'TestStack/Consumer' has invalid props:\n  - ";

  function attempt(props: Partial<ConsumerFunctionProps>): () => ConsumerFunction {
    const { stack } = createTestStack();
    return () => new ConsumerFunction(stack, 'Consumer', { entry: HANDLER_ENTRY, ...props });
  }

  test.each([
    [Duration.seconds(0), '0 seconds'],
    [Duration.seconds(901), '901 seconds'],
    [Duration.minutes(16), '960 seconds (16 minutes)'],
    [Duration.millis(1_500), '1.5 seconds'],
  ])('fails when timeout is %s', (timeout, described) => {
    expect(attempt({ timeout })).toThrow(
      `${prefix}timeout must be a whole number of seconds from 1 second to 900 seconds (15 minutes), got ${described}`,
    );
  });

  test.each([127, 10_241, 256.5])('fails when memorySize is %d', (memorySize) => {
    expect(attempt({ memorySize })).toThrow(
      `${prefix}memorySize must be an integer from 128 to 10240, got ${memorySize}`,
    );
  });

  test.each([-1, 1.5])('fails when reservedConcurrentExecutions is %d', (reservedConcurrentExecutions) => {
    expect(attempt({ reservedConcurrentExecutions })).toThrow(
      `${prefix}reservedConcurrentExecutions must be an integer of 0 or more, got ${reservedConcurrentExecutions}`,
    );
  });

  test.each(['orders.audit', 'orders*', 'a?b', ' orders', ''])("fails when serviceName is '%s'", (serviceName) => {
    expect(attempt({ serviceName })).toThrow(
      `${prefix}serviceName must be 1 to 128 of the characters a-z A-Z 0-9 _ -, got '${serviceName}': it starts ` +
        "every idempotency key and the IAM grant on them, where '.', '*' or '?' could reach another consumer's keys",
    );
  });

  test('fails when the default serviceName, the construct ID of the consumer, has a dot', () => {
    // GIVEN
    const { stack } = createTestStack();
    const consumer = new Construct(stack, 'orders.audit');

    // WHEN / THEN
    expect(() => new ConsumerFunction(consumer, 'Consumer', { entry: HANDLER_ENTRY })).toThrow(
      "got 'orders.audit' (the default: the construct ID of the consumer)",
    );
  });

  test('fails when several props are invalid, with every problem in one error', () => {
    expect(attempt({ timeout: Duration.seconds(0), memorySize: 64, reservedConcurrentExecutions: -5 })).toThrow(
      "ConsumerFunction at 'TestStack/Consumer' has invalid props:\n" +
        '  - timeout must be a whole number of seconds from 1 second to 900 seconds (15 minutes), got 0 seconds\n' +
        '  - memorySize must be an integer from 128 to 10240, got 64\n' +
        '  - reservedConcurrentExecutions must be an integer of 0 or more, got -5',
    );
  });
});
