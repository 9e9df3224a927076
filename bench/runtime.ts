import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamEvent, KinesisStreamRecord, SQSEvent, SQSRecord } from 'aws-lambda';
import { createQueueConsumer, createStreamConsumer, defineEventHandler } from 'cdk-eda-kit/runtime';
import Table from 'cli-table3';
import * as v from 'valibot';
import { CONSUMER_ENVIRONMENT, idempotencyKeyPrefix } from '../contract';
import { createQueue, createTable, emulatorClients, spawnEmulators, useEmulatorEnvironment } from '../local/emulators';
import { kinesisEvent, kinesisRecord, lambdaContext, sqsEvent, sqsRecord } from '../test/helpers/records';
import { type BenchResult, finish, median, medianOfRatios, ratioResult, round, turningOrder } from './results';

/**
 * The runtime kit's budgets, measured against dynalite and local-aws-sqs in this process:
 * - DynamoDB requests per record for idempotency: new, duplicate in the batch, duplicate in a later invocation
 *   (warm: same execution environment; cold: a new one), failed.
 * - Kinesis consumer throughput with a fixed latency added to every DynamoDB request (a model of the network):
 *   the kit's per-key ordered parallelism against Powertools' all-sequential and all-parallel processing,
 *   and against a plain order-keeping consumer on Powertools' own pieces (each key's records chained),
 *   100-record batches over 20 partition keys, with per-key order checked in every run.
 */
const { values: flags } = parseArgs({
  options: {
    'latency-ms': { type: 'string', default: '5' },
    batches: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
  },
});
const latencyMs = positive('latency-ms');
const batches = positive('batches');
const runs = positive('runs');
const BATCH_SIZE = 100;
const PARTITION_KEYS = 20;
/**
 * The stream modes: the first three run side by side in every round, the all-sequential one (the longest) in the
 * first `runs` rounds only.
 */
const MODE_ORDER = ['keyOrdered', 'parallel', 'keyChained', 'sequential'] as const;
type StreamMode = (typeof MODE_ORDER)[number];
/** Rounds of the side-by-side modes per run of the all-sequential one. */
const ROUNDS_PER_RUN = 3;
/** The modes run side by side in every round. */
const SIDE_BY_SIDE = MODE_ORDER.slice(0, 3);

function positive(flag: 'latency-ms' | 'batches' | 'runs'): number {
  const value = Number(flags[flag]);
  if (!Number.isFinite(value) || value < 0 || (flag !== 'latency-ms' && (!Number.isInteger(value) || value < 1))) {
    console.error(
      `--${flag} must be a ${flag === 'latency-ms' ? 'number of 0 or more' : 'whole number of 1 or more'}, got ${flags[flag]}`,
    );
    process.exit(2);
  }
  return value;
}

const TickSchema = v.object({ type: v.literal('Tick'), id: v.string(), key: v.string(), n: v.number() });
type Tick = v.InferOutput<typeof TickSchema>;

/**
 * Runs `create` (a consumer factory) under the idempotency key prefix of `consumerName`, set as the constructs set
 * it: a consumer reads `IDEMPOTENCY_KEY_PREFIX` once, when it is created.
 */
function underKeyPrefix<T>(consumerName: string, create: () => T): T {
  const variable = CONSUMER_ENVIRONMENT.idempotencyKeyPrefix;
  const before = process.env[variable];
  process.env[variable] = idempotencyKeyPrefix(consumerName);
  try {
    return create();
  } finally {
    if (before === undefined) delete process.env[variable];
    else process.env[variable] = before;
  }
}

/** A DynamoDB client that counts requests and, optionally, waits `delayMs` before each one. */
function instrumentedClient(endpoint: string, delayMs = 0): { client: DynamoDBClient; requests: string[] } {
  const { dynamodb: client } = emulatorClients({ dynamodb: endpoint, sqs: '', kinesis: '' });
  const requests: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      requests.push(String(context.commandName).replace(/Command$/, ''));
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      return next(args);
    },
    { step: 'initialize', name: 'instrument' },
  );
  return { client, requests };
}

async function main(): Promise<void> {
  // In their own process: in this one, the emulators' CPU work would queue behind the consumer's on one event loop.
  const emulators = await spawnEmulators();
  useEmulatorEnvironment(emulators.endpoints);
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const clients = emulatorClients(emulators.endpoints);
  const tableName = 'bench-idempotency';
  const effectsTable = 'bench-effects';
  await createTable(clients.dynamodb, tableName, 'id');
  await createTable(clients.dynamodb, effectsTable, 'key');
  const deadLetterQueueUrl = await createQueue(clients.sqs, 'bench-dead-letters');
  const results: BenchResult[] = [];

  try {
    // 1. DynamoDB requests per record (idempotency store only; the handler's own effect is not counted).
    const requestsPerRecord = async (scenario: (consumerFor: () => ReturnType<typeof counted>) => Promise<number>) =>
      scenario(() => counted());
    const counted = () => {
      const { client, requests } = instrumentedClient(emulators.endpoints.dynamodb);
      let fail = false;
      const handler = underKeyPrefix(`requests-${randomUUID()}`, () =>
        createQueueConsumer({
          events: {
            Tick: defineEventHandler({
              schema: TickSchema,
              idempotencyKey: 'id',
              handle: async () => {
                if (fail) throw new Error('failed on purpose');
              },
            }),
          },
          idempotencyTableName: tableName,
          deadLetterQueueUrl,
          dynamoDBClient: client,
          sqsClient: clients.sqs,
        }),
      );
      return { handler, requests, failNext: () => (fail = true) };
    };
    const ticks = (count: number) =>
      Array.from({ length: count }, (_, n) => ({ type: 'Tick', id: randomUUID(), key: `k${n % PARTITION_KEYS}`, n }));
    const sqsBatch = (events: object[]): SQSEvent => sqsEvent(events.map((event) => sqsRecord(JSON.stringify(event))));

    const newPerRecord = await requestsPerRecord(async (make) => {
      const consumer = make();
      await consumer.handler(sqsBatch(ticks(BATCH_SIZE)), lambdaContext());
      return consumer.requests.length / BATCH_SIZE;
    });
    const duplicateInBatch = await requestsPerRecord(async (make) => {
      const consumer = make();
      const events = ticks(BATCH_SIZE / 2);
      await consumer.handler(sqsBatch([...events, ...events]), lambdaContext());
      return (consumer.requests.length - newPerRecord * events.length) / events.length;
    });
    const events = ticks(BATCH_SIZE);
    const first = counted();
    await first.handler(sqsBatch(events), lambdaContext());
    first.requests.length = 0;
    await first.handler(sqsBatch(events), lambdaContext());
    const duplicateWarm = first.requests.length / BATCH_SIZE;
    // A new execution environment: same function (same key prefix), empty local cache.
    const cold = instrumentedClient(emulators.endpoints.dynamodb);
    const coldHandler = underKeyPrefix('requests-cold', () =>
      createQueueConsumer({
        events: { Tick: defineEventHandler({ schema: TickSchema, idempotencyKey: 'id', handle: async () => {} }) },
        idempotencyTableName: tableName,
        deadLetterQueueUrl,
        dynamoDBClient: cold.client,
        sqsClient: clients.sqs,
      }),
    );
    const coldEvents = ticks(BATCH_SIZE);
    const warmup = underKeyPrefix('requests-cold', () =>
      createQueueConsumer({
        events: { Tick: defineEventHandler({ schema: TickSchema, idempotencyKey: 'id', handle: async () => {} }) },
        idempotencyTableName: tableName,
        deadLetterQueueUrl,
        sqsClient: clients.sqs,
      }),
    );
    await warmup(sqsBatch(coldEvents), lambdaContext());
    await coldHandler(sqsBatch(coldEvents), lambdaContext());
    const duplicateCold = cold.requests.length / BATCH_SIZE;
    const coldBreakdown = [...new Set(cold.requests)].join(' + ');
    const failed = await requestsPerRecord(async (make) => {
      const consumer = make();
      consumer.failNext();
      await consumer.handler(sqsBatch(ticks(BATCH_SIZE)), lambdaContext());
      return consumer.requests.length / BATCH_SIZE;
    });
    results.push(
      { name: 'ddb.requestsPerRecord.new', value: newPerRecord, unit: 'requests', budget: 2 },
      { name: 'ddb.requestsPerRecord.duplicateInBatch', value: duplicateInBatch, unit: 'requests', budget: 0 },
      {
        name: 'ddb.requestsPerRecord.duplicateAcrossInvocations',
        value: duplicateCold,
        unit: 'requests',
        budget: 2,
        note: `new execution environment, ${coldBreakdown} on dynalite (AWS returns the item with the failed PutItem: 1)`,
      },
      {
        name: 'ddb.requestsPerRecord.duplicateAcrossInvocations.warm',
        value: duplicateWarm,
        unit: 'requests',
        note: 'same execution environment: local cache',
      },
      { name: 'ddb.requestsPerRecord.failed', value: failed, unit: 'requests', note: 'PutItem + DeleteItem' },
      ...(await baselineRequestsPerRecord(emulators.endpoints.dynamodb, tableName)),
    );

    // 2. What idempotency costs a queue consumer: the same record handler with and without it.
    const withIdempotency: number[] = [];
    const withoutIdempotency: number[] = [];
    for (let run = 0; run < runs; run++) {
      withIdempotency.push(
        await queueThroughput(
          true,
          emulators.endpoints.dynamodb,
          tableName,
          effectsTable,
          deadLetterQueueUrl,
          clients.sqs,
        ),
      );
      withoutIdempotency.push(
        await queueThroughput(
          false,
          emulators.endpoints.dynamodb,
          tableName,
          effectsTable,
          deadLetterQueueUrl,
          clients.sqs,
        ),
      );
    }
    results.push(
      {
        name: 'queue.throughput.withIdempotency',
        value: round(median(withIdempotency)),
        unit: 'records/s',
        note: 'the kit: schema, idempotency record, conditional effect write',
      },
      {
        name: 'queue.throughput.withoutIdempotency',
        value: round(median(withoutIdempotency)),
        unit: 'records/s',
        note: 'Powertools BatchProcessor, records in parallel: schema and the same conditional effect write only',
      },
      ratioResult(
        'queue.idempotency.overhead',
        median(withoutIdempotency),
        median(withIdempotency),
        `throughput without idempotency over with it, ${QUEUE_BATCH_SIZE}-message batches; each record adds two DynamoDB requests (PutItem, UpdateItem) to its one effect write, at ${latencyMs} ms each`,
      ),
    );

    // 3. Stream throughput with modelled network latency.
    const byMode = <T>(make: () => T) =>
      Object.fromEntries(MODE_ORDER.map((mode) => [mode, make()])) as Record<StreamMode, T>;
    const throughput = byMode<number[]>(() => []);
    const orderBroken = byMode(() => 0);
    const cpuMsPerBatch = byMode<number[]>(() => []);
    const measure = (mode: StreamMode, batchCount?: number) =>
      streamThroughput(
        mode,
        emulators.endpoints.dynamodb,
        tableName,
        effectsTable,
        deadLetterQueueUrl,
        clients.sqs,
        batchCount,
      );
    // One unmeasured batch of each mode first: the first run of a fresh process (and of the emulators) is its
    // compiler's warm-up, and counted it would weigh on whichever mode ran first.
    for (const mode of MODE_ORDER) await measure(mode, 1);
    // The modes of the ratios run side by side, in a turning order, so a busy moment of the machine weighs on them
    // alike; the all-sequential mode (the longest) after them, in the first `runs` rounds only. A ratio of one
    // round spreads by a fifth either way from round to round, so the rounds are three times the runs.
    for (let run = 0; run < runs * ROUNDS_PER_RUN; run++) {
      const order = turningOrder(SIDE_BY_SIDE, run);
      for (const mode of run < runs ? [...order, 'sequential' as const] : order) {
        const { recordsPerSecond, brokenKeys, cpuMs } = await measure(mode);
        throughput[mode].push(recordsPerSecond);
        orderBroken[mode] += brokenKeys;
        cpuMsPerBatch[mode].push(cpuMs / batches);
      }
    }
    const keyOrdered = median(throughput.keyOrdered);
    const sequential = median(throughput.sequential);
    const parallel = median(throughput.parallel);
    const keyChained = median(throughput.keyChained);
    const keysChecked = (mode: StreamMode) => throughput[mode].length * batches * PARTITION_KEYS;
    const cpuPerBatch = (mode: StreamMode) => round(median(cpuMsPerBatch[mode]));
    // Not a ratio of two medians, so not `ratioResult`: the median of each round's ratio.
    const pairedResult = (name: string, mode: StreamMode, baseline: StreamMode, note: string): BenchResult => {
      // Round by round: only the side-by-side modes have a figure in every round.
      const ratio = round(medianOfRatios(throughput[mode], throughput[baseline]));
      const medians = round(median(throughput[mode]) / median(throughput[baseline]));
      return {
        name,
        value: ratio,
        unit: 'x',
        baseline: round(median(throughput[baseline])),
        ratio,
        note: `the median of the ratios of ${throughput[mode].length} rounds run side by side (ratio of the medians: ${medians}); ${note}`,
      };
    };
    results.push(
      {
        name: 'stream.throughput.keyOrdered',
        value: round(keyOrdered),
        unit: 'records/s',
        note: `per-key order broken in ${orderBroken.keyOrdered} of ${keysChecked('keyOrdered')} key-batches`,
      },
      {
        name: 'stream.throughput.powertoolsSequential',
        value: round(sequential),
        unit: 'records/s',
        note: `per-key order broken in ${orderBroken.sequential} of ${keysChecked('sequential')}`,
      },
      {
        name: 'stream.throughput.powertoolsParallel',
        value: round(parallel),
        unit: 'records/s',
        note: `per-key order broken in ${orderBroken.parallel} of ${keysChecked('parallel')} key-batches`,
      },
      {
        name: 'stream.throughput.powertoolsKeyChained',
        value: round(keyChained),
        unit: 'records/s',
        note: `per-key order broken in ${orderBroken.keyChained} of ${keysChecked('keyChained')} key-batches`,
      },
      ratioResult(
        'stream.keyOrdered.vsSequential',
        keyOrdered,
        sequential,
        'key-ordered over Powertools all-sequential, records/s, medians',
        { budget: 5, atLeast: true },
      ),
      pairedResult(
        'stream.keyOrdered.vsParallel',
        'keyOrdered',
        'parallel',
        `Powertools all-parallel broke per-key order in ${orderBroken.parallel} of ${keysChecked('parallel')} key-batches, the kit in none. ` +
          `The consumer's process (the emulators apart) spent ${cpuPerBatch('keyOrdered')} ms of CPU per batch ` +
          `key-ordered, ${cpuPerBatch('parallel')} ms all-parallel`,
      ),
      pairedResult(
        'stream.keyOrdered.vsKeyChained',
        'keyOrdered',
        'keyChained',
        "key-ordered over a plain order-keeping consumer on Powertools' own pieces (makeIdempotent on the record " +
          "handler, each key's records one after another through a BatchProcessor, the keys at once): what the " +
          "kit's ordering costs beyond keeping the order, or saves. CPU per batch " +
          `${cpuPerBatch('keyOrdered')} against ${cpuPerBatch('keyChained')} ms`,
      ),
      pairedResult(
        'stream.keyChained.vsParallel',
        'keyChained',
        'parallel',
        "the plain order-keeping consumer over Powertools' all-parallel: what keeping per-key order costs with " +
          `nothing of the kit. CPU per batch ${cpuPerBatch('keyChained')} against ${cpuPerBatch('parallel')} ms`,
      ),
    );
    if (orderBroken.keyOrdered > 0) throw new Error('The kit broke per-key order: a bug, not a figure');
    if (orderBroken.keyChained > 0)
      throw new Error('The key-chained consumer broke per-key order: a bug, not a figure');
  } finally {
    await emulators.stop();
  }

  console.log(
    `latency model: ${latencyMs} ms per DynamoDB request; ${batches} batches of ${BATCH_SIZE} over ${PARTITION_KEYS} keys; ${runs * ROUNDS_PER_RUN} rounds of key-ordered, all-parallel and key-chained side by side, ${runs} runs all-sequential`,
  );
  console.log(`machine: ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString()}`);
  const table = new Table({
    head: ['figure', 'value', 'budget', 'note'],
    style: { head: [], border: [] },
    colWidths: [52, 16, 10, 70],
    wordWrap: true,
  });
  for (const r of results) {
    table.push([
      r.name,
      `${r.value} ${r.unit}`,
      r.budget === undefined ? '' : `${r.atLeast ? '>=' : '<='} ${r.budget}`,
      r.note ?? '',
    ]);
  }
  console.log(table.toString());
  finish(results);
}

/**
 * The Powertools documentation's batch + idempotency pattern (BatchProcessor, `makeIdempotent` on the record
 * handler, DynamoDB persistence layer, records one after another) and its DynamoDB requests per record, in the
 * same four cases as the kit.
 */
async function baselineRequestsPerRecord(endpoint: string, tableName: string): Promise<BenchResult[]> {
  const make = (keyPrefix: string, fail = false) => {
    const { client, requests } = instrumentedClient(endpoint);
    const config = new IdempotencyConfig({ eventKeyJmesPath: 'id' });
    const processor = new BatchProcessor(EventType.SQS);
    const processTick = makeIdempotent(
      async (tick: Tick) => {
        if (fail) throw new Error('failed on purpose');
        return tick.n;
      },
      { persistenceStore: new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client }), config, keyPrefix },
    );
    const handler = async (event: SQSEvent) => {
      const context = lambdaContext();
      config.registerLambdaContext(context);
      return processPartialResponse(
        event,
        async (record: SQSRecord) => processTick(v.parse(TickSchema, JSON.parse(record.body))),
        processor,
        { context },
      );
    };
    return { handler, requests };
  };
  const ticks = (count: number) =>
    Array.from({ length: count }, (_, n) => ({ type: 'Tick', id: randomUUID(), key: `k${n % PARTITION_KEYS}`, n }));
  const batch = (events: object[]): SQSEvent => sqsEvent(events.map((event) => sqsRecord(JSON.stringify(event))));

  const fresh = make(`baseline-${randomUUID()}`);
  await fresh.handler(batch(ticks(BATCH_SIZE)));
  const newPerRecord = fresh.requests.length / BATCH_SIZE;

  const inBatch = make(`baseline-${randomUUID()}`);
  const once = ticks(BATCH_SIZE / 2);
  await inBatch.handler(batch([...once, ...once]));
  const duplicateInBatch = (inBatch.requests.length - newPerRecord * once.length) / once.length;

  const prefix = `baseline-${randomUUID()}`;
  const events = ticks(BATCH_SIZE);
  await make(prefix).handler(batch(events));
  const later = make(prefix); // a new execution environment of the same function
  await later.handler(batch(events));
  const duplicateAcrossInvocations = later.requests.length / BATCH_SIZE;

  const failing = make(`baseline-${randomUUID()}`, true);
  // Every record fails, which Powertools reports by throwing FullBatchFailureError: Lambda retries the batch.
  await failing.handler(batch(ticks(BATCH_SIZE))).catch((error: Error) => {
    if (error.name !== 'FullBatchFailureError') throw error;
  });
  const failed = failing.requests.length / BATCH_SIZE;

  const note = 'the Powertools documentation pattern (BatchProcessor + makeIdempotent), records one after another';
  return [
    { name: 'ddb.requestsPerRecord.new.baseline', value: newPerRecord, unit: 'requests', note },
    {
      name: 'ddb.requestsPerRecord.duplicateInBatch.baseline',
      value: duplicateInBatch,
      unit: 'requests',
      note: `${note}; a failed conditional PutItem, then GetItem on dynalite (1 request on AWS)`,
    },
    {
      name: 'ddb.requestsPerRecord.duplicateAcrossInvocations.baseline',
      value: duplicateAcrossInvocations,
      unit: 'requests',
      note: `${note}; a new execution environment (AWS: 1 request)`,
    },
    { name: 'ddb.requestsPerRecord.failed.baseline', value: failed, unit: 'requests', note },
  ];
}

/** The effect every throughput run applies: one conditional PutItem keyed by the tick. */
async function writeOnce(client: DynamoDBClient, effectsTable: string, tick: Tick): Promise<void> {
  await client.send(
    new PutItemCommand({
      TableName: effectsTable,
      Item: { key: { S: tick.id } },
      ConditionExpression: 'attribute_not_exists(#k)',
      ExpressionAttributeNames: { '#k': 'key' },
    }),
  );
}

const QUEUE_BATCH_SIZE = 10;

/**
 * Records per second through a queue consumer of `batches` x 10 batches of 10 messages, each record validated and
 * written once (a conditional PutItem), through a client that adds `latencyMs` per request: the kit's consumer
 * (idempotent), or the same record handler in Powertools' BatchProcessor without idempotency.
 */
async function queueThroughput(
  idempotent: boolean,
  endpoint: string,
  tableName: string,
  effectsTable: string,
  deadLetterQueueUrl: string,
  sqs: ReturnType<typeof emulatorClients>['sqs'],
): Promise<number> {
  const { client } = instrumentedClient(endpoint, latencyMs);
  const effect = (tick: Tick) => writeOnce(client, effectsTable, tick);
  let handle: (event: SQSEvent) => Promise<unknown>;
  if (idempotent) {
    const consumer = underKeyPrefix(`queue-${randomUUID()}`, () =>
      createQueueConsumer({
        events: { Tick: defineEventHandler({ schema: TickSchema, idempotencyKey: 'id', handle: effect }) },
        idempotencyTableName: tableName,
        deadLetterQueueUrl,
        dynamoDBClient: client,
        sqsClient: sqs,
      }),
    );
    handle = (event) => consumer(event, lambdaContext());
  } else {
    const processor = new BatchProcessor(EventType.SQS);
    const recordHandler = async (record: SQSRecord) => effect(v.parse(TickSchema, JSON.parse(record.body)));
    handle = (event) =>
      processPartialResponse(event, recordHandler, processor, { context: lambdaContext(), processInParallel: true });
  }
  const total = batches * 10;
  const started = process.hrtime.bigint();
  for (let batch = 0; batch < total; batch++) {
    const events = Array.from({ length: QUEUE_BATCH_SIZE }, (_, n) =>
      sqsRecord(JSON.stringify({ type: 'Tick', id: randomUUID(), key: `k${n}`, n })),
    );
    await handle(sqsEvent(events));
  }
  return (total * QUEUE_BATCH_SIZE) / (Number(process.hrtime.bigint() - started) / 1e9);
}

/**
 * Processes `batches` Kinesis batches with one of four strategies, each record doing its idempotency requests and
 * one conditional write through a client that adds `latencyMs` per request. Returns records/s and how many
 * (batch, key) pairs saw their records applied out of order.
 */
async function streamThroughput(
  mode: StreamMode,
  endpoint: string,
  tableName: string,
  effectsTable: string,
  deadLetterQueueUrl: string,
  sqs: ReturnType<typeof emulatorClients>['sqs'],
  batchCount = batches,
): Promise<{ recordsPerSecond: number; brokenKeys: number; cpuMs: number }> {
  const { client } = instrumentedClient(endpoint, latencyMs);
  const applied = new Map<string, number[]>();
  const effect = async (tick: Tick) => {
    await writeOnce(client, effectsTable, tick);
    applied.set(tick.key, [...(applied.get(tick.key) ?? []), tick.n]);
  };
  const name = `${mode}-${randomUUID()}`;
  let handle: (event: KinesisStreamEvent) => Promise<unknown>;
  if (mode === 'keyOrdered') {
    const consumer = underKeyPrefix(name, () =>
      createStreamConsumer({
        events: { Tick: defineEventHandler({ schema: TickSchema, idempotencyKey: 'id', handle: effect }) },
        maxConcurrency: PARTITION_KEYS,
        idempotencyTableName: tableName,
        deadLetterQueueUrl,
        dynamoDBClient: client,
        sqsClient: sqs,
        useLocalCache: false,
      }),
    );
    handle = (event) => consumer(event, lambdaContext());
  } else {
    // The Powertools documentation's pattern: BatchProcessor + makeIdempotent on the record handler.
    const persistenceStore = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client });
    const config = new IdempotencyConfig({ eventKeyJmesPath: 'id' });
    const processor = new BatchProcessor(EventType.KinesisDataStreams);
    const processTick = makeIdempotent(async (tick: Tick) => effect(tick), {
      persistenceStore,
      config,
      keyPrefix: name,
    });
    const recordHandler = async (record: KinesisStreamRecord) =>
      processTick(v.parse(TickSchema, JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString())));
    handle = async (event) => {
      const context = lambdaContext();
      config.registerLambdaContext(context);
      if (mode === 'keyChained') {
        // Each key's records one after another through a BatchProcessor of its own (the same per-record work as
        // the other two modes), the keys at once; their failures make one response.
        const byKey = new Map<string, KinesisStreamRecord[]>();
        for (const record of event.Records) {
          const records = byKey.get(record.kinesis.partitionKey);
          if (records) records.push(record);
          else byKey.set(record.kinesis.partitionKey, [record]);
        }
        const responses = await Promise.all(
          [...byKey.values()].map((records) =>
            processPartialResponse(
              { Records: records },
              recordHandler,
              new BatchProcessor(EventType.KinesisDataStreams),
              // Powertools processes in parallel unless told not to.
              { context, processInParallel: false },
            ),
          ),
        );
        return { batchItemFailures: responses.flatMap((response) => response.batchItemFailures) };
      }
      return processPartialResponse(event, recordHandler, processor, {
        context,
        processInParallel: mode === 'parallel',
      });
    };
  }

  let brokenKeys = 0;
  let records = 0;
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let batch = 0; batch < batchCount; batch++) {
    applied.clear();
    const events = Array.from({ length: BATCH_SIZE }, (_, n) => {
      const key = `key-${n % PARTITION_KEYS}`;
      return kinesisRecord(JSON.stringify({ type: 'Tick', id: randomUUID(), key, n }), { partitionKey: key });
    });
    await handle(kinesisEvent(events));
    records += events.length;
    for (const sequence of applied.values()) {
      if (sequence.some((n, i) => i > 0 && n < sequence[i - 1])) brokenKeys++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  return { recordsPerSecond: records / seconds, brokenKeys, cpuMs: (cpu.user + cpu.system) / 1000 };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
