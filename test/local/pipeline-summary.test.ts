import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildReferenceApp } from '../../lib/stacks/reference-app';
import { readAssembly } from '../../local/assembly';
import { type PipelineSummary, summarizePipelines } from '../../local/pipeline-summary';

describe('summarizePipelines over the synthesized reference app', () => {
  let pipelines: PipelineSummary[];

  beforeAll(() => {
    // GIVEN the cloud assembly of the reference app
    const outdir = mkdtempSync(path.join(tmpdir(), 'eda-kit-summary-'));
    // The CDK CLI records construct paths in the template; an in-process synth must ask for them.
    const app = new App({ outdir, context: { stage: 'dev', 'aws:cdk:enable-path-metadata': true } });
    buildReferenceApp(app);
    app.synth();
    // WHEN it is summarized
    pipelines = summarizePipelines(readAssembly(outdir));
  });

  test('lists one pipeline per event source mapping, named by consumer', () => {
    expect(pipelines.map((p) => p.consumer).sort()).toEqual([
      'analytics-aggregator',
      'audit-log-writer',
      'inventory-updater',
      'notification-sender',
      'order-processor',
    ]);
  });

  test('describes a queue pipeline with its redrive target and alarms', () => {
    const orders = pipelines.find((p) => p.consumer === 'order-processor');
    expect(orders).toMatchObject({
      stackName: 'EdaKit-dev-OrderEvents',
      sourceKind: 'SQS queue',
      source: 'Orders/Queue',
      settings: 'batch 10, visibility 180 s',
      deadLetters: 'Orders/DeadLetterQueue after 5 receives',
      alarms: 4,
    });
  });

  test('describes a stream pipeline with its retry settings and failure bucket', () => {
    const inventory = pipelines.find((p) => p.consumer === 'inventory-updater');
    expect(inventory).toMatchObject({
      sourceKind: 'Kinesis stream (on-demand)',
      source: 'OrderEvents/Stream',
      settings: 'batch 100, from TRIM_HORIZON, retries 5, max age 21600 s, bisect on, parallel 1',
      deadLetters: 'OrderEvents/inventory-updater/FailureBucket',
      alarms: 4,
    });
  });
});

test('readAssembly names the missing synth step when there is no cloud assembly', () => {
  const empty = mkdtempSync(path.join(tmpdir(), 'eda-kit-empty-'));
  expect(() => readAssembly(empty)).toThrow(/no cloud assembly at .* \(no manifest\.json\): run `npx cdk synth` first/);
});

test('summarizePipelines says so when a queue has no redrive policy', () => {
  // GIVEN a hand-written template: a queue without a redrive policy feeding a function
  const dir = mkdtempSync(path.join(tmpdir(), 'eda-kit-manual-'));
  writeFileSync(
    path.join(dir, 'manifest.json'),
    JSON.stringify({ artifacts: { S: { type: 'aws:cloudformation:stack', properties: { templateFile: 'S.json' } } } }),
  );
  writeFileSync(
    path.join(dir, 'S.json'),
    JSON.stringify({
      Resources: {
        Q: { Type: 'AWS::SQS::Queue', Properties: {} },
        F: { Type: 'AWS::Lambda::Function', Properties: {} },
        M: {
          Type: 'AWS::Lambda::EventSourceMapping',
          Properties: { FunctionName: { Ref: 'F' }, EventSourceArn: { 'Fn::GetAtt': ['Q', 'Arn'] } },
        },
      },
    }),
  );
  // WHEN summarized THEN the missing dead-letter queue is visible
  expect(summarizePipelines(readAssembly(dir))).toEqual([
    {
      stackName: 'S',
      sourceKind: 'SQS queue',
      source: 'Q',
      consumer: 'F',
      settings: 'batch 10, visibility 30 s',
      deadLetters: 'none (no redrive policy)',
      alarms: 0,
    },
  ]);
});
