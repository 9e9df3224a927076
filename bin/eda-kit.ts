#!/usr/bin/env node
/**
 * `eda-kit local` runs the CDK app of the current folder on the local cloud; `eda-kit cost` prices a million events
 * through it. `eda-kit redrive` and `eda-kit replay`
 * operate deployed or local pipelines: against AWS with the usual credential chain; against a serving local cloud
 * (`eda-kit local --serve`, `npm start -- --serve`) with `--local`, where queues may also be named by their logical
 * ID (read from `.local/endpoints.json` in the current folder).
 *
 * The local cloud is loaded only by `eda-kit local`: the other commands need neither it nor its emulators.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_DASHBOARD_PORT } from '../local/dashboard/dashboard-port';
import { DEFAULT_EDGE_PORT } from '../local/edge-endpoint';
import { port, wholeNumber } from '../ops/cli-args';
import { costCommand } from '../ops/cost/command';
import { type EmulatorEndpoints, emulatorClients } from '../ops/endpoint-clients';
import { redrive } from '../ops/redrive';
import { replay, replayFromBucket } from '../ops/replay';

/** What a serving local cloud writes to `.local/endpoints.json`. */
interface Served {
  endpoints: EmulatorEndpoints;
  resources: Record<string, Record<string, { ref: string; attributes: Record<string, string> }>>;
}

function clients(local: boolean): { sqs: SQSClient; kinesis: KinesisClient; s3(): S3Client; served?: Served } {
  // The S3 client is loaded only by a replay from a bucket.
  const awsS3 = () => new (require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3')).S3Client({});
  if (!local) return { sqs: new SQSClient({}), kinesis: new KinesisClient({}), s3: awsS3 };
  // The project the operator stands in, not this file's folder (which is inside node_modules once installed).
  const file = path.resolve(process.cwd(), '.local', 'endpoints.json');
  let served: Served;
  try {
    served = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new InvalidArgumentError(
      `--local needs a running local cloud: no ${file} (start one with eda-kit local --serve)`,
    );
  }
  const emulated = emulatorClients(served.endpoints);
  return { sqs: emulated.sqs, kinesis: emulated.kinesis, s3: () => emulated.s3, served };
}

/** A bucket name as given, or (locally) the name of the bucket with that logical ID. */
function bucketName(value: string, served?: Served): string {
  if (!served) return value;
  for (const stack of Object.values(served.resources)) {
    const resource = stack[value];
    if (resource?.attributes.Arn?.startsWith('arn:aws:s3:::')) return resource.ref;
  }
  return value;
}

/** A queue URL as given, or (locally) the URL of the queue with that logical ID. */
function queueUrl(value: string, served?: Served): string {
  if (/^https?:\/\//.test(value) || !served) return value;
  for (const stack of Object.values(served.resources)) {
    const resource = stack[value];
    if (resource?.attributes.QueueUrl) return resource.attributes.QueueUrl;
  }
  throw new InvalidArgumentError(`no queue with the logical ID '${value}' in the local cloud`);
}

const program = new Command()
  .name('eda-kit')
  .description('Operations on cdk-eda-kit pipelines')
  .configureOutput({ writeErr: (text) => process.stderr.write(`${text.split('\n')[0]}\n`) })
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

program
  .command('local')
  .description('run the CDK app of this folder on the local cloud: emulators, functions and event source mappings')
  .option('--assembly <dir>', 'run this cloud assembly (the folder cdk synth wrote) instead of synthesizing the app')
  .option(
    '--serve',
    'keep running: serve SQS, Kinesis and DynamoDB on one port and write .local/endpoints.json; Ctrl-C stops',
    false,
  )
  .option(
    '--port <n>',
    'with --serve: the port of the single endpoint (AWS_ENDPOINT_URL); 0 picks a free one',
    port,
    DEFAULT_EDGE_PORT,
  )
  .option(
    '--dashboard-port <n>',
    "with --serve: the port of the app's dashboard, served with the local cloud's metrics; 0 picks a free one",
    port,
    DEFAULT_DASHBOARD_PORT,
  )
  .option('--data-dir <dir>', 'keep DynamoDB and Kinesis state in this folder between runs')
  .option('--allow-unsupported', 'start without the resources the local cloud cannot run, naming each', false)
  .action(async (options) => {
    const { runLocalCommand } = require('../local/cli') as typeof import('../local/cli');
    await runLocalCommand({
      appDir: process.cwd(),
      assemblyDir: options.assembly === undefined ? undefined : path.resolve(options.assembly),
      serve: options.serve,
      port: options.port,
      dashboardPort: options.dashboardPort,
      dataDir: options.dataDir === undefined ? undefined : path.resolve(options.dataDir),
      allowUnsupported: options.allowUnsupported,
    });
  });

program
  .command('redrive')
  .description('move messages from a dead-letter queue back to its source queue')
  .requiredOption('--dlq <queue>', 'the dead-letter queue (URL, or logical ID with --local)')
  .requiredOption('--to <queue>', 'the source queue (URL, or logical ID with --local)')
  .option('--dry-run', 'list and count by reason; move nothing', false)
  .option('--max <n>', 'move at most n messages', wholeNumber)
  .option(
    '--dry-run-visibility-timeout <seconds>',
    'with --dry-run: how long each counted message stays hidden (a large queue counts more completely with more)',
    wholeNumber,
    5,
  )
  .option('--poll-and-send', 'do not use StartMessageMoveTask', false)
  .option('--local', 'use the serving local cloud of this folder (eda-kit local --serve)', false)
  .action(async (options) => {
    const { sqs, served } = clients(options.local);
    const result = await redrive(sqs, {
      deadLetterQueueUrl: queueUrl(options.dlq, served),
      sourceQueueUrl: queueUrl(options.to, served),
      dryRun: options.dryRun,
      dryRunVisibilityTimeoutSeconds: options.dryRunVisibilityTimeout,
      max: options.max,
      pollAndSend: options.pollAndSend,
    });
    console.log(JSON.stringify(result, null, 2));
  });

program
  .command('replay')
  .description(
    're-publish the records a Kinesis consumer gave up on: read back from the stream (--failure-queue), or kept ' +
      'whole in its failure bucket (--failure-bucket), which works after the stream has dropped them',
  )
  .option('--failure-queue <queue>', "the consumer's failure queue (URL, or logical ID with --local)")
  .option('--failure-bucket <bucket>', "the consumer's failure bucket (name, or logical ID with --local)")
  .option('--prefix <prefix>', "with --failure-bucket: only the objects under it, such as 'aws/lambda/<mapping ID>/'")
  .option('--dry-run', 'count batches and records; publish nothing', false)
  .option('--max-batches <n>', 'replay at most n failed batches', wholeNumber)
  .option('--local', 'use the serving local cloud of this folder (eda-kit local --serve)', false)
  .action(async (options) => {
    if (Boolean(options.failureQueue) === Boolean(options.failureBucket))
      throw new InvalidArgumentError('replay needs one of --failure-queue <queue> and --failure-bucket <bucket>');
    if (options.prefix !== undefined && !options.failureBucket)
      throw new InvalidArgumentError('--prefix goes with --failure-bucket');
    const { sqs, kinesis, s3, served } = clients(options.local);
    const result = options.failureBucket
      ? await replayFromBucket(s3(), kinesis, {
          bucketName: bucketName(options.failureBucket, served),
          prefix: options.prefix,
          dryRun: options.dryRun,
          maxBatches: options.maxBatches,
        })
      : await replay(sqs, kinesis, {
          failureQueueUrl: queueUrl(options.failureQueue, served),
          dryRun: options.dryRun,
          maxBatches: options.maxBatches,
        });
    console.log(JSON.stringify(result, null, 2));
  });

program.addCommand(costCommand());

program.parseAsync(process.argv).catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(error instanceof InvalidArgumentError ? 2 : 1);
});
