import { mkdirSync, mkdtempSync } from 'node:fs';
import * as path from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { type Message, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { emulatorClients } from '../../local/emulators';
import type { FunctionOutput } from '../../local/function-runtime';
import { LocalCloud } from '../../local/local-cloud';
import { synthesize } from '../../local/synth';

const projectDir = path.resolve(__dirname, '..', '..');
const outputs: FunctionOutput[] = [];
let cloud: LocalCloud;
let clients: ReturnType<typeof emulatorClients>;

/** Waits until `probe` returns a value, polling; fails after `seconds`. */
async function eventually<T>(probe: () => Promise<T | undefined>, seconds: number, what: string): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function receive(queueUrl: string): Promise<Message[]> {
  const { Messages = [] } = await clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      AttributeNames: ['All'],
      VisibilityTimeout: 0,
    }),
  );
  return Messages;
}

const handled = () => outputs.map((output) => output.json?.handled).filter((value) => value !== undefined);

beforeAll(async () => {
  // GIVEN a small app synthesized as `cdk synth` would, running on the local cloud
  mkdirSync(path.join(projectDir, '.test-out'), { recursive: true });
  const assemblyDir = mkdtempSync(path.join(projectDir, '.test-out', 'local-app-'));
  await synthesize(projectDir, assemblyDir, 'node --import tsx test/fixtures/local-app/app.ts');
  cloud = await LocalCloud.start({ assemblyDir, onOutput: (output) => outputs.push(output) });
  clients = emulatorClients(cloud.endpoints);
  // The run's hookTimeout (120 s): synth and a cold local cloud beside the chaos test's took over 60 s on 2 busy cores.
});

afterAll(async () => {
  await cloud?.stop();
});

const queueOf = (consumer: string) =>
  cloud.resource(cloud.logicalIdsOf('AWS::SQS::Queue').find((id) => id.startsWith(`${consumer}Queue`)) as string);
const deadLetterQueueOf = (consumer: string) =>
  cloud.resource(
    cloud.logicalIdsOf('AWS::SQS::Queue').find((id) => id.startsWith(`${consumer}DeadLetterQueue`)) as string,
  );

describe('SQS event source mapping', () => {
  test('GIVEN a message that keeps failing THEN SQS redrives it to the DLQ after maxReceiveCount, and the rest is deleted', async () => {
    // WHEN
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueOf('Flaky').ref, MessageBody: 'ok-1' }));
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueOf('Flaky').ref, MessageBody: 'fail-1' }));

    // THEN
    const [dead] = await eventually(
      async () => {
        const messages = await receive(deadLetterQueueOf('Flaky').ref);
        return messages.length > 0 ? messages : undefined;
      },
      20,
      'the failing message in the dead-letter queue',
    );
    expect(dead.Body).toBe('fail-1');
    expect(Number(dead.Attributes?.ApproximateReceiveCount)).toBeGreaterThanOrEqual(1);
    expect(await receive(queueOf('Flaky').ref)).toEqual([]);
  }, 30_000);

  test('GIVEN a function that hangs THEN it is killed at its timeout, its batch is retried, then dead-lettered', async () => {
    const sleepy = cloud.function('Sleepy').runtime;
    const timeoutsBefore = sleepy.stats.timeouts;

    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueOf('Sleepy').ref, MessageBody: 'hang' }));

    const [dead] = await eventually(
      async () => {
        const messages = await receive(deadLetterQueueOf('Sleepy').ref);
        return messages.length > 0 ? messages : undefined;
      },
      30,
      'the hanging message in the dead-letter queue',
    );
    expect(dead.Body).toBe('hang');
    // Each receive ended by the 1-second timeout killing the environment, until SQS moved the message.
    expect(sleepy.stats.timeouts - timeoutsBefore).toBeGreaterThanOrEqual(1);
    // A fresh environment then serves the next message.
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueOf('Sleepy').ref, MessageBody: 'next-message' }));
    await eventually(async () => (handled().includes('next-message') ? true : undefined), 15, 'the next message');
  }, 60_000);
});

describe('Kinesis event source mapping', () => {
  test('GIVEN a poison record THEN bisection isolates it, it goes to the failure queue, and every other record is handled', async () => {
    const stream = cloud.resource(
      cloud.logicalIdsOf('AWS::Kinesis::Stream').find((id) => id.startsWith('Events')) as string,
    );
    const failureQueue = cloud.resource(
      cloud
        .logicalIdsOf('AWS::SQS::Queue')
        .find((id) => id.startsWith('Events') && id.includes('FailureQueue')) as string,
    );
    const data = ['r1', 'r2', 'r3', 'poison', 'r5', 'r6', 'r7', 'r8'];

    const started = Date.now();
    const { Records = [] } = await clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: stream.ref,
        Records: data.map((item) => ({ Data: Buffer.from(item), PartitionKey: 'one-key' })),
      }),
    );

    const [failure] = await eventually(
      async () => {
        const messages = await receive(failureQueue.ref);
        return messages.length > 0 ? messages : undefined;
      },
      30,
      'the on-failure record',
    );
    const record = JSON.parse(failure.Body as string);
    expect(record).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted' },
      responseContext: { functionError: 'Unhandled' },
      KinesisBatchInfo: {
        batchSize: 1,
        startSequenceNumber: Records[3].SequenceNumber,
        endSequenceNumber: Records[3].SequenceNumber,
        streamArn: stream.attributes.Arn,
      },
    });
    await eventually(
      async () =>
        data.filter((item) => item !== 'poison').every((item) => handled().includes(item)) ? true : undefined,
      15,
      'the other records',
    );
    // The shard was blocked only as long as bisection and one retry take, not until the record expires.
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 60_000);
});

describe('filter criteria', () => {
  test('GIVEN a queue mapping with a filter THEN only matching messages are sent, and the others are deleted, as on AWS', async () => {
    const queue = queueOf('Picky').ref;
    const poller = cloud.pollers.find(({ functionLabel }) => functionLabel.startsWith('Picky'))?.poller;
    const before = poller?.stats.filteredOut ?? 0;

    for (const type of ['Wanted', 'Unwanted']) {
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: JSON.stringify({ type }) }));
    }
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: 'not json' }));

    await eventually(async () => (handled().includes('{"type":"Wanted"}') ? true : undefined), 15, 'the wanted one');
    await eventually(async () => ((poller?.stats.filteredOut ?? 0) - before >= 2 ? true : undefined), 15, 'filtering');
    expect(handled()).not.toContain('{"type":"Unwanted"}');
    expect(handled()).not.toContain('not json');
    // Deleted, not left to reappear or to be redriven.
    expect(await receive(queue)).toEqual([]);
    expect(await receive(deadLetterQueueOf('Picky').ref)).toEqual([]);
  }, 30_000);

  test('GIVEN a stream mapping with a filter on data THEN only matching records are sent, and the shard moves past the rest', async () => {
    const stream = cloud.resource(
      cloud.logicalIdsOf('AWS::Kinesis::Stream').find((id) => id.startsWith('Readings')) as string,
    );
    const readings = [12, 45, 101, 30, 80].map((celsius) => JSON.stringify({ celsius }));

    await clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: stream.ref,
        Records: readings.map((reading) => ({ Data: Buffer.from(reading), PartitionKey: 'sensor-1' })),
      }),
    );

    const wanted = ['{"celsius":45}', '{"celsius":80}'];
    await eventually(async () => (wanted.every((item) => handled().includes(item)) ? true : undefined), 15, 'hot ones');
    for (const cold of ['{"celsius":12}', '{"celsius":101}', '{"celsius":30}']) expect(handled()).not.toContain(cold);
  }, 30_000);
});

describe('tumbling windows', () => {
  test('GIVEN a stream mapping with a tumbling window THEN state passes from one invocation to the next, and each window ends with one final invocation', async () => {
    const stream = cloud.resource(
      cloud.logicalIdsOf('AWS::Kinesis::Stream').find((id) => id.startsWith('Windowed')) as string,
    );
    const put = (readings: number[]) =>
      clients.kinesis.send(
        new PutRecordsCommand({
          StreamName: stream.ref,
          Records: readings.map((celsius) => ({
            Data: Buffer.from(JSON.stringify({ celsius })),
            PartitionKey: 'sensor',
          })),
        }),
      );

    // Two groups of readings more than a window apart: they fall in different windows whatever the boundaries.
    await put([10, 20, 30, 40, 50]);
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    await put([60, 70]);

    type ClosedWindow = { start: string; end: string; count: number; total: number; records: number };
    const windows = await eventually(
      async () => {
        const closed = outputs
          .map((output) => output.json?.windowClosed as ClosedWindow | undefined)
          .filter((value) => value !== undefined);
        return closed.reduce((sum, window) => sum + window.count, 0) >= 7 ? closed : undefined;
      },
      20,
      'the windows to close',
    );
    // Every record counted once, in one window's final state; no window closed twice.
    expect(windows.reduce((sum, window) => sum + window.count, 0)).toBe(7);
    expect(windows.reduce((sum, window) => sum + window.total, 0)).toBe(280);
    expect(new Set(windows.map((window) => window.start)).size).toBe(windows.length);
    expect(windows.length).toBeGreaterThanOrEqual(2);
    for (const window of windows) {
      expect(window.records).toBe(0);
      expect(Date.parse(window.end) - Date.parse(window.start)).toBe(3_000);
      expect(Date.parse(window.start) % 3_000).toBe(0);
    }
    // Batches of two: later invocations of a window were handed the state the earlier ones returned.
    type WindowInvocation = { records: number; stateIn: { count?: number } };
    const invocations = outputs
      .map((output) => output.json?.windowInvocation as WindowInvocation | undefined)
      .filter((value) => value !== undefined);
    expect(invocations.some((invocation) => (invocation.stateIn.count ?? 0) >= 2)).toBe(true);
    expect(invocations.every((invocation) => invocation.records <= 2)).toBe(true);
  }, 40_000);
});

describe('the test API', () => {
  test('GIVEN a construct path, with or without the stack and /Resource, or a logical ID THEN each finds the same queue', () => {
    const byPath = cloud.queue('Flaky/Queue');

    expect(cloud.queue('LocalTest/Flaky/Queue').url).toBe(byPath.url);
    expect(cloud.queue('LocalTest/Flaky/Queue/Resource').url).toBe(byPath.url);
    expect(cloud.queue(byPath.identity.logicalId).url).toBe(byPath.url);
    expect(byPath.identity).toMatchObject({ stackName: 'LocalTest', path: 'Flaky/Queue' });
    expect(byPath.url).toBe(queueOf('Flaky').ref);
  });

  test('GIVEN the end of a path that only one resource has THEN it finds that one', () => {
    expect(cloud.queue('poison/FailureQueue').identity.path).toBe('Events/poison/FailureQueue');
  });

  test('fails when nothing matches, or more than one does, listing them', () => {
    expect(() => cloud.stream('Nope')).toThrow(
      "no stream 'Nope' in the app; its streams: LocalTest/Events/Stream, LocalTest/Readings/Stream, LocalTest/Windowed/Stream",
    );
    expect(() => cloud.table('Idempotency/Table')).toThrow(
      "more than one table matches 'Idempotency/Table': LocalTest/Flaky/Idempotency/Table, LocalTest/Sleepy/Idempotency/Table,",
    );
  });

  test('GIVEN a message that keeps failing THEN waitForRest names the busy queue, then resolves once SQS has dead-lettered it', async () => {
    const flaky = cloud.queue('Flaky/Queue');
    await cloud.waitForRest();

    await flaky.send('fail-at-rest');

    await expect(cloud.waitForRest({ timeoutSeconds: 0.2 })).rejects.toThrow(
      /^the local cloud did not come to rest within 0\.2 s: .*queue LocalTest\/Flaky\/Queue: /,
    );
    await cloud.waitForRest({ timeoutSeconds: 20 });
    const letters = await cloud.queue('Flaky/DeadLetterQueue').messages();
    const ours = letters.filter((letter) => letter.body === 'fail-at-rest');
    expect(ours).toHaveLength(1);
    expect(ours[0].reason).toBe('redriven by SQS');
    // Listing takes nothing out, and leaves nothing in flight.
    expect((await cloud.queue('Flaky/DeadLetterQueue').messages()).map((letter) => letter.messageId)).toEqual(
      letters.map((letter) => letter.messageId),
    );
    await cloud.waitForRest({ timeoutSeconds: 1 });
  }, 40_000);

  test('GIVEN records put to a stream THEN waitForRest resolves only once they are handled, and the logs say so', async () => {
    const handledLines = () =>
      cloud
        .function('hot')
        .logs('celsius')
        .filter((entry) => entry.json?.handled === '{"celsius":77}');
    const before = handledLines().length;

    await cloud.stream('Readings/Stream').put({ celsius: 77 }, 'sensor-2');
    await cloud.waitForRest();

    expect(handledLines().length).toBe(before + 1);
  }, 30_000);
});
