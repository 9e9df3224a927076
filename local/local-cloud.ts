import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { CONSUMER_ENVIRONMENT, IDEMPOTENCY_TABLE_LAYOUT } from '../contract';
import { type EmulatorEndpoints, emulatorClients, LOCAL_CREDENTIALS } from '../ops/endpoint-clients';
import { type AssemblyStack, constructPath, readAssembly, type TemplateResource } from './assembly';
import { type EdgeEndpoint, startEdgeEndpoint } from './edge-endpoint';
import { assertEmulatorsInstalled, type Emulators, spawnEmulators } from './emulators';
import { FilterCriteria } from './filter-criteria';
import { FunctionError, type FunctionOutput, FunctionRuntime, type LocalFunctionConfig } from './function-runtime';
import { LocalCloudInputError } from './input-error';
import { LOCAL_REGION, type LocalResource, UnresolvableError } from './intrinsics';
import { type KinesisMappingConfig, KinesisPoller } from './kinesis-poller';
import { MetricsCollector } from './metrics-collector';
import { processCpuSeconds } from './process-cpu';
import { createImportedTable, type ProvisionedStack, provisionStack } from './provision';
import { checkSupport, unsupportedError } from './resource-support';
import {
  type FunctionLogLine,
  LocalBucket,
  LocalFunction,
  LocalQueue,
  type LocalResourceIdentity,
  LocalStream,
  LocalTable,
  type ResourceClients,
} from './resources';
import { startS3Emulator } from './s3-emulator';
import { type SqsMappingConfig, SqsPoller } from './sqs-poller';
import { synthesize } from './synth';

/** The SDK clients the event source mappings poll with. */
export interface PollerClients {
  /** The client of the SQS mappings. */
  readonly sqs: ResourceClients['sqs'];
  /** The client of the Kinesis mappings (and of their failure queues' SQS calls, through `sqs`). */
  readonly kinesis: ResourceClients['kinesis'];
  /** The client of the Kinesis mappings' on-failure buckets, for an app with a bucket. */
  readonly s3?: ResourceClients['s3'];
}

/**
 * Changes how the local cloud runs an app, for a test or a chaos run: what a function's execution environments
 * load and see, how a queue is created, what the event source mappings' SDK clients do. Plugins apply in order.
 */
export interface LocalCloudPlugin {
  /**
   * Changes a function's setup before its first execution environment starts: environment variables, timeout,
   * modules to preload (`preload`, which may wrap the handler). Returns the setup to run it with.
   */
  readonly configureFunction?: (setup: LocalFunctionConfig) => LocalFunctionConfig;
  /** Changes a queue's attributes before it is created (a shorter `VisibilityTimeout`). Returns the attributes. */
  readonly configureQueue?: (queue: {
    readonly logicalId: string;
    readonly attributes: Readonly<Record<string, string>>;
  }) => Record<string, string>;
  /** Sees the mappings' SDK clients before they poll: add middleware to them (injected network faults). */
  readonly configurePollerClients?: (clients: PollerClients) => void;
}

/** How the local cloud runs. */
export interface LocalCloudOptions {
  /**
   * A cloud assembly `cdk synth` wrote (its `cdk.out` folder).
   *
   * @default - synthesizes the app in `appDir`
   */
  readonly assemblyDir?: string;
  /**
   * The folder of a CDK app (with its `cdk.json`): the local cloud synthesizes it with the `app` command of its
   * `cdk.json` into a temporary folder, removed on stop. Ignored when `assemblyDir` is given.
   *
   * @default - the current folder
   */
  readonly appDir?: string;
  /**
   * Keep DynamoDB and Kinesis state in this folder between runs.
   *
   * @default - everything in memory
   */
  readonly dataDir?: string;
  /**
   * Emulators started ahead; the local cloud stops them with itself.
   *
   * @default - started by the local cloud
   * @internal
   */
  readonly emulators?: Promise<Emulators>;
  /**
   * Execution environments per function when the template reserves no concurrency.
   *
   * @default 4
   */
  readonly defaultConcurrency?: number;
  /**
   * Start without what the local cloud cannot run (an SNS topic, a Python function, a DynamoDB stream mapping),
   * with a notice for each, instead of failing.
   *
   * @default false
   */
  readonly allowUnsupported?: boolean;
  /**
   * Serve SQS, Kinesis and DynamoDB on this port of 127.0.0.1 too, routed by each request's protocol (0 picks a
   * free port): `AWS_ENDPOINT_URL` for any SDK client or the AWS CLI.
   *
   * @default - no single endpoint
   */
  readonly edgePort?: number;
  /**
   * With `edgePort`: the functions, the mappings and provisioning call the emulators through the single endpoint,
   * as clients outside do, instead of each emulator's own port.
   *
   * @default false
   */
  readonly routeThroughEdge?: boolean;
  /**
   * Changes to how functions, queues and mappings run (fault injection, shorter timeouts).
   *
   * @default - none
   */
  readonly plugins?: readonly LocalCloudPlugin[];
  /** Told once about every setting that cannot be honoured locally. @default - ignored */
  readonly onNotice?: (message: string) => void;
  /** Every line the functions print. @default - kept for {@link LocalFunction.logs} only */
  readonly onOutput?: (output: FunctionOutput) => void;
  /** Errors of pollers (the emulators refused a call): they retry on their own. @default - ignored */
  readonly onPollerError?: (error: Error) => void;
}

/** An event source mapping of the local cloud and the poller that runs it. */
export interface LocalMapping {
  /** The mapping's logical ID. */
  readonly logicalId: string;
  /** The label of the function it invokes. */
  readonly functionLabel: string;
  /** The logical ID of its source queue or stream. */
  readonly sourceLogicalId: string;
  /** The poller that runs it. */
  readonly poller: SqsPoller | KinesisPoller;
}

/** Options of {@link LocalCloud.waitForRest}. */
export interface WaitForRestOptions {
  /**
   * Fail when the pipeline is still busy after this many seconds.
   *
   * @default 60
   */
  readonly timeoutSeconds?: number;
}

/** Thrown when the pipeline did not come to rest in time; the message says what was still busy. */
export class LocalCloudNotAtRestError extends Error {
  constructor(
    seconds: number,
    /** What was still busy, one entry per queue, mapping or function. */
    public readonly busy: readonly string[],
  ) {
    super(`the local cloud did not come to rest within ${seconds} s: ${busy.join('; ')}`);
    this.name = 'LocalCloudNotAtRestError';
  }
}

/** The most pollers an SQS mapping runs locally, whatever it may scale to on AWS: two cores serve them all. */
const LOCAL_SQS_POLLERS = 2;

/** Lines kept per function for {@link LocalFunction.logs}. */
const LOG_LINES_KEPT = 10_000;

/**
 * The synthesized app, running locally: the emulators (in processes of their own), every queue, stream and table of
 * every stack, every function in its own execution environments, and every event source mapping polled with AWS's
 * semantics. Find a resource by construct path or logical ID; send to queues, put to streams, wait until the
 * pipeline is at rest, read dead-letter queues, scan tables, read a function's logs and metrics; stop.
 */
export class LocalCloud {
  private constructor(
    /** Each emulator's own endpoint. */
    public readonly endpoints: EmulatorEndpoints,
    /** The single endpoint, when `edgePort` was given. */
    public readonly edge: EdgeEndpoint | undefined,
    /** Every stack, with its resources' local identities. @internal */
    public readonly stacks: readonly ProvisionedStack[],
    /** Every function that runs. */
    public readonly functions: readonly LocalFunction[],
    /** Every event source mapping that runs. @internal */
    public readonly pollers: readonly LocalMapping[],
    private readonly clients: ResourceClients,
    private readonly emulators: Emulators,
    private readonly temporaryAssemblyDir: string | undefined,
  ) {}

  /** Starts everything; resolves when every function has a warm environment and every mapping polls. */
  public static async start(options: LocalCloudOptions = {}): Promise<LocalCloud> {
    const notice = noticeOnce(options.onNotice ?? (() => {}));
    let assemblyDir = options.assemblyDir;
    let temporaryAssemblyDir: string | undefined;
    let emulatorsStarting = options.emulators;
    if (assemblyDir === undefined) {
      const appDir = path.resolve(options.appDir ?? process.cwd());
      if (!existsSync(path.join(appDir, 'cdk.json')))
        throw new LocalCloudInputError(
          `no cdk.json in ${appDir}: start in a CDK app's folder, or give a cloud assembly`,
        );
      // The emulators start while the app synthesizes: they do not depend on it.
      // Before a synth of many seconds: missing emulators are the user's to install, said at once.
      if (!options.emulators) assertEmulatorsInstalled();
      emulatorsStarting ??= spawnEmulators({ dataDir: options.dataDir });
      emulatorsStarting.catch(() => undefined); // awaited below; a failure must not surface as unhandled meanwhile
      temporaryAssemblyDir = mkdtempSync(path.join(tmpdir(), 'eda-kit-assembly-'));
      assemblyDir = temporaryAssemblyDir;
      try {
        // Reusing an earlier assembly is said on stderr: it is not a notice of something unlike AWS.
        await synthesize(appDir, assemblyDir);
      } catch (error) {
        await stopQuietly(emulatorsStarting);
        rmSync(temporaryAssemblyDir, { recursive: true, force: true });
        throw error;
      }
    }
    const cleanUp = async (emulators?: Promise<Emulators>) => {
      if (emulators) await stopQuietly(emulators);
      if (temporaryAssemblyDir) rmSync(temporaryAssemblyDir, { recursive: true, force: true });
    };

    let assembly: AssemblyStack[];
    let support: ReturnType<typeof checkSupport>;
    try {
      assembly = readAssembly(assemblyDir);
      support = checkSupport(assembly);
      for (const message of support.notices) notice(message);
      if (support.unsupported.length > 0) {
        if (!options.allowUnsupported) throw unsupportedError(support.unsupported);
        for (const thing of support.unsupported) notice(`${thing.path} (${thing.type}) is left out: ${thing.why}.`);
      }
    } catch (error) {
      await cleanUp(emulatorsStarting);
      throw error;
    }
    const skipped = new Set(support.unsupported.map((thing) => `${thing.stackName}/${thing.logicalId}`));

    const needsS3 = assembly.some((stack) =>
      Object.entries(stack.resources).some(
        ([logicalId, resource]) =>
          resource.Type === 'AWS::S3::Bucket' && !skipped.has(`${stack.stackName}/${logicalId}`),
      ),
    );
    let emulators: Emulators;
    try {
      const [started, s3] = await Promise.allSettled([
        emulatorsStarting ?? spawnEmulators({ dataDir: options.dataDir }),
        needsS3 ? startS3Emulator(options.dataDir) : undefined,
      ]);
      if (started.status === 'rejected' || s3.status === 'rejected') {
        if (started.status === 'fulfilled') await started.value.stop().catch(() => undefined);
        if (s3.status === 'fulfilled') await s3.value?.stop().catch(() => undefined);
        throw started.status === 'rejected' ? started.reason : (s3 as PromiseRejectedResult).reason;
      }
      const bucketEmulator = s3.value;
      emulators = bucketEmulator
        ? {
            endpoints: { ...started.value.endpoints, s3: bucketEmulator.endpoint },
            pids: started.value.pids,
            stop: async () => void (await Promise.all([started.value.stop(), bucketEmulator.stop()])),
          }
        : started.value;
    } catch (error) {
      await cleanUp();
      throw error;
    }
    const plugins = options.plugins ?? [];
    const functions: LocalFunction[] = [];
    const pollers: LocalMapping[] = [];
    let edge: EdgeEndpoint | undefined;
    try {
      if (options.edgePort !== undefined) {
        edge = await startEdgeEndpoint(emulators.endpoints, {
          port: options.edgePort,
          // Lambda's Invoke on the same endpoint, by function name (the functions start below).
          invoke: async (name, event) => {
            const fn = functions.find((candidate) => candidate.name === name);
            if (!fn) return undefined;
            try {
              return { result: await fn.invoke(event) };
            } catch (error) {
              // As Lambda reports it: the handler's error type and message.
              if (error instanceof FunctionError)
                throw Object.assign(new Error(error.errorMessage), { name: error.errorType });
              throw error;
            }
          },
        });
      }
      const served: EmulatorEndpoints =
        edge && options.routeThroughEdge
          ? {
              dynamodb: edge.url,
              sqs: edge.url,
              kinesis: edge.url,
              ...(emulators.endpoints.s3 && { s3: edge.url }),
            }
          : emulators.endpoints;
      const clients = emulatorClients(served);
      const configureQueue = (queue: { logicalId: string; attributes: Readonly<Record<string, string>> }) =>
        plugins.reduce<Record<string, string>>(
          (attributes, plugin) => plugin.configureQueue?.({ logicalId: queue.logicalId, attributes }) ?? attributes,
          { ...queue.attributes },
        );
      const stacks: ProvisionedStack[] = [];
      for (const stack of assembly) stacks.push(await provisionStack(stack, clients, notice, configureQueue));

      await createImportedIdempotencyTables(assembly, stacks, clients, notice);

      const collector = new MetricsCollector();
      const logLines = new Map<string, FunctionLogLine[]>();
      const onOutput = (output: FunctionOutput) => {
        collector.collect(output, output.functionName);
        if (!output.json?._aws) {
          const lines = logLines.get(output.functionName);
          lines?.push({ line: output.line, json: output.json });
          if (lines && lines.length > LOG_LINES_KEPT) lines.splice(0, lines.length - LOG_LINES_KEPT);
        }
        options.onOutput?.(output);
      };
      for (const provisioned of stacks) {
        for (const [logicalId, resource] of Object.entries(provisioned.stack.resources)) {
          if (resource.Type !== 'AWS::Lambda::Function') continue;
          if (skipped.has(`${provisioned.stack.stackName}/${logicalId}`)) continue;
          const config = plugins.reduce<LocalFunctionConfig>(
            (setup, plugin) => plugin.configureFunction?.(setup) ?? setup,
            functionConfig(provisioned, logicalId, resource, served, notice),
          );
          const runtime = new FunctionRuntime(config, onOutput, options.defaultConcurrency ?? 4);
          const lines: FunctionLogLine[] = [];
          logLines.set(config.name, lines);
          functions.push(new LocalFunction(identityOf(provisioned, logicalId), runtime, lines, collector));
        }
      }
      await Promise.all(functions.map((fn) => fn.runtime.warm()));

      const onPollerError = options.onPollerError ?? (() => {});
      const fresh = emulatorClients(served);
      const pollerClients: PollerClients = {
        sqs: fresh.sqs,
        kinesis: fresh.kinesis,
        s3: served.s3 ? fresh.s3 : undefined,
      };
      for (const plugin of plugins) plugin.configurePollerClients?.(pollerClients);
      for (const provisioned of stacks) {
        for (const [logicalId, resource] of Object.entries(provisioned.stack.resources)) {
          if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
          if (skipped.has(`${provisioned.stack.stackName}/${logicalId}`)) continue;
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
      return new LocalCloud(
        emulators.endpoints,
        edge,
        stacks,
        functions,
        pollers,
        clients,
        emulators,
        temporaryAssemblyDir,
      );
    } catch (error) {
      await stopAll(pollers, functions, edge, emulators);
      await cleanUp();
      throw error;
    }
  }

  /** The bucket at construct path `ref` (`Events/audit/FailureBucket`, with or without the stack's name) or with logical ID `ref`. */
  public bucket(ref: string): LocalBucket {
    const { provisioned, logicalId, local } = this.find('AWS::S3::Bucket', 'bucket', ref);
    return new LocalBucket(identityOf(provisioned, logicalId), local.ref, this.clients.s3 as S3Client);
  }

  /** The queue at construct path `ref` (`Orders/Queue`, with or without the stack's name) or with logical ID `ref`. */
  public queue(ref: string): LocalQueue {
    const { provisioned, logicalId, local } = this.find('AWS::SQS::Queue', 'queue', ref);
    const deadLetterArns = new Set(
      this.stacks
        .flatMap((stack) => [...stack.queueAttributes.values()])
        .flatMap((attributes) => {
          const redrive = attributes.RedrivePolicy;
          return redrive ? [(JSON.parse(redrive) as { deadLetterTargetArn: string }).deadLetterTargetArn] : [];
        }),
    );
    const failureQueueUrls = new Set(
      this.pollers.flatMap(({ poller }) =>
        poller instanceof KinesisPoller && poller.config.onFailureQueueUrl ? [poller.config.onFailureQueueUrl] : [],
      ),
    );
    const kitDeadLetterUrls = new Set(
      this.functions.flatMap((fn) => fn.environment[CONSUMER_ENVIRONMENT.deadLetterQueueUrl] ?? []),
    );
    const url = local.attributes.QueueUrl;
    return new LocalQueue(
      identityOf(provisioned, logicalId),
      url,
      local.attributes.Arn,
      deadLetterArns.has(local.attributes.Arn) || failureQueueUrls.has(url) || kitDeadLetterUrls.has(url),
      this.clients.sqs,
    );
  }

  /** The Kinesis stream at construct path `ref` or with logical ID `ref`. */
  public stream(ref: string): LocalStream {
    const { provisioned, logicalId, local } = this.find('AWS::Kinesis::Stream', 'stream', ref);
    return new LocalStream(identityOf(provisioned, logicalId), local.ref, local.attributes.Arn, this.clients.kinesis);
  }

  /** The DynamoDB table at construct path `ref` or with logical ID `ref`. */
  public table(ref: string): LocalTable {
    const { provisioned, logicalId, local } = this.find('AWS::DynamoDB::Table', 'table', ref);
    return new LocalTable(identityOf(provisioned, logicalId), local.ref, local.attributes.Arn, this.clients.dynamodb);
  }

  /** The function with service name (`POWERTOOLS_SERVICE_NAME`) `ref`, at construct path `ref`, or with logical ID `ref`. */
  public function(ref: string): LocalFunction {
    const byLabel = this.functions.filter((fn) => fn.label === ref);
    if (byLabel.length === 1) return byLabel[0];
    const { provisioned, logicalId } = this.find('AWS::Lambda::Function', 'function', ref);
    const found = this.functions.find(
      (fn) => fn.stackName === provisioned.stack.stackName && fn.logicalId === logicalId,
    );
    if (!found) throw new LocalCloudInputError(`the function ${ref} does not run locally (left out as unsupported)`);
    return found;
  }

  /**
   * Every stack's outputs, resolved to the local resources' names, URLs and ARNs, in the shape `cdk deploy
   * --outputs-file` writes: `{ [stackName]: { [outputKey]: value } }`. An output that cannot be resolved locally is
   * left out.
   */
  public outputs(): Record<string, Record<string, string>> {
    return Object.fromEntries(
      this.stacks.map((provisioned) => [
        provisioned.stack.stackName,
        Object.fromEntries(
          Object.entries(provisioned.stack.outputs).flatMap(([key, output]) => {
            try {
              return [[key, provisioned.resolver.resolveString(output.Value, `output ${key}`)]];
            } catch (error) {
              if (error instanceof UnresolvableError) return [];
              throw error;
            }
          }),
        ),
      ]),
    );
  }

  /** The local identity of a template resource: its `Ref` and attributes (URL, ARN, name). @internal */
  public resource(logicalId: string, stackName?: string): LocalResource {
    for (const stack of this.stacks) {
      if (stackName && stack.stack.stackName !== stackName) continue;
      const found = stack.resources.get(logicalId);
      if (found) return found;
    }
    throw new LocalCloudInputError(`no local resource ${logicalId}`);
  }

  /** The logical IDs of a stack's resources of `type`. @internal */
  public logicalIdsOf(type: string): string[] {
    return this.stacks.flatMap((stack) =>
      Object.entries(stack.stack.resources)
        .filter(([, resource]) => resource.Type === type)
        .map(([logicalId]) => logicalId),
    );
  }

  /** Every template resource's local identity, by stack and logical ID. @internal */
  public resourceMap(): Record<string, Record<string, LocalResource>> {
    return Object.fromEntries(this.stacks.map((stack) => [stack.stack.stackName, Object.fromEntries(stack.resources)]));
  }

  /**
   * Resolves once the pipeline is at rest: the queues that mappings poll hold no message (visible, in flight or
   * delayed), no other queue has a message in flight, every stream mapping has read its shards to the end and is done
   * with every batch, and no function is running; all of it seen twice, with nothing invoked in between. Rejects
   * with {@link LocalCloudNotAtRestError}, naming what is still busy, after `timeoutSeconds`.
   */
  public async waitForRest(options: WaitForRestOptions = {}): Promise<void> {
    const timeoutSeconds = options.timeoutSeconds ?? 60;
    const deadline = Date.now() + timeoutSeconds * 1000;
    let atRestSince: { readonly at: number; readonly invocations: number } | undefined;
    for (;;) {
      const at = Date.now();
      const invocations = this.functions.reduce((sum, fn) => sum + fn.runtime.stats.invocations, 0);
      const busy = await this.busyParts();
      if (busy.length > 0 || atRestSince?.invocations !== invocations) {
        // Busy, or something was invoked since the last look: rest, if it comes, is counted from now.
        atRestSince = busy.length > 0 ? undefined : { at, invocations };
      } else {
        // Quiet twice with nothing invoked between: at rest once every stream has been read past that moment (a
        // record put before it is then read and done with). Until then the mark is kept: readers poll on their own.
        const unread = this.streamMappingsNotReadSince(atRestSince.at);
        if (unread.length === 0) return;
        busy.push(...unread.map((logicalId) => `mapping ${logicalId}: its shards not yet read again`));
      }
      if (Date.now() > deadline) throw new LocalCloudNotAtRestError(timeoutSeconds, busy);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The Kinesis mappings that have not read every shard to its end with a call sent at or after `sinceMs`. */
  private streamMappingsNotReadSince(sinceMs: number): string[] {
    return this.pollers
      .filter(({ poller }) => poller instanceof KinesisPoller && !poller.caughtUpSince(sinceMs))
      .map(({ logicalId }) => logicalId);
  }

  /** What keeps the pipeline from rest: running functions, unhandled stream records, queued or in-flight messages. */
  private async busyParts(): Promise<string[]> {
    const busy: string[] = [];
    for (const fn of this.functions) {
      if (fn.runtime.inFlight > 0) busy.push(`function ${fn.label}: ${fn.runtime.inFlight} invocation(s) running`);
    }
    const sourceQueues = new Set<string>();
    for (const mapping of this.pollers) {
      if (mapping.poller instanceof KinesisPoller) {
        if (!mapping.poller.idle) busy.push(`mapping ${mapping.logicalId}: stream records not yet read or handled`);
      } else sourceQueues.add(mapping.poller.config.queueUrl);
    }
    // Every queue at once: this runs every 100 ms while a test waits.
    const queues = this.stacks.flatMap((stack) =>
      [...stack.resources]
        .filter(([, local]) => local.type === 'AWS::SQS::Queue')
        .map(([logicalId, local]) => ({ stack, logicalId, url: local.attributes.QueueUrl })),
    );
    const counts = await Promise.all(
      queues.map(({ url }) =>
        this.clients.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: [
              'ApproximateNumberOfMessages',
              'ApproximateNumberOfMessagesNotVisible',
              'ApproximateNumberOfMessagesDelayed',
            ],
          }),
        ),
      ),
    );
    for (const [index, { stack, logicalId, url }] of queues.entries()) {
      const attributes = counts[index].Attributes ?? {};
      const inFlight = Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
      const waiting =
        Number(attributes.ApproximateNumberOfMessages ?? 0) +
        Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0);
      if (inFlight > 0 || (sourceQueues.has(url) && waiting > 0)) {
        busy.push(
          `queue ${constructPath(logicalId, stack.stack.resources[logicalId])}: ${waiting} waiting, ${inFlight} in flight`,
        );
      }
    }
    return busy;
  }

  /**
   * CPU seconds used so far by each part of the local cloud: each emulator, each function's environments, and this
   * process (pollers, workload and IPC). Where the time goes.
   *
   * @internal
   */
  public cpuSeconds(): Record<string, number> {
    const split: Record<string, number> = {};
    for (const [service, pid] of Object.entries(this.emulators.pids ?? {})) {
      split[`emulator:${service}`] = processCpuSeconds(pid) ?? 0;
    }
    for (const fn of this.functions) split[`function:${fn.label}`] = fn.runtime.cpuSeconds();
    const own = process.cpuUsage();
    split['local cloud (pollers, workload)'] = (own.user + own.system) / 1e6;
    return split;
  }

  /** Stops the pollers, the functions, the single endpoint and the emulators, and removes a synthesized assembly. */
  public async stop(): Promise<void> {
    try {
      await stopAll(this.pollers, this.functions, this.edge, this.emulators);
    } finally {
      if (this.temporaryAssemblyDir) rmSync(this.temporaryAssemblyDir, { recursive: true, force: true });
    }
  }

  private find(
    type: string,
    kind: string,
    ref: string,
  ): { provisioned: ProvisionedStack; logicalId: string; local: LocalResource } {
    const wanted = ref.replace(/\/Resource$/, '');
    const candidates = this.stacks.flatMap((provisioned) =>
      [...provisioned.resources.entries()]
        .filter(([, local]) => local.type === type)
        .map(([logicalId, local]) => ({ provisioned, logicalId, local, identity: identityOf(provisioned, logicalId) })),
    );
    const exact = candidates.filter(
      ({ identity }) =>
        identity.logicalId === wanted ||
        identity.path === wanted ||
        `${identity.stackName}/${identity.path}` === wanted,
    );
    // Else the end of a path (`Emails/Table` for `Notifications/Emails/Table`), when only one path ends so.
    const matches =
      exact.length > 0 ? exact : candidates.filter(({ identity }) => identity.path.endsWith(`/${wanted}`));
    if (matches.length === 1) return matches[0];
    const listed = (found: typeof candidates) =>
      found.map(({ identity }) => `${identity.stackName}/${identity.path}`).join(', ');
    if (matches.length > 1)
      throw new LocalCloudInputError(
        `more than one ${kind} matches '${ref}': ${listed(matches)}; give more of the path`,
      );
    throw new LocalCloudInputError(`no ${kind} '${ref}' in the app; its ${kind}s: ${listed(candidates) || 'none'}`);
  }
}

function identityOf(provisioned: ProvisionedStack, logicalId: string): LocalResourceIdentity {
  const stackName = provisioned.stack.stackName;
  const resource = provisioned.stack.resources[logicalId];
  const fullPath = resource ? constructPath(logicalId, resource) : logicalId;
  return {
    stackName,
    logicalId,
    path: fullPath.startsWith(`${stackName}/`) ? fullPath.slice(stackName.length + 1) : fullPath,
  };
}

/**
 * The kit's consumers may keep their idempotency records in a table the app imports (`IdempotencyTable.fromTableName`)
 * rather than defines: it exists in the account, not in the template. Locally it is created with the kit's layout.
 */
async function createImportedIdempotencyTables(
  assembly: readonly AssemblyStack[],
  stacks: readonly ProvisionedStack[],
  clients: ResourceClients,
  notice: (message: string) => void,
): Promise<void> {
  const defined = new Set(
    stacks
      .flatMap((stack) => [...stack.resources.values()].filter((local) => local.type === 'AWS::DynamoDB::Table'))
      .map((local) => local.ref),
  );
  const imported = new Set<string>();
  for (const [index, stack] of assembly.entries()) {
    for (const resource of Object.values(stack.resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      const value = variables?.[CONSUMER_ENVIRONMENT.idempotencyTableName];
      if (value === undefined) continue;
      const tableName = stacks[index].resolver.resolveString(value, CONSUMER_ENVIRONMENT.idempotencyTableName);
      if (!defined.has(tableName)) imported.add(tableName);
    }
  }
  for (const tableName of imported) {
    await createImportedTable(clients.dynamodb, tableName, IDEMPOTENCY_TABLE_LAYOUT.partitionKey);
    notice(`The idempotency table ${tableName} is imported, not defined by the app: it is created locally.`);
  }
}

/**
 * Stops every part, each whatever became of the others: the pollers are told to stop first (no new batch starts),
 * then the execution environments are killed (an invocation in progress ends at once, not at its timeout), then
 * the pollers are waited for, then the endpoint and the emulators. Rejects with the first failure, after all.
 */
async function stopAll(
  pollers: readonly LocalMapping[],
  functions: readonly LocalFunction[],
  edge: EdgeEndpoint | undefined,
  emulators: Emulators,
): Promise<void> {
  const pollersStopped = pollers.map(({ poller }) => poller.stop());
  const outcomes = [
    ...(await Promise.allSettled(functions.map((fn) => fn.runtime.stop()))),
    ...(await Promise.allSettled(pollersStopped)),
    ...(await Promise.allSettled([edge?.close(), emulators.stop()])),
  ];
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

async function stopQuietly(emulators: Promise<Emulators>): Promise<void> {
  try {
    await (await emulators).stop();
  } catch {
    // They never started: nothing to stop.
  }
}

function functionConfig(
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
  return {
    name: local.ref,
    label: String(variables[CONSUMER_ENVIRONMENT.serviceName] ?? logicalId),
    codeDir: path.resolve(provisioned.stack.directory, assetPath),
    handler: String(props.Handler ?? 'index.handler'),
    timeoutSeconds: Number(props.Timeout ?? 3),
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
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: endpoints.sqs,
      AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis,
      // The function runs on this machine's Node.js, not the runtime's: the SDK's warning about it is noise here.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  };
}

function mappingPoller(
  provisioned: ProvisionedStack,
  logicalId: string,
  resource: TemplateResource,
  functions: readonly LocalFunction[],
  clients: PollerClients,
  notice: (message: string) => void,
  onError: (error: Error) => void,
): LocalMapping | undefined {
  const props = resource.Properties ?? {};
  const { resolver, resources } = provisioned;
  const functionName = resolver.resolveString(props.FunctionName, `${logicalId}.FunctionName`);
  const fn = functions.find(
    (candidate) =>
      candidate.runtime.config.name === functionName || candidate.runtime.config.name.endsWith(functionName),
  );
  if (!fn) {
    notice(`${logicalId}: its function does not run locally; the mapping is skipped.`);
    return undefined;
  }
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
    // Provisioned mode: its maximum caps the pollers as MaximumConcurrency does on demand.
    const provisionedMode = props.ProvisionedPollerConfig as
      | { MinimumPollers?: number; MaximumPollers?: number }
      | undefined;
    const pollerLimit = provisionedMode
      ? Number(provisionedMode.MaximumPollers ?? 200)
      : Number(maximumConcurrency ?? 2);
    const config: SqsMappingConfig = {
      queueUrl: local.attributes.QueueUrl,
      queueArn: local.attributes.Arn,
      fifo: local.attributes.QueueName.endsWith('.fifo'),
      batchSize: Number(props.BatchSize ?? 10),
      maxBatchingWindowSeconds: windowSeconds,
      reportBatchItemFailures,
      visibilityTimeoutSeconds: Number(
        provisioned.queueAttributes.get(sourceId)?.VisibilityTimeout ?? queue.VisibilityTimeout ?? 30,
      ),
      concurrency: Math.min(pollerLimit, fn.runtime.concurrency, LOCAL_SQS_POLLERS),
      filter: FilterCriteria.fromTemplate(props.FilterCriteria, 'sqs'),
    };
    if (provisionedMode) {
      notice(
        `${logicalId}: provisioned mode (${provisionedMode.MinimumPollers ?? 2} to ${provisionedMode.MaximumPollers ?? 200} ` +
          `pollers) runs ${config.concurrency} poller(s) locally.`,
      );
    }
    return {
      logicalId,
      functionLabel: fn.runtime.config.label,
      sourceLogicalId: sourceId,
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
  const onFailureTarget = onFailureArn
    ? [...resources.values()].find((candidate) => candidate.attributes.Arn === onFailureArn)
    : undefined;
  const onFailureQueue = onFailureTarget?.type === 'AWS::SQS::Queue' ? onFailureTarget : undefined;
  const onFailureBucket = onFailureTarget?.type === 'AWS::S3::Bucket' ? onFailureTarget : undefined;
  if (onFailureArn && !onFailureQueue && !onFailureBucket)
    notice(`${logicalId}: only SQS and S3 on-failure destinations of the app are emulated.`);
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
    onFailureBucket: onFailureBucket && {
      bucketName: onFailureBucket.ref,
      mappingId: (resources.get(logicalId) as LocalResource).ref,
    },
    filter: FilterCriteria.fromTemplate(props.FilterCriteria, 'kinesis'),
    tumblingWindowSeconds: Number(props.TumblingWindowInSeconds ?? 0),
    functionArn: fn.runtime.config.environment.FUNCTION_ARN,
  };
  return {
    logicalId,
    functionLabel: fn.runtime.config.label,
    sourceLogicalId: streamId,
    poller: new KinesisPoller(
      clients.kinesis,
      clients.sqs,
      config,
      fn.runtime,
      onError,
      onFailureBucket ? clients.s3 : undefined,
    ),
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
