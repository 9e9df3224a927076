import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { beforeAll, expect, test } from 'vitest';
import { lambdaContext, orderPlaced, sqsEvent, sqsRecord } from '../../helpers/records';
import { getItem, loadHandler } from '../../helpers/reference';

let handler: (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;
beforeAll(async () => {
  handler = await loadHandler<SQSEvent, SQSBatchResponse>('order-processor');
});

test('GIVEN an order, its redelivery and a producer retry THEN the order is created once, by the first event', async () => {
  const order = orderPlaced();
  const retry = { ...order, eventId: randomUUID(), placedAt: new Date(Date.now() + 1000).toISOString() };

  const responses = [
    await handler(sqsEvent([sqsRecord(JSON.stringify(order))]), lambdaContext()),
    await handler(sqsEvent([sqsRecord(JSON.stringify(order)), sqsRecord(JSON.stringify(retry))]), lambdaContext()),
  ];

  expect(responses).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
  expect(await getItem('ORDERS_TABLE_NAME', { orderId: order.orderId })).toEqual({
    orderId: order.orderId,
    customerId: order.customerId,
    sku: order.sku,
    quantity: 2,
    totalCents: 2500,
    currency: 'EUR',
    status: 'CREATED',
    placedAt: order.placedAt,
    createdByEventId: order.eventId,
  });
});

test('GIVEN an invalid order THEN nothing is created and the record is handled (dead-lettered)', async () => {
  const order = orderPlaced({ quantity: 0 });

  const response = await handler(sqsEvent([sqsRecord(JSON.stringify(order))]), lambdaContext());

  expect(response).toEqual({ batchItemFailures: [] });
  expect(await getItem('ORDERS_TABLE_NAME', { orderId: order.orderId })).toBeUndefined();
});
