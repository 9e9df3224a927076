import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildReferenceApp } from '../../../lib/stacks/reference-app';

interface ValidationReport {
  pluginReports: { pluginName: string; violations: { ruleName: string; description: string }[] }[];
}

/** A scratch folder inside the project (git-ignored). */
function testOutDir(): string {
  const dir = path.resolve('.test-out');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Synthesizes `app` and returns the violations every validation plugin reported. */
function synthViolations(app: App): { plugin: string; rule: string }[] {
  const assembly = app.synth();
  const report = JSON.parse(
    readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.map((violation) => ({ plugin: plugin.pluginName, rule: violation.ruleName })),
  );
}

describe('the reference app', () => {
  let template: Template;
  let violations: { plugin: string; rule: string }[];

  beforeAll(() => {
    // GIVEN the app as `cdk synth` builds it, with the built-in CloudFormation validation on as well
    const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'eda-kit-app-')), context: { stage: 'test' } });
    const { orderEvents } = buildReferenceApp(app);
    // WHEN it is synthesized
    violations = synthViolations(app);
    template = Template.fromStack(orderEvents);
  });

  test('has no unacknowledged cdk-nag finding and no CloudFormation validation finding', () => {
    expect(violations).toEqual([]);
  });

  test('writes every acknowledgement, with its reason, into the template', () => {
    const acknowledged = Object.values(template.toJSON().Resources as Record<string, { Metadata?: any }>).flatMap(
      (resource) => resource.Metadata?.cdk_nag?.rules_to_suppress ?? [],
    ) as { id: string; reason: string }[];
    expect(new Set(acknowledged.map((rule) => rule.id))).toEqual(
      new Set([
        'Serverless-LambdaTracing',
        'Serverless-LambdaDLQ',
        'Serverless-LambdaEventSourceMappingDestination',
        'Serverless-SQSRedrivePolicy',
        'AwsSolutions-SQS3',
        // The inventory updater's failure bucket: no access logs, and objects put under the prefix Lambda names.
        'AwsSolutions-S1',
        'AwsSolutions::AwsSolutions-IAM5[Resource::<OrderEventsinventoryupdaterFailureBucket22CFBFFB.Arn>/aws/lambda/*]',
      ]),
    );
    for (const rule of acknowledged) expect(rule.reason.length).toBeGreaterThan(60);
  });

  test.each([
    ['AWS::SQS::Queue', 7], // 2 queues + 2 DLQs + 3 failure queues
    ['AWS::SQS::QueuePolicy', 7],
    ['AWS::Kinesis::Stream', 1],
    ['AWS::Lambda::Function', 6], // order API + 5 consumers
    ['AWS::Lambda::EventSourceMapping', 5],
    ['AWS::Lambda::Url', 1],
    ['AWS::Logs::LogGroup', 6],
    ['AWS::IAM::Role', 6],
    ['AWS::DynamoDB::Table', 6], // idempotency + orders, sent emails, inventory, audit log, analytics
    ['AWS::CloudWatch::Alarm', 34], // 6 per queue consumer, 7 per stream consumer, 1 on the failure bucket
    ['AWS::S3::Bucket', 1], // the inventory updater's failure bucket
    ['AWS::CloudWatch::CompositeAlarm', 1], // the pipeline is unhealthy
    ['AWS::CloudWatch::Dashboard', 1],
  ])('synthesizes %s x %i', (type, count) => {
    template.resourceCountIs(type, count);
  });

  test('publishes through a function URL that requires IAM auth', () => {
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
  });

  test('names the stage in the stack and each function description', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Description: 'order-processor (test)' });
  });

  test('no IAM policy grants a "*" action', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const actions = Object.values(policies).flatMap((policy: any) =>
      policy.Properties.PolicyDocument.Statement.flatMap((statement: any) => [statement.Action].flat()),
    );
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action: string) => action.includes('*'))).toEqual([]);
  });

  test('takes the stage from context and stays environment-agnostic without account and region', () => {
    const app = new App({ context: { stage: 'qa' } });
    const { orderEvents } = buildReferenceApp(app);
    expect(orderEvents.stackName).toBe('EdaKit-qa-OrderEvents');
    expect(orderEvents.environment).toBe('aws://unknown-account/unknown-region');
  });

  test('takes account and region from context when given', () => {
    const app = new App({ context: { stage: 'qa', account: '123456789012', region: 'eu-west-1' } });
    const { orderEvents } = buildReferenceApp(app);
    expect(orderEvents.environment).toBe('aws://123456789012/eu-west-1');
  });

  test('retains data in prod and destroys it in other stages', () => {
    const prod = new App({ context: { stage: 'prod' } });
    Template.fromStack(buildReferenceApp(prod).orderEvents).hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
    });
    expect(template.findResources('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' })).toEqual({});
  });
});

describe('the cdk-nag wiring', () => {
  test('fails a finding nobody acknowledged, so the clean result above means something', () => {
    // GIVEN a queue without a dead-letter queue, checked by the same packs
    const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'eda-kit-nag-')) });
    const stack = new Stack(app, 'Unsafe');
    new sqs.Queue(stack, 'Queue', { enforceSSL: true });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    // WHEN synthesized THEN the missing DLQ is reported
    let rules: string[] = [];
    try {
      rules = synthViolations(app).map((violation) => violation.rule);
    } catch (error) {
      rules = [String(error)];
    }
    expect(rules.join('\n')).toMatch(/SQS3/);
  });
});

test('the reference functions bundle and load with their environment', async () => {
  const app = new App({
    // Inside the project, so a bundle resolves the AWS SDK from node_modules as it would from the Lambda runtime.
    outdir: mkdtempSync(path.join(testOutDir(), 'bundles-')),
    context: { 'aws:cdk:enable-asset-metadata': true },
  });
  const { orderEvents } = buildReferenceApp(app);
  const assembly = app.synth();
  const functions = Template.fromStack(orderEvents).findResources('AWS::Lambda::Function');
  const environmentFor = (fn: any): Record<string, string> =>
    Object.fromEntries(Object.keys(fn.Properties.Environment.Variables).map((name) => [name, `local-${name}`]));
  const metadata = Template.fromStack(orderEvents).toJSON().Resources as Record<string, any>;
  expect(Object.keys(functions)).toHaveLength(6);
  for (const [logicalId, fn] of Object.entries(functions)) {
    const assetDir = path.join(assembly.directory, metadata[logicalId].Metadata['aws:asset:path']);
    const saved = { ...process.env };
    Object.assign(process.env, environmentFor(fn), { AWS_REGION: 'us-east-1' });
    try {
      const module = await import(path.join(assetDir, 'index.js'));
      expect(typeof (module.handler ?? module.default?.handler), logicalId).toBe('function');
    } finally {
      process.env = saved;
    }
  }
});
