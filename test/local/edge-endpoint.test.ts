import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import * as path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type EdgeEndpoint, startEdgeEndpoint } from '../../local/edge-endpoint';

const root = path.resolve(__dirname, '..', '..');
const endpoints = {
  sqs: process.env.AWS_ENDPOINT_URL_SQS as string,
  kinesis: process.env.AWS_ENDPOINT_URL_KINESIS as string,
  dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
};

describe('GIVEN one endpoint in front of the emulators', () => {
  let edge: EdgeEndpoint;

  beforeAll(async () => {
    edge = await startEdgeEndpoint(endpoints, { port: 0 });
  });

  afterAll(async () => {
    await edge.close();
  });

  test('WHEN a script for LocalStack runs with nothing but AWS_ENDPOINT_URL THEN its stock SQS, Kinesis and DynamoDB clients all work through it', async () => {
    // A clean environment: no per-service endpoint of the test run, only what a LocalStack user sets.
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ENDPOINT_URL: edge.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const before = { ...edge.requests };
    const output = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [path.join(root, 'test', 'fixtures', 'edge-client.js'), randomUUID().slice(0, 8)],
        { cwd: root, env },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );

    const seen = JSON.parse(output);
    expect(seen.message).toBe('hello through the edge');
    expect(seen.record).toBe('a record');
    expect(seen.item).toEqual({ id: { S: 'a' }, n: { N: '1' } });
    // Queue URLs name the edge, so a client that follows them stays on the one endpoint.
    expect(seen.queueUrl.startsWith(`${edge.url}/`)).toBe(true);
    for (const service of ['sqs', 'kinesis', 'dynamodb'] as const) {
      expect(edge.requests[service], service).toBeGreaterThan(before[service]);
    }
  });

  test('WHEN clients of several services share one keep-alive connection THEN each request reaches its own service', async () => {
    // One agent with a single socket: DynamoDB, SQS and Kinesis requests follow each other on one connection.
    const requestHandler = new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) });
    const config = {
      endpoint: edge.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestHandler,
    };
    const dynamodb = new DynamoDBClient(config);
    const sqs = new SQSClient(config);
    const kinesis = new KinesisClient(config);
    const before = { ...edge.requests };

    for (let round = 0; round < 2; round++) {
      await dynamodb.send(new ListTablesCommand({}));
      await sqs.send(new ListQueuesCommand({}));
      await kinesis.send(new ListStreamsCommand({}));
    }

    expect(edge.requests.dynamodb - before.dynamodb).toBe(2);
    expect(edge.requests.kinesis - before.kinesis).toBe(2);
    expect(edge.requests.sqs - before.sqs).toBe(2);
    requestHandler.destroy();
  });

  test('WHEN a request names no service it serves THEN it answers 400 with the reason', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${edge.url}/`, { method: 'POST' }, (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end('{}');
    });

    expect(status).toBe(400);
    expect(JSON.parse(body).message).toBe('the request names no service this endpoint serves (sqs, kinesis, dynamodb)');
  });

  test('fails when its port is taken, naming the port and the way out', async () => {
    const port = Number(new URL(edge.url).port);

    await expect(startEdgeEndpoint(endpoints, { port })).rejects.toThrow(
      `port ${port} is in use by another process: stop it, or choose another port with --port`,
    );
  });
});

describe('GIVEN the endpoint answers Lambda Invoke for the local functions', () => {
  let edge: EdgeEndpoint;
  const invoked: unknown[] = [];

  beforeAll(async () => {
    edge = await startEdgeEndpoint(endpoints, {
      port: 0,
      invoke: async (name, event) => {
        if (name === 'missing') return undefined;
        invoked.push(event);
        if (name === 'broken') throw Object.assign(new Error('it broke'), { name: 'FunctionError' });
        return { result: { echoed: event, by: name } };
      },
    });
  });

  afterAll(async () => {
    await edge.close();
  });

  const lambda = () =>
    new LambdaClient({
      endpoint: edge.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  const payloadOf = (bytes: Uint8Array | undefined) => JSON.parse(Buffer.from(bytes ?? new Uint8Array()).toString());

  test('WHEN a stock Lambda client invokes a function by name or ARN THEN it gets what the function returned', async () => {
    const byName = await lambda().send(new InvokeCommand({ FunctionName: 'orders', Payload: '{"n":1}' }));
    const byArn = await lambda().send(
      new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:orders', Payload: '{"n":2}' }),
    );

    expect(byName.StatusCode).toBe(200);
    expect(payloadOf(byName.Payload)).toEqual({ echoed: { n: 1 }, by: 'orders' });
    expect(payloadOf(byArn.Payload)).toEqual({ echoed: { n: 2 }, by: 'orders' });
    expect(edge.requests.lambda).toBeGreaterThanOrEqual(2);
  });

  test('WHEN it is named with a qualifier or a partial ARN, or invoked as a dry run THEN it answers as Lambda does', async () => {
    const before = invoked.length;
    const qualified = await lambda().send(new InvokeCommand({ FunctionName: 'orders:live', Payload: '{"n":3}' }));
    const partial = await lambda().send(
      new InvokeCommand({ FunctionName: '000000000000:function:orders', Payload: '{"n":4}' }),
    );
    const dryRun = await lambda().send(
      new InvokeCommand({ FunctionName: 'orders', InvocationType: 'DryRun', Payload: '{"n":5}' }),
    );

    expect(payloadOf(qualified.Payload)).toEqual({ echoed: { n: 3 }, by: 'orders' });
    expect(payloadOf(partial.Payload)).toEqual({ echoed: { n: 4 }, by: 'orders' });
    expect(dryRun.StatusCode).toBe(204);
    expect(invoked.length).toBe(before + 2);
  });

  test('WHEN the function fails THEN the answer carries FunctionError and the error, as Lambda’s does', async () => {
    const response = await lambda().send(new InvokeCommand({ FunctionName: 'broken', Payload: '{}' }));

    expect(response.FunctionError).toBe('Unhandled');
    expect(payloadOf(response.Payload)).toEqual({ errorType: 'FunctionError', errorMessage: 'it broke' });
  });

  test('WHEN the function does not exist THEN the client gets ResourceNotFoundException', async () => {
    await expect(lambda().send(new InvokeCommand({ FunctionName: 'missing', Payload: '{}' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  test('WHEN invoked asynchronously (Event) THEN it answers 202 and invokes it', async () => {
    const before = invoked.length;
    const response = await lambda().send(
      new InvokeCommand({ FunctionName: 'orders', InvocationType: 'Event', Payload: '{"async":true}' }),
    );

    expect(response.StatusCode).toBe(202);
    await expect.poll(() => invoked.length).toBe(before + 1);
  });
});
