import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createStream, emulatorClients } from '../../local/emulators';
import { failureObjectKey } from '../../local/kinesis-poller';
import { startS3Emulator } from '../../local/s3-emulator';
import { failedBatch, replayFromBucket } from '../../ops/replay';

let s3Emulator: Awaited<ReturnType<typeof startS3Emulator>>;
let clients: ReturnType<typeof emulatorClients>;

beforeAll(async () => {
  s3Emulator = await startS3Emulator();
  clients = emulatorClients({
    dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
    sqs: process.env.AWS_ENDPOINT_URL_SQS as string,
    kinesis: process.env.AWS_ENDPOINT_URL_KINESIS as string,
    s3: s3Emulator.endpoint,
  });
});

afterAll(async () => {
  await s3Emulator?.stop();
});

/** An invocation record as Lambda writes it to an on-failure bucket, for records of `streamArn`. */
function invocationRecord(streamArn: string, records: { data: string; key: string; sequence: string }[]) {
  return {
    requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 6 },
    version: '1.0',
    KinesisBatchInfo: {
      shardId: 'shardId-000000000000',
      startSequenceNumber: records[0].sequence,
      endSequenceNumber: records[records.length - 1].sequence,
      batchSize: records.length,
      streamArn,
    },
    payload: {
      Records: records.map((record) => ({
        kinesis: {
          partitionKey: record.key,
          sequenceNumber: record.sequence,
          data: Buffer.from(record.data).toString('base64'),
          approximateArrivalTimestamp: 1_796_000_000.5,
        },
        eventSourceARN: streamArn,
      })),
    },
  };
}

/** A stream (empty: its records are past retention) and a bucket holding one failed batch of two records of it. */
async function keptBatch(payloadAsText = false) {
  const id = randomUUID().slice(0, 8);
  const streamName = `bucket-replay-${id}`;
  await createStream(clients.kinesis, streamName);
  const { StreamDescription } = await clients.kinesis.send(new DescribeStreamCommand({ StreamName: streamName }));
  const bucketName = `failures-${id}`;
  await clients.s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  const record = invocationRecord(StreamDescription?.StreamARN as string, [
    { data: '{"n":1}', key: 'a', sequence: '100' },
    { data: '{"n":2}', key: 'b', sequence: '101' },
  ]);
  const body = payloadAsText ? { ...record, payload: JSON.stringify(record.payload) } : record;
  await clients.s3.send(
    new PutObjectCommand({
      Bucket: bucketName,
      Key: failureObjectKey('mapping-1', 'shardId-000000000000', new Date('2026-11-30T09:18:44.501Z')),
      Body: JSON.stringify(body),
    }),
  );
  // Not a failed batch: left alone, and counted as skipped.
  await clients.s3.send(new PutObjectCommand({ Bucket: bucketName, Key: 'aws/lambda/notes.txt', Body: 'hello' }));
  return { streamName, bucketName };
}

/** Every record now in the stream's first shard: data and partition key. */
async function streamRecords(streamName: string): Promise<[string, string][]> {
  const { ShardIterator } = await clients.kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: 'shardId-000000000000',
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const { Records = [] } = await clients.kinesis.send(new GetRecordsCommand({ ShardIterator }));
  return Records.map((record) => [Buffer.from(record.Data ?? []).toString('utf8'), record.PartitionKey as string]);
}

test('the key of a failed batch is named as Lambda names it: mapping, shard, UTC date, time and a UUID', () => {
  expect(failureObjectKey('f2b7', 'shardId-000000000003', new Date('2026-01-02T03:04:05.678Z'))).toMatch(
    /^aws\/lambda\/f2b7\/shardId-000000000003\/2026\/01\/02\/2026-01-02T03\.04\.05-[0-9a-f-]{36}$/,
  );
});

test('GIVEN a failed batch kept in a bucket WHEN replayed THEN its records are published again with their keys, and the object is deleted', async () => {
  const { streamName, bucketName } = await keptBatch();

  const result = await replayFromBucket(clients.s3, clients.kinesis, { bucketName });

  expect(result).toEqual({ batches: 1, records: 2, expired: 0, skipped: 1, failed: 0 });
  expect(await streamRecords(streamName)).toEqual([
    ['{"n":1}', 'a'],
    ['{"n":2}', 'b'],
  ]);
  const { Contents = [] } = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucketName }));
  expect(Contents.map((object) => object.Key)).toEqual(['aws/lambda/notes.txt']);
});

test('GIVEN a payload kept as JSON text WHEN read THEN it is the same batch', async () => {
  const record = invocationRecord('arn:aws:kinesis:us-east-1:1:stream/s', [{ data: 'x', key: 'k', sequence: '7' }]);

  const batch = failedBatch(JSON.stringify({ ...record, payload: JSON.stringify(record.payload) }));

  expect(batch?.info.batchSize).toBe(1);
  expect(batch?.records.map((entry) => [Buffer.from(entry.Data ?? []).toString(), entry.PartitionKey])).toEqual([
    ['x', 'k'],
  ]);
  expect(failedBatch('{"KinesisBatchInfo":{}}')).toBeUndefined();
  expect(failedBatch('not json')).toBeUndefined();
});

test('GIVEN a dry run THEN the batch is counted, and nothing is published or deleted', async () => {
  const { streamName, bucketName } = await keptBatch(true);

  const result = await replayFromBucket(clients.s3, clients.kinesis, { bucketName, dryRun: true });

  expect(result).toMatchObject({ batches: 1, records: 2 });
  expect(await streamRecords(streamName)).toEqual([]);
  const { KeyCount } = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucketName }));
  expect(KeyCount).toBe(2);
});

test('GIVEN a re-delivery that fails THEN the object stays in the bucket for the next replay', async () => {
  const { bucketName } = await keptBatch();

  const result = await replayFromBucket(clients.s3, clients.kinesis, {
    bucketName,
    deliver: async () => {
      throw new Error('still failing');
    },
  });

  expect(result).toMatchObject({ batches: 1, failed: 1 });
  const { KeyCount } = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucketName }));
  expect(KeyCount).toBe(2);
});

test.each([
  [[], 'replay needs one of --failure-queue <queue> and --failure-bucket <bucket>'],
  [
    ['--failure-queue', 'q', '--failure-bucket', 'b'],
    'replay needs one of --failure-queue <queue> and --failure-bucket <bucket>',
  ],
  [['--failure-queue', 'q', '--prefix', 'aws/lambda/'], '--prefix goes with --failure-bucket'],
])('eda-kit replay %j refuses with one line and exit code 2', (args, message) => {
  const cli = path.resolve(__dirname, '..', '..', 'dist', 'bin', 'eda-kit.js');

  const result = spawnSync(process.execPath, [cli, 'replay', ...args], { encoding: 'utf8' });

  expect(result.status).toBe(2);
  expect(result.stderr.trim()).toBe(message);
});
