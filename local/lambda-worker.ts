/**
 * One Lambda execution environment: a process that loads a function's bundle once (its init phase) and runs one
 * invocation at a time, as Lambda does. The parent sends `{ id, event, deadlineMs, requestId }` over IPC and gets
 * `{ id, result }` or `{ id, error }` back. The handler is `HANDLER` (file.export) inside `CODE_DIR`; everything
 * the function prints goes to stdout, where the parent reads logs and EMF metrics.
 *
 * `EDA_KIT_PRELOAD` (a JSON array of absolute paths) names modules loaded before the function's code, as a plugin
 * of the local cloud asks: a module that exports `wrapHandler(handler)` wraps the handler (a chaos run's faults).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// Before any of the function's code is compiled. An environment here lives for a few thousand SDK calls, not the
// hours of a busy Lambda one: at V8's default budget its optimizing compiler spends more CPU on the SDK's many
// lukewarm functions than their optimized code saves before the environment is gone. Five times the budget (V8's
// default is 67,584) leaves those to the baseline compiler and still optimizes what stays hot. Measured over
// 1,000-order runs alternated with the default: about 6% less CPU in the environments and the engine together.
setFlagsFromString('--interrupt-budget=337920');

interface Invocation {
  readonly id: number;
  readonly event: unknown;
  readonly deadlineMs: number;
  readonly requestId: string;
}

type Handler = (event: unknown, context: object) => Promise<unknown>;

const codeDir = process.env.CODE_DIR as string;
const [file, exportName] = (process.env.HANDLER as string).split('.');
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME as string;

// Before the init phase: a preloaded module may need to see the bundle's SDK clients being made.
const wrappers = (JSON.parse(process.env.EDA_KIT_PRELOAD ?? '[]') as string[])
  .map((modulePath) => require(modulePath) as { wrapHandler?: (handler: Handler) => Handler })
  .flatMap((loaded) => (typeof loaded.wrapHandler === 'function' ? [loaded.wrapHandler] : []));

/** A CommonJS bundle is required; a `.js` ES module (a `"type": "module"` package) is imported, as Lambda does. */
async function requireOrImport(base: string): Promise<Record<string, unknown>> {
  try {
    return require(base) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM') throw error;
    return (await import(pathToFileURL(require.resolve(base)).href)) as Record<string, unknown>;
  }
}

/** The init phase: module scope runs once, as on Lambda. An ES module bundle (`.mjs`) is imported, as Lambda does. */
async function loadHandler(): Promise<Handler> {
  const base = path.join(codeDir, file);
  const module = existsSync(`${base}.mjs`)
    ? ((await import(pathToFileURL(`${base}.mjs`).href)) as Record<string, unknown>)
    : await requireOrImport(base);
  const loaded = module[exportName] as Handler;
  if (typeof loaded !== 'function') throw new Error(`${process.env.HANDLER} is not a function in ${codeDir}`);
  return wrappers.reduce((wrapped, wrap) => wrap(wrapped), loaded);
}

// An environment never outlives the local cloud that started it, however that one ended.
process.on('disconnect', () => process.exit(0));

void loadHandler().then((handler) => {
  process.on('message', (invocation: Invocation) => void invoke(handler, invocation));
  process.send?.({ ready: true });
});

async function invoke(handler: Handler, invocation: Invocation): Promise<void> {
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: process.env.FUNCTION_ARN,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: invocation.requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, invocation.deadlineMs - Date.now()),
  };
  try {
    const result = await handler(invocation.event, context);
    process.send?.({ id: invocation.id, result });
  } catch (error) {
    const { name, message, stack } = error as Error;
    process.send?.({ id: invocation.id, error: { name, message, stack } });
  }
}
