import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { beforeAll, expect, test } from 'vitest';
import { reservationSlot } from '../../../lambdas/inventory-updater/reservation';
import { kinesisEvent, kinesisRecord, lambdaContext, orderPlaced } from '../../helpers/records';
import { documents, loadHandler } from '../../helpers/reference';

let handler: (
  event: KinesisStreamEvent,
  context: ReturnType<typeof lambdaContext>,
) => Promise<KinesisStreamBatchResponse>;
beforeAll(async () => {
  handler = await loadHandler<KinesisStreamEvent, KinesisStreamBatchResponse>('inventory-updater');
});

/** A SKU's reservations, added up over its items, as a reader of the inventory table does. */
async function reservationsOf(sku: string) {
  const { Items = [] } = await documents.send(
    new QueryCommand({
      TableName: process.env.INVENTORY_TABLE_NAME,
      KeyConditionExpression: 'sku = :sku',
      ExpressionAttributeValues: { ':sku': sku },
    }),
  );
  return {
    reserved: Items.reduce((sum, item) => sum + Number(item.reserved), 0),
    orderCount: Items.reduce((sum, item) => sum + Number(item.orderCount), 0),
    items: Items.length,
  };
}

const newSku = () => `SKU-${randomUUID().slice(0, 8).toUpperCase()}`;

test('GIVEN orders of one SKU, a redelivered record and a producer retry THEN stock is reserved once per order', async () => {
  const sku = newSku();
  const first = orderPlaced({ sku, quantity: 2 });
  const second = orderPlaced({ sku, quantity: 5 });
  const records = [
    kinesisRecord(JSON.stringify(first), { partitionKey: sku }),
    kinesisRecord(JSON.stringify(second), { partitionKey: sku }),
  ];

  await handler(kinesisEvent(records), lambdaContext());
  // The platform redelivers the same records (same sequence numbers), and the producer retried the first order.
  await handler(kinesisEvent(records), lambdaContext());
  const retry = kinesisRecord(JSON.stringify({ ...first, eventId: randomUUID() }), { partitionKey: sku });
  await handler(kinesisEvent([retry]), lambdaContext());

  expect(await reservationsOf(sku)).toMatchObject({ reserved: 7, orderCount: 2 });
});

test('GIVEN a skipped record replayed after newer ones of its SKU THEN it is reserved, once', async () => {
  // The event source gave up on the older record and moved on; an operator replays it later, twice by mistake.
  const sku = newSku();
  const newer = kinesisRecord(JSON.stringify(orderPlaced({ sku, quantity: 1 })), {
    partitionKey: sku,
    sequenceNumber: '49000000000000000000000000000000000000000000000000000200',
  });
  const older = kinesisRecord(JSON.stringify(orderPlaced({ sku, quantity: 100 })), {
    partitionKey: sku,
    sequenceNumber: '49000000000000000000000000000000000000000000000000000100',
  });

  await handler(kinesisEvent([newer]), lambdaContext());
  await handler(kinesisEvent([older]), lambdaContext());
  await handler(kinesisEvent([older]), lambdaContext());

  expect(await reservationsOf(sku)).toMatchObject({ reserved: 101, orderCount: 2 });
});

test('GIVEN many orders of one SKU in one minute THEN their markers are spread over several items', async () => {
  const sku = newSku();
  const placedAt = '2026-11-27T10:15:30.000Z';
  const orders = Array.from({ length: 40 }, () => orderPlaced({ sku, quantity: 1, placedAt }));

  await handler(
    kinesisEvent(orders.map((order) => kinesisRecord(JSON.stringify(order), { partitionKey: sku }))),
    lambdaContext(),
  );

  const slots = new Set(orders.map((order) => reservationSlot(order as { orderId: string; placedAt: string })));
  expect(slots.size).toBeGreaterThan(1);
  expect(await reservationsOf(sku)).toEqual({ reserved: 40, orderCount: 40, items: slots.size });
});
