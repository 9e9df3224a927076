/**
 * What the cost model reads from a synthesized app: the event source mappings and their functions, the queues,
 * streams, tables, producers, log groups, alarms and dashboards, from the CloudFormation templates of a cloud
 * assembly alone. A setting left out of a template takes the CloudFormation default; a value that is not a
 * literal (a parameter, an import) takes the default too, with a note that says so.
 *
 * @module
 */
import { CONSUMER_ENVIRONMENT } from '../../contract';
import {
  type AssemblyStack,
  allReferencedLogicalIds,
  constructPath,
  readAssembly,
  referencedLogicalId,
  type TemplateResource,
} from '../../local/assembly';

/** CPU architecture of a function. */
export type Architecture = 'arm64' | 'x86_64';

/** Where a consumer reads from. `queueId` and `streamId` are {@link AppSettings} resource IDs. */
export type ConsumerSource =
  | { readonly kind: 'sqs'; readonly queueId: string; readonly fifo: boolean }
  | { readonly kind: 'kinesis'; readonly streamId: string; readonly enhancedFanOut: boolean };

/** Provisioned mode of an SQS event source mapping (`ProvisionedPollerConfig`). */
export interface ProvisionedPollers {
  readonly minimumPollers: number;
  readonly maximumPollers: number;
}

/** A function as its template configures it. */
export interface FunctionSettings {
  /** `<stack>/<logical ID>`: unique across the assembly. */
  readonly id: string;
  /** Its construct path, or its logical ID when the template has no path metadata. */
  readonly path: string;
  /** Its `POWERTOOLS_SERVICE_NAME`, else its construct path. */
  readonly name: string;
  readonly memoryMB: number;
  readonly timeoutSeconds: number;
  readonly architecture: Architecture;
}

/**
 * One event source mapping and its function: `id` is the mapping's `<stack>/<logical ID>`; `path`, `name`, memory,
 * timeout and architecture are the function's.
 */
export interface ConsumerSettings extends FunctionSettings {
  /** The mapping's construct path. */
  readonly mappingPath: string;
  /** The function's `<stack>/<logical ID>`. */
  readonly functionId: string;
  readonly source: ConsumerSource;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  /** Concurrent batches per shard (Kinesis); 1 for SQS. */
  readonly parallelizationFactor: number;
  /** SQS provisioned mode, if the mapping has it. */
  readonly provisionedPollers?: ProvisionedPollers;
  /** Filter patterns of the mapping (`FilterCriteria`): 0 when every record invokes the function. */
  readonly filterPatterns: number;
  /** Where records that fail every retry go (`DestinationConfig.OnFailure`), if anywhere. */
  readonly onFailureDestination?: string;
  /** The function keeps idempotency records: its environment names an idempotency table (a kit consumer). */
  readonly idempotencyStore: boolean;
  /** Tables of the app its environment names, besides the idempotency table: where its effect writes. */
  readonly effectTableIds: readonly string[];
  /** Consumed queues and streams (other than its own) its environment names: it publishes each record onward. */
  readonly forwardsTo: { readonly queueIds: readonly string[]; readonly streamIds: readonly string[] };
  /**
   * The kit construct the mapping belongs to and how to name its settings, when the construct paths say it is a
   * `QueueConsumer` (`<construct>/Consumer/Function`) or a `StreamConsumer` consumer
   * (`<construct>/<consumer name>/Consumer/Function`).
   */
  readonly kitConstruct?: KitConstruct;
}

/** The kit construct an event source mapping belongs to. */
export type KitConstruct =
  | { readonly kind: 'QueueConsumer'; readonly path: string }
  | { readonly kind: 'StreamConsumer'; readonly path: string; readonly consumerName: string };

/** A function that is not a consumer and publishes every event it receives to consumed queues and streams. */
export interface ProducerSettings extends FunctionSettings {
  /** IDs of the consumed queues it sends each event to (one SendMessage each). */
  readonly queueIds: readonly string[];
  /** IDs of the consumed streams it puts each event on (one PutRecord each). */
  readonly streamIds: readonly string[];
}

/** A Kinesis stream of the app. */
export interface StreamSettings {
  readonly id: string;
  readonly path: string;
  readonly mode: 'ON_DEMAND' | 'PROVISIONED';
  /** Provisioned streams only. */
  readonly shardCount?: number;
}

/** An SQS queue of the app. */
export interface QueueSettings {
  readonly id: string;
  readonly path: string;
  readonly fifo: boolean;
}

/** A DynamoDB table of the app. */
export interface TableSettings {
  readonly id: string;
  readonly path: string;
  readonly billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
  /** Provisioned tables only. */
  readonly writeCapacityUnits?: number;
}

/** A log group of the app. */
export interface LogGroupSettings {
  readonly id: string;
  readonly path: string;
  /** Undefined: kept forever. */
  readonly retentionDays?: number;
}

/** CloudWatch alarms of the app, as they are billed. */
export interface AlarmCounts {
  /** Alarm metrics of standard resolution (a metric-math alarm counts each metric it reads). */
  readonly standardMetrics: number;
  /** Alarm metrics with a period under 60 s. */
  readonly highResolutionMetrics: number;
  readonly composite: number;
}

/** What the cost model reads from an app. */
export interface AppSettings {
  /** The stacks read, by name. */
  readonly stacks: readonly string[];
  readonly consumers: readonly ConsumerSettings[];
  readonly producers: readonly ProducerSettings[];
  readonly queues: readonly QueueSettings[];
  readonly streams: readonly StreamSettings[];
  readonly tables: readonly TableSettings[];
  /** Functions that neither consume nor publish: no event reaches them, and they are not charged. */
  readonly otherFunctions: readonly FunctionSettings[];
  readonly logGroups: readonly LogGroupSettings[];
  readonly alarms: AlarmCounts;
  readonly dashboards: number;
  /** What the model could not read, or reads with an assumption, one sentence each. */
  readonly notes: readonly string[];
}

/** Reads every stack of the cloud assembly `cdk synth` wrote to `assemblyDir` (nested stages too). */
export function readAssemblySettings(assemblyDir: string): AppSettings {
  return readAppSettings(readAssembly(assemblyDir));
}

/** One resource of the assembly, with the stack it belongs to. */
interface Located {
  readonly id: string;
  readonly stack: AssemblyStack;
  readonly logicalId: string;
  readonly resource: TemplateResource;
}

/** Reads the app's settings from its stacks' templates. */
export function readAppSettings(stacks: readonly AssemblyStack[]): AppSettings {
  const notes: string[] = [];
  const all: Located[] = stacks.flatMap((stack) =>
    Object.entries(stack.resources).map(([logicalId, resource]) => ({
      id: `${stack.stackName}/${logicalId}`,
      stack,
      logicalId,
      resource,
    })),
  );
  const byId = new Map(all.map((located) => [located.id, located]));
  const ofType = (...types: string[]) => all.filter((located) => types.includes(located.resource.Type));
  const pathOf = (located: Located) => constructPath(located.logicalId, located.resource);
  /** The resource a value of `from`'s template refers to (`Ref`, `Fn::GetAtt`), if it is in the same stack. */
  const referenced = (from: Located, value: unknown): Located | undefined => {
    const logicalId = referencedLogicalId(value);
    return logicalId === undefined ? undefined : byId.get(`${from.stack.stackName}/${logicalId}`);
  };
  const number = (value: unknown, fallback: number, where: string): number => {
    if (value === undefined) return fallback;
    const parsed = typeof value === 'string' ? Number(value) : value;
    if (typeof parsed === 'number' && Number.isFinite(parsed)) return parsed;
    notes.push(`${where} is not a literal number (${JSON.stringify(value)}): the CloudFormation default ${fallback}`);
    return fallback;
  };

  const queues = ofType('AWS::SQS::Queue').map(
    (located): QueueSettings => ({
      id: located.id,
      path: pathOf(located),
      fifo:
        at(located.resource.Properties, 'FifoQueue') === true ||
        at(located.resource.Properties, 'FifoQueue') === 'true',
    }),
  );
  const streams = ofType('AWS::Kinesis::Stream').map((located): StreamSettings => {
    const path = pathOf(located);
    // CloudFormation's default mode is PROVISIONED (1 shard) when StreamModeDetails is absent.
    return at(located.resource.Properties, 'StreamModeDetails', 'StreamMode') === 'ON_DEMAND'
      ? { id: located.id, path, mode: 'ON_DEMAND' }
      : {
          id: located.id,
          path,
          mode: 'PROVISIONED',
          shardCount: number(at(located.resource.Properties, 'ShardCount'), 1, `${path} ShardCount`),
        };
  });
  const tables = ofType('AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable').map((located): TableSettings => {
    const path = pathOf(located);
    const billingMode =
      at(located.resource.Properties, 'BillingMode') === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED';
    return billingMode === 'PAY_PER_REQUEST'
      ? { id: located.id, path, billingMode }
      : {
          id: located.id,
          path,
          billingMode,
          writeCapacityUnits: number(
            at(located.resource.Properties, 'ProvisionedThroughput', 'WriteCapacityUnits'),
            0,
            `${path} WriteCapacityUnits`,
          ),
        };
  });
  const tableIds = new Set(tables.map((table) => table.id));

  const functionSettings = (located: Located): FunctionSettings => {
    const props = located.resource.Properties;
    const path = pathOf(located);
    const serviceName = at(props, 'Environment', 'Variables', CONSUMER_ENVIRONMENT.serviceName);
    return {
      id: located.id,
      path,
      name: typeof serviceName === 'string' ? serviceName : path,
      memoryMB: number(at(props, 'MemorySize'), 128, `${path} MemorySize`),
      timeoutSeconds: number(at(props, 'Timeout'), 3, `${path} Timeout`),
      architecture: at(props, 'Architectures', 0) === 'arm64' ? 'arm64' : 'x86_64',
    };
  };
  /** The resources a function's environment names, by variable, within its stack. */
  const environmentRefs = (located: Located, except: readonly string[] = []): Located[] => {
    const variables = (at(located.resource.Properties, 'Environment', 'Variables') ?? {}) as Record<string, unknown>;
    return Object.entries(variables)
      .filter(([name]) => !except.includes(name))
      .flatMap(([, value]) => [...allReferencedLogicalIds(value)])
      .flatMap((logicalId) => {
        const found = byId.get(`${located.stack.stackName}/${logicalId}`);
        return found ? [found] : [];
      });
  };

  const consumers: ConsumerSettings[] = [];
  for (const mapping of ofType('AWS::Lambda::EventSourceMapping')) {
    const props = mapping.resource.Properties ?? {};
    const mappingPath = pathOf(mapping);
    if (props.Enabled === false || props.Enabled === 'false') {
      notes.push(`${mappingPath} is disabled: not costed`);
      continue;
    }
    const fn = referenced(mapping, props.FunctionName);
    if (fn?.resource.Type !== 'AWS::Lambda::Function') {
      notes.push(`${mappingPath} invokes a function that is not in its stack: not costed`);
      continue;
    }
    const source = sourceOf(referenced(mapping, props.EventSourceArn), props.EventSourceArn, referenced);
    if (typeof source === 'string') {
      notes.push(`${mappingPath} ${source}: not costed`);
      continue;
    }
    const settings = functionSettings(fn);
    const variables = (at(fn.resource.Properties, 'Environment', 'Variables') ?? {}) as Record<string, unknown>;
    const pollers = at(props, 'ProvisionedPollerConfig');
    const onFailure = at(props, 'DestinationConfig', 'OnFailure', 'Destination');
    const onFailureResource = onFailure === undefined ? undefined : referenced(mapping, onFailure);
    const named = environmentRefs(fn, [
      CONSUMER_ENVIRONMENT.idempotencyTableName,
      CONSUMER_ENVIRONMENT.deadLetterQueueUrl,
    ]);
    consumers.push({
      ...settings,
      id: mapping.id,
      mappingPath,
      functionId: fn.id,
      source,
      batchSize: number(props.BatchSize, source.kind === 'sqs' ? 10 : 100, `${mappingPath} BatchSize`),
      maxBatchingWindowSeconds: number(
        props.MaximumBatchingWindowInSeconds,
        0,
        `${mappingPath} MaximumBatchingWindowInSeconds`,
      ),
      parallelizationFactor: number(props.ParallelizationFactor, 1, `${mappingPath} ParallelizationFactor`),
      ...(pollers !== undefined && {
        provisionedPollers: {
          // The SQS defaults: 2 and 200.
          minimumPollers: number(at(pollers, 'MinimumPollers'), 2, `${mappingPath} MinimumPollers`),
          maximumPollers: number(at(pollers, 'MaximumPollers'), 200, `${mappingPath} MaximumPollers`),
        },
      }),
      filterPatterns: ((at(props, 'FilterCriteria', 'Filters') as unknown[] | undefined) ?? []).length,
      ...(onFailure !== undefined && {
        onFailureDestination: onFailureResource ? pathOf(onFailureResource) : JSON.stringify(onFailure),
      }),
      idempotencyStore: variables[CONSUMER_ENVIRONMENT.idempotencyTableName] !== undefined,
      effectTableIds: unique(named.filter((found) => tableIds.has(found.id)).map((found) => found.id)),
      // Filled in below, once every consumed source is known.
      forwardsTo: {
        queueIds: unique(named.filter((found) => found.resource.Type === 'AWS::SQS::Queue').map((found) => found.id)),
        streamIds: unique(
          named.filter((found) => found.resource.Type === 'AWS::Kinesis::Stream').map((found) => found.id),
        ),
      },
      kitConstruct: kitConstructOf(settings.path, source.kind),
    });
  }

  const consumedQueues = new Set(consumers.flatMap((c) => (c.source.kind === 'sqs' ? [c.source.queueId] : [])));
  const consumedStreams = new Set(consumers.flatMap((c) => (c.source.kind === 'kinesis' ? [c.source.streamId] : [])));
  const forwarding = consumers.map(
    (consumer): ConsumerSettings => ({
      ...consumer,
      forwardsTo: {
        queueIds: consumer.forwardsTo.queueIds.filter(
          (id) => consumedQueues.has(id) && !(consumer.source.kind === 'sqs' && consumer.source.queueId === id),
        ),
        streamIds: consumer.forwardsTo.streamIds.filter(
          (id) => consumedStreams.has(id) && !(consumer.source.kind === 'kinesis' && consumer.source.streamId === id),
        ),
      },
    }),
  );

  const consumerFunctionIds = new Set(consumers.map((c) => c.functionId));
  const producers: ProducerSettings[] = [];
  const otherFunctions: FunctionSettings[] = [];
  for (const fn of ofType('AWS::Lambda::Function')) {
    if (consumerFunctionIds.has(fn.id)) continue;
    const named = environmentRefs(fn);
    const queueIds = unique(named.filter((found) => consumedQueues.has(found.id)).map((found) => found.id));
    const streamIds = unique(named.filter((found) => consumedStreams.has(found.id)).map((found) => found.id));
    if (queueIds.length + streamIds.length > 0) producers.push({ ...functionSettings(fn), queueIds, streamIds });
    else otherFunctions.push(functionSettings(fn));
  }
  if (otherFunctions.length > 0) {
    notes.push(
      `${otherFunctions.length} function${otherFunctions.length === 1 ? '' : 's'} neither consume${otherFunctions.length === 1 ? 's' : ''} nor publish${otherFunctions.length === 1 ? 'es' : ''} to a consumed queue or stream: not charged (${otherFunctions.map((f) => f.path).join(', ')})`,
    );
  }
  for (const table of tables.filter((t) => t.billingMode === 'PROVISIONED')) {
    notes.push(
      `${table.path} has provisioned capacity (${table.writeCapacityUnits} WCU): its capacity is billed by the hour, not per request; the model prices its writes at on-demand prices`,
    );
  }

  const logGroups = ofType('AWS::Logs::LogGroup').map((located): LogGroupSettings => {
    const retention = at(located.resource.Properties, 'RetentionInDays');
    return {
      id: located.id,
      path: pathOf(located),
      ...(retention !== undefined && { retentionDays: number(retention, 0, `${pathOf(located)} RetentionInDays`) }),
    };
  });

  let standardMetrics = 0;
  let highResolutionMetrics = 0;
  for (const alarm of ofType('AWS::CloudWatch::Alarm')) {
    const props = alarm.resource.Properties ?? {};
    const metrics = ((props.Metrics as Record<string, unknown>[] | undefined) ?? []).filter(
      (metric) => metric.MetricStat !== undefined,
    );
    const periods = metrics.length > 0 ? metrics.map((metric) => at(metric, 'MetricStat', 'Period')) : [props.Period];
    for (const period of periods) {
      if (typeof period === 'number' && period < 60) highResolutionMetrics += 1;
      else standardMetrics += 1;
    }
  }

  return {
    stacks: stacks.map((stack) => stack.stackName),
    consumers: forwarding,
    producers,
    queues,
    streams,
    tables,
    otherFunctions,
    logGroups,
    alarms: {
      standardMetrics,
      highResolutionMetrics,
      composite: ofType('AWS::CloudWatch::CompositeAlarm').length,
    },
    dashboards: ofType('AWS::CloudWatch::Dashboard').length,
    notes,
  };
}

/** The source of a mapping, or why it has none the model can cost. */
function sourceOf(
  found: Located | undefined,
  arn: unknown,
  referenced: (from: Located, value: unknown) => Located | undefined,
): ConsumerSource | string {
  if (!found) {
    return typeof arn === 'string'
      ? `reads ${arn}, which is not in the app`
      : `reads a source that is not a resource of its stack (${JSON.stringify(arn)})`;
  }
  const props = found.resource.Properties;
  switch (found.resource.Type) {
    case 'AWS::SQS::Queue':
      return {
        kind: 'sqs',
        queueId: found.id,
        fifo: at(props, 'FifoQueue') === true || at(props, 'FifoQueue') === 'true',
      };
    case 'AWS::Kinesis::Stream':
      return { kind: 'kinesis', streamId: found.id, enhancedFanOut: false };
    case 'AWS::Kinesis::StreamConsumer': {
      const stream = referenced(found, at(props, 'StreamARN'));
      return stream
        ? { kind: 'kinesis', streamId: stream.id, enhancedFanOut: true }
        : 'reads an enhanced fan-out consumer of a stream that is not in its stack';
    }
    default:
      return `reads a ${found.resource.Type}: the model knows SQS queues and Kinesis streams`;
  }
}

/**
 * The kit construct a consumer function belongs to, by the construct paths the kit gives it: a `QueueConsumer`'s
 * function is `<construct>/Consumer/Function`, a `StreamConsumer` consumer's `<construct>/<name>/Consumer/Function`.
 */
function kitConstructOf(functionPath: string, kind: ConsumerSource['kind']): KitConstruct | undefined {
  const match = /^(.*)\/Consumer\/Function$/.exec(functionPath);
  if (!match) return undefined;
  if (kind === 'sqs') return { kind: 'QueueConsumer', path: match[1] };
  const slash = match[1].lastIndexOf('/');
  return slash < 0
    ? undefined
    : { kind: 'StreamConsumer', path: match[1].slice(0, slash), consumerName: match[1].slice(slash + 1) };
}

/** The value at `path` inside a template value, if every step is an object. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
