import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '../local/seeded-random';

/** DynamoDB's answers to a throttled or failed request, as the SDK expects them (JSON 1.0 protocol). */
const FAULTS = [
  {
    status: 400,
    type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
    message: 'Rate of requests exceeds the allowed throughput (injected)',
  },
  {
    status: 500,
    type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
    message: 'Internal server error (injected)',
  },
] as const;

/** A loopback proxy that fails a share of the requests it forwards. */
export interface FaultyProxy {
  readonly endpoint: string;
  /** Requests failed so far, by error type. */
  readonly injected: Record<string, number>;
  close(): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1 in front of `target` that answers a `rate` share of requests with DynamoDB's
 * throttling or internal-error response instead of forwarding them. The SDK retries those on its own; what
 * still fails after its retries reaches the consumer as a transient error.
 */
export async function startFaultyProxy(target: string, rate: number, seed = 0): Promise<FaultyProxy> {
  const random = seededRandom(seed, 'dynamodb');
  const upstream = new URL(target);
  const injected: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    if (random() < rate) {
      const fault = FAULTS[Math.floor(random() * FAULTS.length)];
      injected[fault.type] = (injected[fault.type] ?? 0) + 1;
      req.resume();
      res.writeHead(fault.status, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-errortype': fault.type.split('#')[1],
      });
      res.end(JSON.stringify({ __type: fault.type, message: fault.message }));
      return;
    }
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    injected,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
