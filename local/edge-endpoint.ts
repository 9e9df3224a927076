import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingHttpHeaders,
  request,
} from 'node:http';
import {
  createServer as createHttp2Server,
  type IncomingHttpHeaders as Http2Headers,
  type Http2Server,
  constants as http2Constants,
  type ServerHttp2Stream,
} from 'node:http2';
import { type AddressInfo, connect, createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { EmulatorEndpoints } from '../ops/endpoint-clients';

/** The port LocalStack's edge listens on, which scripts written for it expect. */
export const DEFAULT_EDGE_PORT = 4566;

/** One endpoint in front of the emulators. */
export interface EdgeEndpoint {
  /** `http://127.0.0.1:<port>`: what `AWS_ENDPOINT_URL` is set to. */
  readonly url: string;
  /** Requests served so far, by service (Lambda's being `Invoke`). */
  readonly requests: Readonly<Record<keyof EmulatorEndpoints | 'lambda' | 'unknown', number>>;
  /** Stops listening and closes the connections. */
  close(): Promise<void>;
}

/** Options of {@link startEdgeEndpoint}. */
export interface EdgeEndpointOptions {
  /**
   * The port on 127.0.0.1; 0 picks a free one.
   *
   * @default 4566
   */
  readonly port?: number;
  /**
   * Answers Lambda's `Invoke` (`POST /2015-03-31/functions/<name>/invocations`) by invoking a function of the local
   * cloud, found by name or ARN. Resolves with what the function returned, or `undefined` when there is no such
   * function; rejects when the function failed.
   *
   * @default - Lambda requests are refused as an unknown service
   */
  readonly invoke?: (functionName: string, event: unknown) => Promise<{ readonly result: unknown } | undefined>;
}

/** A port that another process holds. */
export class EdgePortInUseError extends Error {
  constructor(port: number) {
    super(`port ${port} is in use by another process: stop it, or choose another port with --port`);
    this.name = 'EdgePortInUseError';
  }
}

/** Fails with {@link EdgePortInUseError} when `port` on 127.0.0.1 is taken, so a command can refuse before it starts. */
export async function assertPortFree(port: number): Promise<void> {
  const probe = createNetServer();
  await listenOn(probe, port);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/** Listens on 127.0.0.1, turning a taken port into {@link EdgePortInUseError}. */
function listenOn(server: Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new EdgePortInUseError(port) : error),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

/** The X-Amz-Target prefix of each service's JSON protocol. */
const TARGET_PREFIXES: readonly [string, keyof EmulatorEndpoints][] = [
  ['AmazonSQS.', 'sqs'],
  ['Kinesis_', 'kinesis'],
  ['DynamoDB_', 'dynamodb'],
];
/** The signing name in a SigV4 credential scope: `Credential=<key>/<date>/<region>/<service>/aws4_request`. */
const CREDENTIAL_SCOPE = /Credential=[^/]+\/\d{8}\/[^/]+\/([a-z0-9-]+)\/aws4_request/;
const SIGNING_NAMES: Readonly<Record<string, keyof EmulatorEndpoints>> = {
  sqs: 'sqs',
  kinesis: 'kinesis',
  dynamodb: 'dynamodb',
  s3: 's3',
};
/** Connection-level headers that HTTP/2 forbids in a response. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
const HTTP2_PREFACE = 'PRI * HTTP/2.0';
/** The most of a first request's head read before routing: a request's headers are far smaller. */
const MAX_HEAD_BYTES = 64 * 1024;

/** The header fields of an HTTP/1.1 request head, by lower-case name. */
function parseHead(head: Buffer): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const line of head.toString('latin1').split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** Lambda's `Invoke`: the function's name, ARN or partial ARN, then `/invocations`. */
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/?]+)\/invocations(?:\?.*)?$/;

/** The service a request's SigV4 signature names, if it is signed. */
function signingName(headers: IncomingHttpHeaders | Http2Headers): string | undefined {
  return CREDENTIAL_SCOPE.exec(String(headers.authorization ?? ''))?.[1];
}

/**
 * Runs Lambda's `Invoke` against the local cloud: `RequestResponse` answers with the function's result (a failed
 * function with `X-Amz-Function-Error: Unhandled` and its error, as Lambda does), `Event` answers 202 at once and
 * invokes in the background.
 */
function invokeFunction(
  invoke: NonNullable<EdgeEndpointOptions['invoke']>,
  functionName: string,
  headers: IncomingHttpHeaders | Http2Headers,
  body: NodeJS.ReadableStream,
  answer: (status: number, headers: IncomingHttpHeaders, body: Buffer) => void,
): void {
  const chunks: Buffer[] = [];
  body.on('data', (chunk: Buffer) => chunks.push(chunk));
  body.on('end', () => {
    const json = (status: number, value: unknown, extra: IncomingHttpHeaders = {}) =>
      answer(status, { 'content-type': 'application/json', ...extra }, Buffer.from(JSON.stringify(value)));
    let event: unknown;
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      event = text === '' ? {} : JSON.parse(text);
    } catch {
      json(
        400,
        { message: 'Could not parse request body into json' },
        { 'x-amzn-errortype': 'InvalidRequestContentException' },
      );
      return;
    }
    // A name, a name with a qualifier (`name:alias`), a partial ARN (`account:function:name`) or an ARN.
    const parts = functionName.split(':');
    const name = parts[0] === 'arn' ? parts[6] : parts[1] === 'function' ? parts[2] : parts[0];
    const invocationType = String(headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (invocationType === 'DryRun') {
      // Lambda checks the call and runs nothing.
      answer(204, { 'content-length': '0' }, Buffer.alloc(0));
      return;
    }
    const invoked = invoke(name, event);
    if (invocationType === 'Event') {
      invoked.catch(() => undefined);
      answer(202, { 'content-length': '0' }, Buffer.alloc(0));
      return;
    }
    invoked.then(
      (outcome) =>
        outcome
          ? json(200, outcome.result ?? null, { 'x-amz-executed-version': '$LATEST' })
          : json(
              404,
              { Type: 'User', message: `Function not found: ${functionName}` },
              { 'x-amzn-errortype': 'ResourceNotFoundException' },
            ),
      (error: Error) =>
        json(
          200,
          { errorType: error.name, errorMessage: error.message },
          { 'x-amz-executed-version': '$LATEST', 'x-amz-function-error': 'Unhandled' },
        ),
    );
  });
}

/**
 * An S3 request's path in path style: a client that addresses the bucket by host (`<bucket>.localhost:4566`, as
 * the SDK does for an endpoint named `localhost`) has it moved into the path, since the emulator is reached at its
 * own address.
 */
function pathStyle(path: string, headers: IncomingHttpHeaders | Http2Headers): string {
  const host = String(headers.host ?? headers[':authority'] ?? '').replace(/:\d+$/, '');
  const bucket = /^(.+)\.localhost$/.exec(host)?.[1];
  return bucket ? `/${bucket}${path}` : path;
}

/**
 * Which emulator a request is for: by the service its signature names, else by its `X-Amz-Target`. Both are set
 * by every AWS SDK and the AWS CLI; nothing else is read, so the body streams through untouched.
 */
export function serviceOf(headers: IncomingHttpHeaders | Http2Headers): keyof EmulatorEndpoints | undefined {
  const scope = signingName(headers);
  if (scope && SIGNING_NAMES[scope]) return SIGNING_NAMES[scope];
  const target = String(headers['x-amz-target'] ?? '');
  return TARGET_PREFIXES.find(([prefix]) => target.startsWith(prefix))?.[1];
}

/**
 * Serves SQS, Kinesis and DynamoDB on one port, as LocalStack's edge does: each request goes to the emulator of
 * the service it is signed for. It speaks HTTP/1.1 and cleartext HTTP/2 on the same port, since the SDK's Kinesis
 * client talks HTTP/2. SQS answers name the queue URLs of the edge, so a client that follows a queue URL stays on it.
 * Over HTTP/1.1 each request is routed by its head; a DynamoDB or Kinesis request then goes to its emulator byte for
 * byte, so the endpoint costs next to nothing on the busiest paths, and a connection that mixes services (a shared
 * agent) still reaches the right emulator for each request.
 */
export async function startEdgeEndpoint(
  endpoints: EmulatorEndpoints,
  options: EdgeEndpointOptions = {},
): Promise<EdgeEndpoint> {
  const requests = { sqs: 0, kinesis: 0, dynamodb: 0, s3: 0, lambda: 0, unknown: 0 };
  let edgeUrl = '';

  /** Forwards one request to its emulator over HTTP/1.1 and hands back status, headers and body. */
  const forward = (
    method: string,
    path: string,
    headers: IncomingHttpHeaders | Http2Headers,
    body: NodeJS.ReadableStream,
    answer: (status: number, headers: IncomingHttpHeaders, body: Buffer) => void,
  ) => {
    const invocation = INVOKE_PATH.exec(path);
    if (options.invoke && method === 'POST' && invocation && signingName(headers) === 'lambda') {
      requests.lambda++;
      invokeFunction(options.invoke, decodeURIComponent(invocation[1]), headers, body, answer);
      return undefined;
    }
    const service = serviceOf(headers);
    const target = service && endpoints[service];
    if (!service || !target) {
      requests.unknown++;
      body.resume();
      const served = `sqs, kinesis, dynamodb${endpoints.s3 ? ', s3' : ''}${options.invoke ? ', lambda Invoke' : ''}`;
      const message = `the request names no service this endpoint serves (${served})`;
      answer(
        400,
        { 'content-type': 'application/json' },
        Buffer.from(JSON.stringify({ __type: 'UnknownService', message })),
      );
      return undefined;
    }
    requests[service]++;
    const upstream = new URL(target);
    const forwarded = Object.fromEntries(
      Object.entries(headers).filter(([name]) => !name.startsWith(':') && !HOP_BY_HOP.has(name)),
    );
    const proxied = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method,
        path: service === 's3' ? pathStyle(path, headers) : path,
        headers: { ...forwarded, host: upstream.host },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          let payload = Buffer.concat(chunks);
          // The SQS emulator names queue URLs at its own port: name them at the edge's.
          if (service === 'sqs') payload = Buffer.from(payload.toString('utf8').replaceAll(upstream.origin, edgeUrl));
          const responseHeaders = { ...response.headers, 'content-length': String(payload.length) };
          answer(response.statusCode ?? 502, responseHeaders, payload);
        });
      },
    );
    proxied.on('error', (error) => {
      const message = `the ${service} emulator did not answer: ${error.message}`;
      answer(
        502,
        { 'content-type': 'application/json' },
        Buffer.from(JSON.stringify({ __type: 'BadGateway', message })),
      );
    });
    body.pipe(proxied);
    return proxied;
  };

  const http1 = createHttpServer((req, res) => {
    const upstream = forward(req.method ?? 'GET', req.url ?? '/', req.headers, req, (status, headers, body) => {
      if (res.destroyed) return;
      res.writeHead(status, headers);
      res.end(body);
    });
    // A client that gives up takes its upstream call with it.
    res.on('close', () => {
      if (!res.writableFinished) upstream?.destroy();
    });
  });
  const http2 = createHttp2Server();
  http2.on('session', (session) => session.on('error', () => session.destroy()));
  http2.on('stream', (stream: ServerHttp2Stream, headers: Http2Headers) =>
    forward(
      String(headers[http2Constants.HTTP2_HEADER_METHOD]),
      String(headers[http2Constants.HTTP2_HEADER_PATH]),
      headers,
      stream.on('error', () => stream.destroy()),
      (status, responseHeaders, body) => {
        const allowed = Object.fromEntries(
          Object.entries(responseHeaders).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())),
        );
        if (stream.destroyed) return;
        stream.respond({ ...allowed, [http2Constants.HTTP2_HEADER_STATUS]: status });
        stream.end(body);
      },
    ),
  );

  // One port, two protocols. HTTP/2 reads its socket natively, so bytes already read cannot be handed back to it:
  // each protocol gets a server on a private port, and the edge relays every connection whole to the right one.
  const listenPrivately = async (internal: HttpServer | Http2Server) => {
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
    return (internal.address() as AddressInfo).port;
  };
  const [http1Port, http2Port] = [await listenPrivately(http1), await listenPrivately(http2)];
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const server: Server = createNetServer((client) => {
    track(client);
    // A client that resets its connection must not take the endpoint down with it.
    client.on('error', () => client.destroy());
    let upstream: Socket | undefined;
    let upstreamKey: string | undefined;
    /** Bytes held back: the start of a request head not yet whole. */
    let held: Buffer = Buffer.alloc(0);
    /** Body bytes of the current request still to pass on. */
    let bodyLeft = 0;
    /** Whether request boundaries are still known: not after a body without a length (chunked). */
    let framed = true;

    /** The upstream for `key`: an emulator, or one of the private servers; a new one when the service changes. */
    const upstreamFor = (key: string): Socket => {
      if (upstream && upstreamKey === key) return upstream;
      // A client sends the next request once the last answer is in (Node's agent and the SDKs do not pipeline):
      // the old upstream has nothing more to say, and goes.
      upstream?.removeAllListeners('data');
      upstream?.end();
      const target =
        key === 'dynamodb' || key === 'kinesis'
          ? Number(new URL(endpoints[key]).port)
          : key === 'http2'
            ? http2Port
            : http1Port;
      const socket = connect(target, '127.0.0.1');
      track(socket);
      socket.on('data', (answer: Buffer) => client.write(answer));
      socket.on('error', () => client.destroy());
      socket.on('close', () => {
        if (upstream === socket) client.destroy();
      });
      upstream = socket;
      upstreamKey = key;
      return socket;
    };

    client.on('data', (chunk: Buffer) => {
      let data: Buffer = held.length > 0 ? Buffer.concat([held, chunk]) : chunk;
      held = Buffer.alloc(0);
      if (!upstream) {
        // Too short to tell HTTP/2's preface from an HTTP/1.1 request line: wait for more.
        if (data.length < HTTP2_PREFACE.length) {
          held = data;
          return;
        }
        if (data.toString('latin1', 0, HTTP2_PREFACE.length) === HTTP2_PREFACE) framed = false;
        if (!framed) upstreamFor('http2');
      }
      while (data.length > 0) {
        if (!framed) {
          (upstream ?? upstreamFor('http1')).write(data);
          return;
        }
        if (bodyLeft > 0) {
          const taken = Math.min(bodyLeft, data.length);
          upstream?.write(data.subarray(0, taken));
          bodyLeft -= taken;
          data = data.subarray(taken);
          continue;
        }
        // A request starts here: route it by its head. DynamoDB and Kinesis go to their emulator byte for byte
        // (nothing to rewrite, nothing to parse past the head); the rest to the server that answers SQS and Invoke.
        const headEnd = data.indexOf('\r\n\r\n');
        if (headEnd === -1) {
          if (data.length <= MAX_HEAD_BYTES) {
            held = data;
            return;
          }
          framed = false;
          continue;
        }
        const headers = parseHead(data.subarray(0, headEnd));
        const service = serviceOf(headers);
        const key = service === 'dynamodb' || service === 'kinesis' ? service : 'http1';
        if (key !== 'http1') requests[key]++;
        const length = headers['content-length'];
        if (length === undefined && headers['transfer-encoding']) framed = false;
        bodyLeft = Number(length ?? 0);
        upstreamFor(key).write(data.subarray(0, headEnd + 4));
        data = data.subarray(headEnd + 4);
      }
    });
    client.on('end', () => upstream?.end());
    client.on('close', () => upstream?.destroy());
  });
  const port = options.port ?? DEFAULT_EDGE_PORT;
  try {
    await listenOn(server, port);
  } catch (error) {
    http1.close();
    http2.close();
    throw error;
  }
  edgeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: edgeUrl,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        new Promise<void>((resolve) => http1.close(() => resolve())),
        new Promise<void>((resolve) => http2.close(() => resolve())),
      ]);
    },
  };
}
