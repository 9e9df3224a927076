import * as path from 'node:path';
import { CONSUMER_ENVIRONMENT } from '../contract';
import { type EmulatorEndpoints, emulatorClients, LOCAL_CREDENTIALS } from '../ops/endpoint-clients';
import { readAssembly, type TemplateResource } from './assembly';
import { type Emulators, spawnEmulators } from './emulators';
import { FilterCriteria } from './filter-criteria';
import { type FunctionOutput, FunctionRuntime } from './function-runtime';
import { LOCAL_REGION, type LocalResource } from './intrinsics';
import { type KinesisMappingConfig, KinesisPoller } from './kinesis-poller';
import { processCpuSeconds } from './process-cpu';
import { type ProvisionedStack, provisionStack } from './provision';
import { seededRandom } from './seeded-random';
import { type SqsMappingConfig, SqsPoller } from './sqs-poller';

/** How the local cloud runs. */
export interface LocalCloudOptions {
  /** The cloud assembly `cdk synth` wrote. */
  readonly assemblyDir: string;
  /** Keep DynamoDB and Kinesis state here between runs. */
  readonly dataDir?: string;
  /** Emulators started ahead (for example while the app synthesizes); the local cloud stops them with itself. */
  readonly emulators?: Promise<Emulators>;
  /** Execution environments per function when the template reserves no concurrency. */
  readonly defaultConcurrency?: number;
  /** Told once about every setting that cannot be honoured locally. */
  readonly onNotice?: (message: string) => void;
  /** Everything the functions print. */
  readonly onOutput?: (output: FunctionOutput) => void;
  /** Errors of pollers (the emulators refused a call): they retry on their own. */
  readonly onPollerError?: (error: Error) => void;
  /** Extra environment variables for a function, by its label (a chaos run's fault rates). */
  readonly functionEnvironment?: (label: string) => Record<string, string> | undefined;
  /** The DynamoDB endpoint the functions use, instead of the emulator's (a fault-injecting proxy). */
  readonly functionDynamoDBEndpoint?: string;
  /** The share of the pollers' SQS and Kinesis calls that fail before reaching the emulator. */
  readonly pollerFaultRate?: number;
  /** Seeds which of the pollers' calls fail. @default 0 */
  readonly faultSeed?: number;
  /** Cut every function timeout to this many seconds (named at start): a run with hangs goes faster. */
  readonly maxFunctionTimeoutSeconds?: number;
  /** Cut every queue's visibility timeout to this many seconds (named at start): redelivery comes sooner. */
  readonly maxVisibilityTimeoutSeconds?: number;
}

/** A function of the local cloud, found by its label (service name) or logical ID. */
export interface LocalFunction {
  readonly stackName: string;
  readonly logicalId: string;
  readonly runtime: FunctionRuntime;
}

type Poller = SqsPoller | KinesisPoller;

/**
 * The synthesized app, running locally: the emulators (in a process of their own), every queue, stream and table of
 * every stack, every function in its own execution environments, and every event source mapping polled with AWS's
 * semantics.
 */
export class LocalCloud {
  private constructor(
    public readonly endpoints: EmulatorEndpoints,
    public readonly stacks: ProvisionedStack[],
    public readonly functions: LocalFunction[],
    public readonly pollers: { readonly logicalId: string; readonly functionLabel: string; readonly poller: Poller }[],
    private readonly emulators: Emulators,
  ) {}

  /** Starts everything; resolves when every function has a warm environment and every mapping polls. */
  public static async start(options: LocalCloudOptions): Promise<LocalCloud> {
    const notice = noticeOnce(options.onNotice ?? (() => {}));
    const assembly = readAssembly(options.assemblyDir);
    const emulators = await (options.emulators ?? spawnEmulators({ dataDir: options.dataDir }));
    const functions: LocalFunction[] = [];
    const pollers: LocalCloud['pollers'][number][] = [];
    try {
      const clients = emulatorClients(emulators.endpoints);
      const stacks: ProvisionedStack[] = [];
      for (const stack of assembly) {
        stacks.push(await provisionStack(stack, clients, notice, options.maxVisibilityTimeoutSeconds));
      }

      for (const provisioned of stacks) {
        for (const [logicalId, resource] of Object.entries(provisioned.stack.resources)) {
          if (resource.Type !== 'AWS::Lambda::Function') continue;
          const config = functionConfig(options, provisioned, logicalId, resource, emulators.endpoints, notice);
          const runtime = new FunctionRuntime(config, options.onOutput ?? (() => {}), options.defaultConcurrency ?? 4);
          functions.push({ stackName: provisioned.stack.stackName, logicalId, runtime });
        }
      }
      await Promise.all(functions.map((fn) => fn.runtime.warm()));

      const onPollerError = options.onPollerError ?? (() => {});
      const pollerClients = emulatorClients(emulators.endpoints);
      if (options.pollerFaultRate)
        injectFaults(
          pollerClients,
          options.pollerFaultRate,
          seededRandom(options.faultSeed ?? 0, 'pollers'),
          pollerFaults,
        );
      for (const provisioned of stacks) {
        for (const [logicalId, resource] of Object.entries(provisioned.stack.resources)) {
          if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
          const poller = mappingPoller(
            provisioned,
            logicalId,
            resource,
            functions,
            pollerClients,
            notice,
            onPollerError,
          );
          if (poller) pollers.push(poller);
        }
      }
      for (const { poller } of pollers) await poller.start();
      return new LocalCloud(emulators.endpoints, stacks, functions, pollers, emulators);
    } catch (error) {
      await Promise.all(pollers.map(({ poller }) => poller.stop()));
      await Promise.all(functions.map((fn) => fn.runtime.stop()));
      await emulators.stop();
      throw error;
    }
  }

  /** The function whose service name (or logical ID) is `label`. */
  public function(label: string): LocalFunction {
    const found = this.functions.find((fn) => fn.runtime.config.label === label || fn.logicalId === label);
    if (!found)
      throw new Error(
        `No local function '${label}' (functions: ${this.functions.map((fn) => fn.runtime.config.label).join(', ')})`,
      );
    return found;
  }

  /** The local identity of a template resource: its `Ref` and attributes (URL, ARN, name). */
  public resource(logicalId: string, stackName?: string): LocalResource {
    for (const stack of this.stacks) {
      if (stackName && stack.stack.stackName !== stackName) continue;
      const found = stack.resources.get(logicalId);
      if (found) return found;
    }
    throw new Error(`No local resource '${logicalId}'`);
  }

  /** The logical IDs of a stack's resources of `type`. */
  public logicalIdsOf(type: string): string[] {
    return this.stacks.flatMap((stack) =>
      Object.entries(stack.stack.resources)
        .filter(([, resource]) => resource.Type === type)
        .map(([logicalId]) => logicalId),
    );
  }

  /** Every template resource's local identity, by stack and logical ID. */
  public resourceMap(): Record<string, Record<string, LocalResource>> {
    return Object.fromEntries(this.stacks.map((stack) => [stack.stack.stackName, Object.fromEntries(stack.resources)]));
  }

  /**
   * CPU seconds used so far by each part of the local cloud: each emulator, each function's environments, and this
   * process (pollers, workload and IPC). Where the time goes.
   */
  public cpuSeconds(): Record<string, number> {
    const split: Record<string, number> = {};
    for (const [service, pid] of Object.entries(this.emulators.pids ?? {})) {
      split[`emulator:${service}`] = processCpuSeconds(pid) ?? 0;
    }
    for (const fn of this.functions) split[`function:${fn.runtime.config.label}`] = fn.runtime.cpuSeconds();
    const own = process.cpuUsage();
    split['local cloud (pollers, workload)'] = (own.user + own.system) / 1e6;
    return split;
  }

  /** Stops the pollers, the functions and the emulators. */
  public async stop(): Promise<void> {
    await Promise.all(this.pollers.map(({ poller }) => poller.stop()));
    await Promise.all(this.functions.map((fn) => fn.runtime.stop()));
    await this.emulators.stop();
  }
}

/** Faults injected into the pollers' calls so far, by service. */
export const pollerFaults: Record<string, number> = {};

/** Makes a share of the calls of `clients` fail before they are sent, as a flaky network would. */
function injectFaults(
  clients: ReturnType<typeof emulatorClients>,
  rate: number,
  random: () => number,
  counts: Record<string, number>,
): void {
  for (const [service, client] of Object.entries(clients)) {
    (client as { middlewareStack: { add: (m: unknown, o: object) => void } }).middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
        if (random() < rate) {
          counts[service] = (counts[service] ?? 0) + 1;
          const error = new Error(`${service} call failed (injected)`);
          error.name = 'InjectedNetworkError';
          throw error;
        }
        return next(args);
      },
      { step: 'finalizeRequest', name: 'injectFaults' },
    );
  }
}

function functionConfig(
  options: LocalCloudOptions,
  provisioned: ProvisionedStack,
  logicalId: string,
  resource: TemplateResource,
  endpoints: EmulatorEndpoints,
  notice: (message: string) => void,
) {
  const props = resource.Properties ?? {};
  const assetPath = resource.Metadata?.['aws:asset:path'];
  if (typeof assetPath !== 'string') {
    throw new Error(`${logicalId}: no 'aws:asset:path' metadata; synthesize with the CDK CLI (asset metadata on)`);
  }
  const variables = (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    environment[name] = provisioned.resolver.resolveString(value, `${logicalId} environment ${name}`);
  }
  if (props.TracingConfig && (props.TracingConfig as { Mode?: string }).Mode === 'Active') {
    notice(`${logicalId}: X-Ray tracing has no local collector; traces are dropped.`);
  }
  const local = provisioned.resources.get(logicalId) as LocalResource;
  if (
    options.maxFunctionTimeoutSeconds !== undefined &&
    Number(props.Timeout ?? 3) > options.maxFunctionTimeoutSeconds
  ) {
    notice(`Function timeouts are cut to ${options.maxFunctionTimeoutSeconds} s for this run.`);
  }
  return {
    name: local.ref,
    label: String(variables[CONSUMER_ENVIRONMENT.serviceName] ?? logicalId),
    codeDir: path.resolve(options.assemblyDir, assetPath),
    handler: String(props.Handler ?? 'index.handler'),
    timeoutSeconds: Math.min(Number(props.Timeout ?? 3), options.maxFunctionTimeoutSeconds ?? Number.POSITIVE_INFINITY),
    memoryMb: Number(props.MemorySize ?? 128),
    reservedConcurrency:
      props.ReservedConcurrentExecutions === undefined ? undefined : Number(props.ReservedConcurrentExecutions),
    environment: {
      ...environment,
      FUNCTION_ARN: local.attributes.Arn,
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: options.functionDynamoDBEndpoint ?? endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: endpoints.sqs,
      AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis,
      // The function runs on this machine's Node.js, not the runtime's: the SDK's warning about it is noise here.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...options.functionEnvironment?.(String(variables[CONSUMER_ENVIRONMENT.serviceName] ?? logicalId)),
    },
  };
}

function mappingPoller(
  provisioned: ProvisionedStack,
  logicalId: string,
  resource: TemplateResource,
  functions: LocalFunction[],
  clients: ReturnType<typeof emulatorClients>,
  notice: (message: string) => void,
  onError: (error: Error) => void,
): LocalCloud['pollers'][number] | undefined {
  const props = resource.Properties ?? {};
  const { resolver, resources } = provisioned;
  const functionName = resolver.resolveString(props.FunctionName, `${logicalId}.FunctionName`);
  const fn = functions.find(
    (candidate) =>
      candidate.runtime.config.name === functionName || candidate.runtime.config.name.endsWith(functionName),
  );
  if (!fn) throw new Error(`${logicalId}: no local function '${functionName}'`);
  if (props.Enabled === false) return undefined;
  const sourceArn = resolver.resolveString(props.EventSourceArn, `${logicalId}.EventSourceArn`);
  const source = [...resources.entries()].find(([, local]) => Object.values(local.attributes).includes(sourceArn));
  if (!source) throw new Error(`${logicalId}: the event source ${sourceArn} is not a resource of the stack`);
  const [sourceId, local] = source;
  const functionTypes = (props.FunctionResponseTypes as string[] | undefined) ?? [];
  const reportBatchItemFailures = functionTypes.includes('ReportBatchItemFailures');
  const windowSeconds = Number(props.MaximumBatchingWindowInSeconds ?? 0);

  if (local.type === 'AWS::SQS::Queue') {
    const queue = provisioned.stack.resources[sourceId].Properties ?? {};
    const maximumConcurrency = (props.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency;
    const config: SqsMappingConfig = {
      queueUrl: local.attributes.QueueUrl,
      queueArn: local.attributes.Arn,
      fifo: local.attributes.QueueName.endsWith('.fifo'),
      batchSize: Number(props.BatchSize ?? 10),
      maxBatchingWindowSeconds: windowSeconds,
      reportBatchItemFailures,
      visibilityTimeoutSeconds: Number(queue.VisibilityTimeout ?? 30),
      concurrency: Math.min(Number(maximumConcurrency ?? 2), fn.runtime.concurrency, 2),
      filter: FilterCriteria.fromTemplate(props.FilterCriteria, 'sqs'),
    };
    return {
      logicalId,
      functionLabel: fn.runtime.config.label,
      poller: new SqsPoller(clients.sqs, config, fn.runtime, onError),
    };
  }

  // A Kinesis stream, or an enhanced fan-out consumer of one (read here with GetRecords).
  let streamId = sourceId;
  if (local.type === 'AWS::Kinesis::StreamConsumer') {
    const streamArn = resolver.resolveString(
      provisioned.stack.resources[sourceId].Properties?.StreamARN,
      `${sourceId}.StreamARN`,
    );
    streamId =
      [...resources.entries()].find(([, candidate]) => candidate.attributes.Arn === streamArn)?.[0] ?? sourceId;
  }
  const stream = resources.get(streamId) as LocalResource;
  if (stream.type !== 'AWS::Kinesis::Stream') {
    notice(`${logicalId}: event sources of type ${stream.type} are not emulated; the mapping is skipped.`);
    return undefined;
  }
  const onFailure = (props.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure
    ?.Destination;
  const onFailureArn = onFailure ? resolver.resolveString(onFailure, `${logicalId} on-failure destination`) : undefined;
  const onFailureQueue = onFailureArn
    ? [...resources.values()].find((candidate) => candidate.attributes.Arn === onFailureArn)
    : undefined;
  if (onFailureArn && !onFailureQueue) notice(`${logicalId}: only SQS on-failure destinations are emulated.`);
  if (props.TumblingWindowInSeconds && Number(props.ParallelizationFactor ?? 1) > 1) {
    notice(`${logicalId}: tumbling window state is kept per parallelization lane locally, not per shard.`);
  }
  const startingPosition = String(props.StartingPosition ?? 'LATEST');
  if (startingPosition === 'AT_TIMESTAMP') notice(`${logicalId}: AT_TIMESTAMP starts at TRIM_HORIZON locally.`);
  const config: KinesisMappingConfig = {
    streamName: stream.ref,
    streamArn: stream.attributes.Arn,
    startingPosition: startingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON',
    batchSize: Number(props.BatchSize ?? 100),
    maxBatchingWindowSeconds: windowSeconds,
    reportBatchItemFailures,
    bisectBatchOnFunctionError: props.BisectBatchOnFunctionError === true,
    maximumRetryAttempts: Number(props.MaximumRetryAttempts ?? -1),
    maximumRecordAgeSeconds: Number(props.MaximumRecordAgeInSeconds ?? -1),
    parallelizationFactor: Number(props.ParallelizationFactor ?? 1),
    onFailureQueueUrl: onFailureQueue?.attributes.QueueUrl,
    filter: FilterCriteria.fromTemplate(props.FilterCriteria, 'kinesis'),
    tumblingWindowSeconds: Number(props.TumblingWindowInSeconds ?? 0),
    functionArn: fn.runtime.config.environment.FUNCTION_ARN,
  };
  return {
    logicalId,
    functionLabel: fn.runtime.config.label,
    poller: new KinesisPoller(clients.kinesis, clients.sqs, config, fn.runtime, onError),
  };
}

function noticeOnce(notice: (message: string) => void): (message: string) => void {
  const seen = new Set<string>();
  return (message) => {
    if (seen.has(message)) return;
    seen.add(message);
    notice(message);
  };
}
