/**
 * The faults a chaos run injects into an execution environment, loaded by the local cloud's worker before the
 * function's code (a plugin's `preload`). `EDA_KIT_FAULTS` holds the rates, from 0 to 1: the handler throws; the
 * process dies mid-invocation; it dies right after one of the invocation's conditional writes (between an effect
 * and its idempotency record, or between a pin and its effect); it hangs past its timeout; a DynamoDB request is
 * throttled or fails with a 5xx. Each fault is announced on stdout before it happens, so the run can count them.
 */
import { ClientRequest } from 'node:http';
import { Readable } from 'node:stream';
import { CONSUMER_ENVIRONMENT } from '../contract';
import { seededRandom } from '../local/seeded-random';

type Handler = (event: unknown, context: object) => Promise<unknown>;

const faults = JSON.parse(process.env.EDA_KIT_FAULTS ?? '{}') as Partial<
  Record<'throw' | 'kill' | 'killAfterEffect' | 'hang' | 'dynamodb' | 'seed', number>
>;
// The run's seed, this function and this environment's place among its environments: a seeded plan per process.
const random = seededRandom(
  faults.seed ?? 0,
  `${process.env.AWS_LAMBDA_FUNCTION_NAME}#${process.env.EDA_KIT_ENVIRONMENT_INDEX ?? 0}`,
);
const chance = (rate = 0) => rate > 0 && random() < rate;
const announce = (fault: string) => process.stdout.write(`${JSON.stringify({ edaKitFault: fault })}\n`);

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

/** DynamoDB's answers to a throttled or failed request, as the SDK expects them (JSON 1.0 protocol). */
const DYNAMODB_FAULTS = [
  { statusCode: 400, type: 'ThrottlingException', message: 'Rate of requests exceeds the allowed throughput' },
  { statusCode: 500, type: 'InternalServerError', message: 'Internal server error' },
] as const;

/**
 * Answers a `rate` share of this process's DynamoDB requests with DynamoDB's throttling or internal-error response
 * instead of sending them, at the SDK's HTTP handler (the Lambda runtime's copy of the SDK, on NODE_PATH, that the
 * function's clients use): the SDK's own retries and error handling then run as they would on a real response, and
 * what still fails after them reaches the consumer as a transient error. Nothing sits between the function and
 * the emulator, so a request that is not failed costs nothing more.
 */
function failDynamoDBRequests(rate: number): void {
  const { NodeHttpHandler } = require('@smithy/node-http-handler') as typeof import('@smithy/node-http-handler');
  const { HttpResponse } = require('@smithy/core/protocols') as typeof import('@smithy/core/protocols');
  const { handle } = NodeHttpHandler.prototype;
  NodeHttpHandler.prototype.handle = function (this: InstanceType<typeof NodeHttpHandler>, request, options) {
    const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '';
    if (target.startsWith('DynamoDB_') && chance(rate)) {
      const fault = DYNAMODB_FAULTS[Math.floor(random() * DYNAMODB_FAULTS.length)];
      announce(`dynamodb:${fault.type}`);
      const body = JSON.stringify({
        __type: `com.amazonaws.dynamodb.v20120810#${fault.type}`,
        message: `${fault.message} (injected)`,
      });
      return Promise.resolve({
        response: new HttpResponse({
          statusCode: fault.statusCode,
          headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': fault.type },
          body: Readable.from([Buffer.from(body)]),
        }),
      });
    }
    return handle.call(this, request, options);
  };
}

// Installed as this module loads, before the function's bundle: its SDK clients' requests must be watched.
if (faults.dynamodb) failDynamoDBRequests(faults.dynamodb);
/**
 * The conditional write of the invocation under way after which its environment dies, counted from 1; none when
 * this invocation was not drawn. Drawn per invocation, like the other kills: drawn per write, a batch of 100
 * records with two writes each would die almost every time, and the run would measure little but restarts.
 */
let dieAfterWrite: number | undefined;
let writesThisInvocation = 0;

if (faults.killAfterEffect) {
  killAfterConditionalWrites(() => {
    writesThisInvocation++;
    if (writesThisInvocation !== dieAfterWrite) return;
    announce('killAfterEffect');
    process.kill(process.pid, 'SIGKILL');
  });
}

/**
 * Draws whether this invocation dies after one of its conditional writes, and after which: any of the first two
 * per record (a pin and its effect, or an effect alone), so every window between a write and what follows it is hit.
 */
function drawKillAfterEffect(event: unknown): void {
  writesThisInvocation = 0;
  dieAfterWrite = undefined;
  if (!chance(faults.killAfterEffect)) return;
  const records = (event as { Records?: unknown[] } | undefined)?.Records?.length ?? 1;
  dieAfterWrite = 1 + Math.floor(random() * 2 * Math.max(1, records));
}

/** Wraps the handler with the per-invocation faults: a hang, a kill mid-invocation, a throw. */
export function wrapHandler(handler: Handler): Handler {
  return async (event, context) => {
    drawKillAfterEffect(event);
    if (chance(faults.hang)) {
      announce('hang');
      return new Promise<never>(() => undefined);
    }
    if (chance(faults.kill)) {
      announce('kill');
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), random() * 50);
    }
    if (chance(faults.throw)) {
      announce('throw');
      const error = new Error('the handler threw (injected)');
      error.name = 'InjectedFault';
      throw error;
    }
    return handler(event, context);
  };
}
