import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { requireEnv } from 'cdk-eda-kit/runtime';
import * as v from 'valibot';
import { PlaceOrderRequestSchema } from '../events/order-placed';
import { orderPlacedEvent } from './order-placed-event';

const ordersQueueUrl = requireEnv('ORDERS_QUEUE_URL');
const notificationsQueueUrl = requireEnv('NOTIFICATIONS_QUEUE_URL');
const orderEventsStreamName = requireEnv('ORDER_EVENTS_STREAM_NAME');
const MAX_BODY_BYTES = 16 * 1024;

const logger = new Logger();
const sqs = new SQSClient({});
// HTTP/1.1: PutRecord needs no HTTP/2, and Kinesis emulators do not speak it.
const kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });

/**
 * The order API: validates a request to place an order, assigns the event its `eventId`, and publishes
 * `OrderPlaced` to the orders and notifications queues and to the order-events stream (partition key: the SKU,
 * so each SKU's events stay in order).
 */
export const handler = async (request: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const raw = request.isBase64Encoded
    ? Buffer.from(request.body ?? '', 'base64').toString('utf8')
    : (request.body ?? '');
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) return reply(413, { error: `the body is over ${MAX_BODY_BYTES} bytes` });
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return reply(400, { error: 'the body is not valid JSON' });
  }
  const parsed = v.safeParse(PlaceOrderRequestSchema, json);
  if (!parsed.success) {
    const issues = parsed.issues.map((issue) => `${v.getDotPath(issue) ?? '(root)'}: ${issue.message}`);
    return reply(400, { error: 'the order is invalid', issues });
  }

  const event = orderPlacedEvent(parsed.output, randomUUID(), new Date().toISOString());
  const body = JSON.stringify(event);
  await Promise.all([
    sqs.send(new SendMessageCommand({ QueueUrl: ordersQueueUrl, MessageBody: body })),
    sqs.send(new SendMessageCommand({ QueueUrl: notificationsQueueUrl, MessageBody: body })),
    kinesis.send(
      new PutRecordCommand({ StreamName: orderEventsStreamName, PartitionKey: event.sku, Data: Buffer.from(body) }),
    ),
  ]);
  logger.info('OrderPlaced published', { eventId: event.eventId, orderId: event.orderId });
  return reply(202, { eventId: event.eventId, orderId: event.orderId });
};

function reply(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
