import { type ChildProcess, fork } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { compiledScript } from './compiled';
import { processCpuSeconds } from './process-cpu';

/** What a function needs to run locally. */
export interface LocalFunctionConfig {
  /** The local function name. */
  readonly name: string;
  /** A short name for reports: the service name, else the logical ID. */
  readonly label: string;
  /** The folder of the bundled asset in the cloud assembly. */
  readonly codeDir: string;
  /** `file.export`, as in the template. */
  readonly handler: string;
  /** The template's timeout, in seconds. */
  readonly timeoutSeconds: number;
  /** The template's memory size, in MB: the environment's heap is capped near it. */
  readonly memoryMb: number;
  /** Reserved concurrency, when the template sets one. */
  readonly reservedConcurrency?: number;
  /** Resolved environment variables of the template, plus what the local cloud adds. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Modules (absolute paths of plain JavaScript) each execution environment loads before the function's code. One
   * that exports `wrapHandler(handler)` wraps the handler: how a plugin injects faults.
   *
   * @default - none
   */
  readonly preload?: readonly string[];
}

let sdkModulePath: string | undefined;

/**
 * A folder for NODE_PATH that holds the AWS SDK for JavaScript v3 and nothing else (`@aws-sdk` and `@smithy`,
 * linked to the kit's own copies), as the Lambda runtime provides it: a bundle that leaves the SDK out loads wherever
 * the cloud assembly was written, and one that leaves out anything else fails here as it would on Lambda.
 */
function runtimeModulePath(): string {
  if (sdkModulePath) return sdkModulePath;
  const nodeModules = path.resolve(path.dirname(require.resolve('@aws-sdk/client-dynamodb/package.json')), '..', '..');
  const digest = createHash('sha256').update(nodeModules).digest('hex').slice(0, 12);
  const dir = path.join(tmpdir(), `eda-kit-lambda-sdk-${digest}`);
  mkdirSync(dir, { recursive: true });
  for (const scope of ['@aws-sdk', '@smithy']) {
    try {
      symlinkSync(path.join(nodeModules, scope), path.join(dir, scope), 'dir');
    } catch (error) {
      // Linked already, by this run or an earlier one of the same installation.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  sdkModulePath = dir;
  return dir;
}

/** A line the function printed, parsed when it is JSON. */
export interface FunctionOutput {
  /** The local name of the function that printed it. */
  readonly functionName: string;
  /** The line as printed. */
  readonly line: string;
  /** The line parsed, when it is a JSON object (a structured log, an EMF metric). */
  readonly json?: Record<string, unknown>;
}

/** Thrown when an invocation ran past the function's timeout; the worker was killed. */
export class FunctionTimeoutError extends Error {
  constructor(functionName: string, seconds: number) {
    super(`Task timed out after ${seconds} seconds (${functionName}); its execution environment was killed`);
    this.name = 'FunctionTimeoutError';
  }
}

/** Thrown when the function's handler threw or its process died. */
export class FunctionError extends Error {
  /** The name of the handler's error (`TypeError`, `Runtime.ExitError`...): Lambda's `errorType`. */
  public readonly errorType: string;
  /** The handler's error message: Lambda's `errorMessage`. */
  public readonly errorMessage: string;

  constructor(functionName: string, cause: { name: string; message: string }) {
    super(`${functionName} failed: ${cause.name}: ${cause.message}`);
    this.name = 'FunctionError';
    this.errorType = cause.name;
    this.errorMessage = cause.message;
  }
}

interface Worker {
  readonly process: ChildProcess;
  readonly ready: Promise<void>;
  busy: boolean;
}

/**
 * Runs a function like Lambda: each execution environment is its own process, which handles one invocation at a
 * time; environments are started on demand up to the reserved concurrency (or `defaultConcurrency`), reused while
 * warm, and killed when an invocation outlives the timeout. Everything they print is passed to `onOutput`.
 */
export class FunctionRuntime {
  private readonly workers: Worker[] = [];
  private readonly waiting: (() => void)[] = [];
  private nextInvocation = 0;
  private stopped = false;
  /** CPU seconds of the environments killed so far, each read just before it was. */
  private killedCpuSeconds = 0;
  /** Invocations started, and how many timed out. */
  public readonly stats = { invocations: 0, timeouts: 0, errors: 0, coldStarts: 0 };
  /** Told about every invocation once it ends: its event, when it started and how long it ran (the dashboard's). */
  public onInvoked?: (invocation: { event: unknown; startedAt: number; durationMs: number }) => void;

  constructor(
    public readonly config: LocalFunctionConfig,
    private readonly onOutput: (output: FunctionOutput) => void,
    private readonly defaultConcurrency = 4,
  ) {}

  /** The most environments this function may run at once. */
  public get concurrency(): number {
    return this.config.reservedConcurrency ?? this.defaultConcurrency;
  }

  /** Invocations running now. */
  public get inFlight(): number {
    return this.workers.filter((worker) => worker.busy).length;
  }

  /** Starts one environment ahead of the first invocation (a provisioned warm start). */
  public async warm(): Promise<void> {
    if (this.workers.length === 0 && this.concurrency > 0) await this.startWorker().ready;
  }

  /** Invokes the function synchronously with `event`; rejects with a FunctionError or FunctionTimeoutError. */
  public async invoke(event: unknown): Promise<unknown> {
    if (this.concurrency === 0)
      throw new FunctionError(this.config.name, {
        name: 'TooManyRequestsException',
        message: 'reserved concurrency is 0',
      });
    const worker = await this.acquire();
    this.stats.invocations++;
    const startedAt = Date.now();
    const id = this.nextInvocation++;
    const timeoutMs = this.config.timeoutSeconds * 1000;
    try {
      return await new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          this.stats.timeouts++;
          cleanup();
          this.kill(worker);
          reject(new FunctionTimeoutError(this.config.name, this.config.timeoutSeconds));
        }, timeoutMs);
        const onMessage = (message: { id?: number; result?: unknown; error?: { name: string; message: string } }) => {
          if (message.id !== id) return;
          cleanup();
          if (message.error) {
            this.stats.errors++;
            reject(new FunctionError(this.config.name, message.error));
          } else resolve(message.result);
        };
        const onExit = (code: number | null, signal: string | null) => {
          cleanup();
          this.stats.errors++;
          this.kill(worker);
          reject(
            new FunctionError(this.config.name, {
              name: 'Runtime.ExitError',
              message: `exited with ${signal ?? code}`,
            }),
          );
        };
        const cleanup = () => {
          clearTimeout(timer);
          worker.process.off('message', onMessage);
          worker.process.off('exit', onExit);
        };
        worker.process.on('message', onMessage);
        worker.process.on('exit', onExit);
        if (!worker.process.connected) {
          onExit(worker.process.exitCode, worker.process.signalCode);
          return;
        }
        worker.process.send({ id, event, deadlineMs: Date.now() + timeoutMs, requestId: randomUUID() }, (error) => {
          // The environment died between invocations: the invocation fails like any crash.
          if (error) onExit(worker.process.exitCode, worker.process.signalCode);
        });
      });
    } finally {
      this.release(worker);
      this.onInvoked?.({ event, startedAt, durationMs: Date.now() - startedAt });
    }
  }

  /**
   * CPU seconds the environments have used: the live ones, and those this runtime killed (past their timeout, or
   * failed to start), as they stood just before. One that died on its own is no longer counted.
   */
  public cpuSeconds(): number {
    return this.workers.reduce(
      (sum, worker) => sum + (processCpuSeconds(worker.process.pid) ?? 0),
      this.killedCpuSeconds,
    );
  }

  /** Kills every environment. */
  public async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(
      [...this.workers].map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.process.exitCode !== null || worker.process.signalCode !== null) return resolve();
            worker.process.once('exit', () => resolve());
            worker.process.kill('SIGKILL');
          }),
      ),
    );
    this.workers.length = 0;
  }

  private async acquire(): Promise<Worker> {
    for (;;) {
      if (this.stopped)
        throw new FunctionError(this.config.name, { name: 'Stopped', message: 'the local cloud is stopping' });
      const idle = this.workers.find((worker) => !worker.busy);
      const worker = idle ?? (this.workers.length < this.concurrency ? this.startWorker() : undefined);
      if (worker) {
        worker.busy = true;
        try {
          await worker.ready;
        } catch (error) {
          // Its init failed: it leaves the pool, and the next in line may start a fresh one.
          this.kill(worker);
          this.release(worker);
          throw error;
        }
        return worker;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(worker: Worker): void {
    worker.busy = false;
    this.waiting.shift()?.();
  }

  private kill(worker: Worker): void {
    const index = this.workers.indexOf(worker);
    if (index >= 0) {
      this.killedCpuSeconds += processCpuSeconds(worker.process.pid) ?? 0;
      this.workers.splice(index, 1);
    }
    worker.process.kill('SIGKILL');
  }

  private startWorker(): Worker {
    this.stats.coldStarts++;
    const child = fork(compiledScript('lambda-worker'), [], {
      // Not the parent's flags: plain node, like the Lambda runtime, without the parent's TypeScript loader.
      execArgv: [],
      env: {
        ...this.config.environment,
        PATH: process.env.PATH,
        CODE_DIR: this.config.codeDir,
        HANDLER: this.config.handler,
        AWS_LAMBDA_FUNCTION_NAME: this.config.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.config.memoryMb),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${this.config.name}`,
        // The how-manieth environment of the function this is: seeds its share of a chaos run's fault plan.
        EDA_KIT_ENVIRONMENT_INDEX: String(this.stats.coldStarts),
        EDA_KIT_PRELOAD: JSON.stringify(this.config.preload ?? []),
        // Lambda's Node.js runtimes provide the AWS SDK for JavaScript v3 on NODE_PATH, and bundles leave it out.
        NODE_PATH: runtimeModulePath(),
        NODE_OPTIONS: `--max-old-space-size=${Math.max(64, Math.floor(this.config.memoryMb * 0.9))}`,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let initError: string | undefined;
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        // Node prints an uncaught init error as a stack: its `XxxError: message` line says what went wrong.
        if (initError === undefined && /^[\w.]*(Error|Exception)\b/.test(line)) initError = line;
        let json: Record<string, unknown> | undefined;
        if (line.startsWith('{')) {
          try {
            json = JSON.parse(line);
          } catch {
            json = undefined;
          }
        }
        this.onOutput({ functionName: this.config.name, line, json });
      });
    }
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: { ready?: boolean }) => {
        if (message.ready) {
          child.off('exit', onExit);
          child.off('message', onMessage);
          resolve();
        }
      };
      const onExit = (code: number | null) =>
        reject(
          new FunctionError(this.config.name, {
            name: 'Runtime.InitError',
            // The whole stack is in the function's log.
            message: `init exited with ${code}${initError ? `: ${initError.trim()}` : ''}`,
          }),
        );
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    const worker: Worker = { process: child, ready, busy: false };
    // An environment that dies while idle leaves the pool at once; the next invocation starts a fresh one.
    child.on('exit', () => {
      const index = this.workers.indexOf(worker);
      if (index >= 0 && !worker.busy) this.workers.splice(index, 1);
    });
    child.on('error', () => undefined);
    this.workers.push(worker);
    return worker;
  }
}
