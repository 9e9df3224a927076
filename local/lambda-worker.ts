/**
 * One Lambda execution environment: a process that loads a function's bundle once (its init phase) and runs one
 * invocation at a time, as Lambda does. The parent sends `{ id, event, deadlineMs, requestId }` over IPC and gets
 * `{ id, result }` or `{ id, error }` back. The handler is `HANDLER` (file.export) inside `CODE_DIR`; everything
 * the function prints goes to stdout, where the parent reads logs and EMF metrics.
 */
import { ClientRequest } from 'node:http';
import * as path from 'node:path';
import { CONSUMER_ENVIRONMENT } from '../contract';
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

/** The DynamoDB actions that write one item, and may do so on a condition. */
const ITEM_WRITE_TARGET = /^DynamoDB_\d+\.(PutItem|UpdateItem)$/;

/**
 * Watches this process's outgoing DynamoDB requests (the SDK sends them with node's http module, one JSON body
 * each) and calls `afterWrite` as soon as DynamoDB accepts (HTTP 200) a conditional PutItem or UpdateItem to a
 * table other than the idempotency table: an effect or a pin, applied before the handler knows it was. The
 * runtime needs no hook for it. Installed before the handler's bundle loads.
 */
function killAfterConditionalWrites(afterWrite: () => void): void {
  const idempotencyTableName = process.env[CONSUMER_ENVIRONMENT.idempotencyTableName];
  const bodies = new WeakMap<ClientRequest, Buffer[]>();
  const { write, end } = ClientRequest.prototype;
  const isItemWrite = (request: ClientRequest) => ITEM_WRITE_TARGET.test(String(request.getHeader('x-amz-target')));
  const keep = (request: ClientRequest, chunk: unknown, encoding: unknown) => {
    if ((typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) || !isItemWrite(request)) return;
    const chunks = bodies.get(request) ?? [];
    chunks.push(
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
        : Buffer.from(chunk),
    );
    bodies.set(request, chunks);
  };
  ClientRequest.prototype.write = function (this: ClientRequest, chunk: unknown, ...rest: unknown[]) {
    keep(this, chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof write;
  ClientRequest.prototype.end = function (this: ClientRequest, ...args: unknown[]) {
    if (typeof args[0] !== 'function') keep(this, args[0], args[1]);
    const chunks = bodies.get(this);
    if (chunks) {
      bodies.delete(this);
      let body: { TableName?: string; ConditionExpression?: string } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        // Not a JSON body: not a write this watches.
      }
      if (body.ConditionExpression && body.TableName !== idempotencyTableName) {
        // After the SDK's own listener: the write is done in the table, and the handler has not heard of it yet.
        this.once('response', (response) => {
          if (response.statusCode === 200) afterWrite();
        });
      }
    }
    return (end as (...args: unknown[]) => ClientRequest).call(this, ...args);
  } as typeof end;
}

/**
 * Faults a chaos run injects into this environment (`EDA_KIT_FAULTS`, JSON of rates from 0 to 1): the handler
 * throws; the process dies mid-invocation; it dies right after a conditional write (between an effect and its
 * idempotency record, or between a pin and its effect); it hangs past its timeout. Each fault is announced on
 * stdout before it happens, so the run can count them.
 */
const faults = JSON.parse(process.env.EDA_KIT_FAULTS ?? '{}') as Partial<
  Record<'throw' | 'kill' | 'killAfterEffect' | 'hang' | 'seed', number>
>;
// The run's seed, this function and this environment's place among its environments: a seeded plan per process.
const random = seededRandom(faults.seed ?? 0, `${functionName}#${process.env.EDA_KIT_ENVIRONMENT_INDEX ?? 0}`);
const chance = (rate = 0) => rate > 0 && random() < rate;
const announce = (fault: string) => process.stdout.write(`${JSON.stringify({ edaKitFault: fault })}\n`);
if (faults.killAfterEffect) {
  killAfterConditionalWrites(() => {
    if (!chance(faults.killAfterEffect)) return;
    announce('killAfterEffect');
    process.kill(process.pid, 'SIGKILL');
  });
}

// The init phase: module scope runs once, as on Lambda. (After the faults: the bundle's SDK clients must be watched.)
const handler = require(path.join(codeDir, file))[exportName] as (event: unknown, context: object) => Promise<unknown>;
if (typeof handler !== 'function') throw new Error(`${process.env.HANDLER} is not a function in ${codeDir}`);

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
