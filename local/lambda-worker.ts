/**
 * One Lambda execution environment: a process that loads a function's bundle once (its init phase) and runs one
 * invocation at a time, as Lambda does. The parent sends `{ id, event, deadlineMs, requestId }` over IPC and gets
 * `{ id, result }` or `{ id, error }` back. The handler is `HANDLER` (file.export) inside `CODE_DIR`; everything
 * the function prints goes to stdout, where the parent reads logs and EMF metrics.
 */
import * as path from 'node:path';
import { seededRandom } from './seeded-random';

interface Invocation {
  readonly id: number;
  readonly event: unknown;
  readonly deadlineMs: number;
  readonly requestId: string;
}

const codeDir = process.env.CODE_DIR as string;
const [file, exportName] = (process.env.HANDLER as string).split('.');
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME as string;
// The init phase: module scope runs once, as on Lambda.
const handler = require(path.join(codeDir, file))[exportName] as (event: unknown, context: object) => Promise<unknown>;
if (typeof handler !== 'function') throw new Error(`${process.env.HANDLER} is not a function in ${codeDir}`);

/**
 * Faults a chaos run injects into this environment (`EDA_KIT_FAULTS`, JSON of rates from 0 to 1): the handler
 * throws; the process dies mid-invocation; it dies exactly after an effect and before its idempotency record;
 * it hangs past its timeout. Each fault is announced on stdout before it happens, so the run can count them.
 */
const faults = JSON.parse(process.env.EDA_KIT_FAULTS ?? '{}') as Partial<
  Record<'throw' | 'kill' | 'killAfterEffect' | 'hang' | 'seed', number>
>;
// The run's seed, this function and this environment's place among its environments: a seeded plan per process.
const random = seededRandom(faults.seed ?? 0, `${functionName}#${process.env.EDA_KIT_ENVIRONMENT_INDEX ?? 0}`);
const chance = (rate = 0) => rate > 0 && random() < rate;
const announce = (fault: string) => process.stdout.write(`${JSON.stringify({ edaKitFault: fault })}\n`);
if (faults.killAfterEffect) {
  (globalThis as { __edaKitFaults?: { afterEffect?: () => void } }).__edaKitFaults = {
    afterEffect: () => {
      if (!chance(faults.killAfterEffect)) return;
      announce('killAfterEffect');
      process.kill(process.pid, 'SIGKILL');
    },
  };
}

process.on('message', async (invocation: Invocation) => {
  if (chance(faults.hang)) {
    announce('hang');
    return;
  }
  if (chance(faults.kill)) {
    announce('kill');
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), random() * 50);
  }
  if (chance(faults.throw)) {
    announce('throw');
    process.send?.({ id: invocation.id, error: { name: 'InjectedFault', message: 'the handler threw (injected)' } });
    return;
  }
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
});
process.send?.({ ready: true });
