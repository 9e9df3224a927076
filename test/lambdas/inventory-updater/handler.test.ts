import { randomUUID } from 'node:crypto';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { beforeAll, expect, test } from 'vitest';
import { kinesisEvent, kinesisRecord, lambdaContext, orderPlaced } from '../../helpers/records';
import { getItem, loadHandler } from '../../helpers/reference';

let handler: (
  event: KinesisStreamEvent,
  context: ReturnType<typeof lambdaContext>,
) => Promise<KinesisStreamBatchResponse>;
beforeAll(async () => {
  handler = await loadHandler<KinesisStreamEvent, KinesisStreamBatchResponse>('inventory-updater');
});

test('GIVEN orders of one SKU, a redelivered record and a producer retry THEN stock is reserved once per order', async () => {
  const sku = `SKU-${randomUUID().slice(0, 8).toUpperCase()}`;
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

  expect(await getItem('INVENTORY_TABLE_NAME', { sku })).toMatchObject({ reserved: 7, orderCount: 2 });
});

test('GIVEN a record older than the last one applied to its SKU THEN the sequence guard skips it', async () => {
  // The idempotency record is gone (e.g. expired) but the stream redelivers an old record: the guard still holds.
  const sku = `SKU-${randomUUID().slice(0, 8).toUpperCase()}`;
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

  expect(await getItem('INVENTORY_TABLE_NAME', { sku })).toMatchObject({ reserved: 1, orderCount: 1 });
});
