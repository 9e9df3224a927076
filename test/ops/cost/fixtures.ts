import type { AppSettings, ConsumerSettings, ProducerSettings, StreamSettings } from '../../../ops/cost/app-settings';

/** A queue consumer of the kit (`Stack/Orders`, a `QueueConsumer`) reading `Stack/Orders/Queue`, as a template gives it. */
export function queueConsumer(overrides: Partial<ConsumerSettings> = {}): ConsumerSettings {
  return {
    id: 'Stack/OrdersConsumerFunctionSqsEventSource',
    path: 'Stack/Orders/Consumer/Function',
    name: 'orders',
    mappingPath: 'Stack/Orders/Consumer/Function/SqsEventSource:StackOrdersQueue',
    functionId: 'Stack/OrdersConsumerFunction',
    source: { kind: 'sqs', queueId: 'Stack/OrdersQueue', fifo: false },
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    parallelizationFactor: 1,
    filterPatterns: 0,
    memoryMB: 256,
    timeoutSeconds: 30,
    architecture: 'arm64',
    idempotencyStore: true,
    effectTableIds: ['Stack/OrdersTable'],
    forwardsTo: { queueIds: [], streamIds: [] },
    kitConstruct: { kind: 'QueueConsumer', path: 'Stack/Orders' },
    ...overrides,
  };
}

/** A consumer of the kit (`Stack/Events`, a `StreamConsumer`, consumer `audit`) reading `Stack/EventsStream`. */
export function streamConsumer(overrides: Partial<ConsumerSettings> = {}): ConsumerSettings {
  return queueConsumer({
    id: 'Stack/EventsauditConsumerFunctionKinesisEventSource',
    path: 'Stack/Events/audit/Consumer/Function',
    name: 'audit',
    mappingPath: 'Stack/Events/audit/Consumer/Function/KinesisEventSource:StackEventsStream',
    functionId: 'Stack/EventsauditConsumerFunction',
    source: { kind: 'kinesis', streamId: 'Stack/EventsStream', enhancedFanOut: false },
    batchSize: 100,
    kitConstruct: { kind: 'StreamConsumer', path: 'Stack/Events', consumerName: 'audit' },
    ...overrides,
  });
}

/** A producer function that sends each event to `queueIds` and puts it on `streamIds`. */
export function producer(overrides: Partial<ProducerSettings> = {}): ProducerSettings {
  return {
    id: 'Stack/ApiFunction',
    path: 'Stack/Api/Function',
    name: 'api',
    memoryMB: 256,
    timeoutSeconds: 10,
    architecture: 'arm64',
    queueIds: [],
    streamIds: [],
    ...overrides,
  };
}

/** An on-demand stream `Stack/EventsStream`. */
export const ON_DEMAND_STREAM: StreamSettings = {
  id: 'Stack/EventsStream',
  path: 'Stack/Events/Stream',
  mode: 'ON_DEMAND',
};

/** An app of `consumers` (and what else `overrides` gives), with the queues and streams they read. */
export function appOf(consumers: readonly ConsumerSettings[], overrides: Partial<AppSettings> = {}): AppSettings {
  const queueIds = [...new Set(consumers.flatMap((c) => (c.source.kind === 'sqs' ? [c.source.queueId] : [])))];
  const streamIds = [...new Set(consumers.flatMap((c) => (c.source.kind === 'kinesis' ? [c.source.streamId] : [])))];
  return {
    stacks: ['Stack'],
    consumers,
    producers: [],
    queues: queueIds.map((id) => ({ id, path: id, fifo: false })),
    streams: streamIds.map((id) =>
      id === ON_DEMAND_STREAM.id ? ON_DEMAND_STREAM : { id, path: id, mode: 'ON_DEMAND' },
    ),
    tables: [{ id: 'Stack/OrdersTable', path: 'Stack/OrdersTable', billingMode: 'PAY_PER_REQUEST' }],
    otherFunctions: [],
    logGroups: [],
    alarms: { standardMetrics: 0, highResolutionMetrics: 0, composite: 0 },
    dashboards: 0,
    notes: [],
    ...overrides,
  };
}
