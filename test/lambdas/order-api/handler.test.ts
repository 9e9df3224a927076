import { randomUUID } from 'node:crypto';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeAll, describe, expect, test } from 'vitest';
import { createQueue, createStream, emulatorClients } from '../../../local/emulators';
import { lambdaContext, orderPlaced } from '../../helpers/records';
import { loadHandler, receiveAll } from '../../helpers/reference';

const clients = emulatorClients({
  dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB as string,
  sqs: process.env.AWS_ENDPOINT_URL_SQS as string,
  kinesis: process.env.AWS_ENDPOINT_URL_KINESIS as string,
});
const streamName = `order-events-${randomUUID().slice(0, 8)}`;
let ordersQueueUrl: string;
let notificationsQueueUrl: string;
let handler: (
  event: APIGatewayProxyEventV2,
  context: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyStructuredResultV2>;

function request(body: string, isBase64Encoded = false): APIGatewayProxyEventV2 {
  return {
    body,
    isBase64Encoded,
    headers: {},
    rawPath: '/',
    rawQueryString: '',
    routeKey: '$default',
    version: '2.0',
  } as APIGatewayProxyEventV2;
}

async function streamRecords() {
  const { StreamDescription } = await clients.kinesis.send(new DescribeStreamCommand({ StreamName: streamName }));
  const { ShardIterator } = await clients.kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: StreamDescription?.Shards?.[0]?.ShardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const { Records = [] } = await clients.kinesis.send(new GetRecordsCommand({ ShardIterator }));
  return Records;
}

beforeAll(async () => {
  // GIVEN the order API's queues and stream, named in its environment as the stack does
  ordersQueueUrl = await createQueue(clients.sqs, `orders-${randomUUID().slice(0, 8)}`);
  notificationsQueueUrl = await createQueue(clients.sqs, `notifications-${randomUUID().slice(0, 8)}`);
  await createStream(clients.kinesis, streamName);
  Object.assign(process.env, {
    ORDERS_QUEUE_URL: ordersQueueUrl,
    NOTIFICATIONS_QUEUE_URL: notificationsQueueUrl,
    ORDER_EVENTS_STREAM_NAME: streamName,
  });
  handler = await loadHandler('order-api');
});

describe('the order API', () => {
  test('GIVEN a valid order THEN it publishes one OrderPlaced with a new eventId to both queues and the stream', async () => {
    const { type: _type, eventId: _eventId, placedAt: _placedAt, ...order } = orderPlaced();

    const response = await handler(request(JSON.stringify(order)), lambdaContext());

    expect(response.statusCode).toBe(202);
    const { eventId } = JSON.parse(response.body as string);
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
    for (const queueUrl of [ordersQueueUrl, notificationsQueueUrl]) {
      const [message, ...rest] = await receiveAll(clients.sqs, queueUrl);
      expect(rest).toEqual([]);
      expect(JSON.parse(message.Body as string)).toMatchObject({ ...order, type: 'OrderPlaced', eventId });
    }
    const [record] = await streamRecords();
    expect(record.PartitionKey).toBe(order.sku);
    expect(JSON.parse(Buffer.from(record.Data as Uint8Array).toString())).toMatchObject({
      eventId,
      orderId: order.orderId,
    });
  });

  test.each([
    ['malformed JSON', '{"orderId":', 400, /not valid JSON/],
    ['a wrong type', JSON.stringify({ ...orderPlaced(), type: undefined, quantity: '2' }), 400, /quantity/],
    ['an unexpected field', JSON.stringify({ ...orderPlaced() }), 400, /type|eventId|placedAt/],
    ['an oversize body', JSON.stringify({ note: 'x'.repeat(20_000) }), 413, /over 16384 bytes/],
  ])('GIVEN %s THEN it answers %i with the reason and publishes nothing', async (_name, body, status, reason) => {
    const response = await handler(request(body), lambdaContext());

    expect(response.statusCode).toBe(status);
    expect(response.body).toMatch(reason);
    expect(await receiveAll(clients.sqs, ordersQueueUrl)).toEqual([]);
  });

  test('GIVEN a base64-encoded body THEN it is decoded before validation', async () => {
    const { type: _t, eventId: _e, placedAt: _p, ...order } = orderPlaced();

    const response = await handler(
      request(Buffer.from(JSON.stringify(order)).toString('base64'), true),
      lambdaContext(),
    );

    expect(response.statusCode).toBe(202);
    expect(await receiveAll(clients.sqs, ordersQueueUrl)).toHaveLength(1);
    await receiveAll(clients.sqs, notificationsQueueUrl);
  });
});
