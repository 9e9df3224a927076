import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { beforeAll, expect, test } from 'vitest';
import { lambdaContext, orderPlaced, sqsEvent, sqsRecord } from '../../helpers/records';
import { loadHandler, scanItems } from '../../helpers/reference';

let handler: (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;
beforeAll(async () => {
  handler = await loadHandler<SQSEvent, SQSBatchResponse>('notification-sender');
});

test('GIVEN an order delivered three times (once as a producer retry) THEN one confirmation email is recorded', async () => {
  const order = orderPlaced({ customerEmail: 'bo@example.com', quantity: 3, unitPriceCents: 999 });
  const retry = { ...order, eventId: randomUUID() };

  await handler(sqsEvent([sqsRecord(JSON.stringify(order)), sqsRecord(JSON.stringify(order))]), lambdaContext());
  await handler(sqsEvent([sqsRecord(JSON.stringify(retry))]), lambdaContext());

  const emails = await scanItems(
    'SENT_EMAILS_TABLE_NAME',
    (item) => item.messageId === `order-confirmation#${order.orderId}`,
  );
  expect(emails).toHaveLength(1);
  expect(emails[0]).toMatchObject({
    to: 'bo@example.com',
    subject: `Your order ${order.orderId} is confirmed`,
    text: 'Thank you for your order of 3 x SKU-1: 29.97 EUR.',
  });
});
