import { randomUUID } from 'node:crypto';
import { DescribeStreamCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { expect, test } from 'vitest';
import { createQueue, createStream, emulatorClients } from '../../local/emulators';
import { replay } from '../../ops/replay';
import { receiveAll } from '../helpers/reference';

const { sqs, kinesis } = emulatorClients({
  dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
  sqs: process.env.AWS_ENDPOINT_URL_SQS as string,
  kinesis: process.env.AWS_ENDPOINT_URL_KINESIS as string,
});

/** A stream with two records and a failure queue holding the on-failure record of the batch of both. */
async function failedBatch() {
  const id = randomUUID().slice(0, 8);
  const streamName = `replay-${id}`;
  await createStream(kinesis, streamName);
  const sequenceNumbers: string[] = [];
  for (const data of ['{"n":1}', '{"n":2}']) {
    const { SequenceNumber, ShardId } = await kinesis.send(
      new PutRecordCommand({ StreamName: streamName, PartitionKey: 'k', Data: Buffer.from(data) }),
    );
    sequenceNumbers.push(`${ShardId} ${SequenceNumber}`);
  }
  const { StreamDescription } = await kinesis.send(new DescribeStreamCommand({ StreamName: streamName }));
  const [shardId, startSequenceNumber] = sequenceNumbers[0].split(' ');
  const failureQueueUrl = await createQueue(sqs, `replay-failures-${id}`);
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: failureQueueUrl,
      MessageBody: JSON.stringify({
        KinesisBatchInfo: {
          shardId,
          startSequenceNumber,
          endSequenceNumber: sequenceNumbers[1].split(' ')[1],
          batchSize: 2,
          streamArn: StreamDescription?.StreamARN,
        },
      }),
    }),
  );
  return failureQueueUrl;
}

test('GIVEN a re-delivery that fails THEN the batch stays in the failure queue, visible at once for the next replay', async () => {
  const failureQueueUrl = await failedBatch();

  const failed = await replay(sqs, kinesis, {
    failureQueueUrl,
    deliver: async () => {
      throw new Error('the consumer failed again');
    },
  });
  const delivered: string[] = [];
  const retried = await replay(sqs, kinesis, {
    failureQueueUrl,
    deliver: async (records) => {
      delivered.push(...records.map((record) => Buffer.from(record.Data ?? []).toString()));
    },
  });

  expect(failed).toMatchObject({ batches: 1, records: 2, failed: 1 });
  expect(retried).toMatchObject({ batches: 1, records: 2, failed: 0 });
  expect(delivered).toEqual(['{"n":1}', '{"n":2}']);
  expect(await receiveAll(sqs, failureQueueUrl)).toEqual([]);
});

test('GIVEN a dry run THEN it counts the batch and leaves it visible', async () => {
  const failureQueueUrl = await failedBatch();

  const listed = await replay(sqs, kinesis, { failureQueueUrl, dryRun: true });

  expect(listed).toMatchObject({ batches: 1, records: 2 });
  expect(await receiveAll(sqs, failureQueueUrl)).toHaveLength(1);
});
