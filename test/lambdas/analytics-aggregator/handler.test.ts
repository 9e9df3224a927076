import { randomUUID } from 'node:crypto';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { beforeAll, expect, test } from 'vitest';
import { kinesisEvent, kinesisRecord, lambdaContext, orderPlaced } from '../../helpers/records';
import { loadHandler, scanItems } from '../../helpers/reference';

let handler: (
  event: KinesisStreamEvent,
  context: ReturnType<typeof lambdaContext>,
) => Promise<KinesisStreamBatchResponse>;
beforeAll(async () => {
  handler = await loadHandler<KinesisStreamEvent, KinesisStreamBatchResponse>('analytics-aggregator');
});

test('GIVEN orders in one minute, with duplicates THEN the minute counts each order once', async () => {
  // A minute of its own, far in the past, so no other test adds to it.
  const minute = '2001-01-01T00:00';
  const orders = Array.from({ length: 12 }, (_, i) =>
    orderPlaced({
      placedAt: `${minute}:${String(i).padStart(2, '0')}.000Z`,
      quantity: 1,
      unitPriceCents: 100 * (i + 1),
      orderId: `o-${randomUUID()}`,
    }),
  );
  const records = orders.map((o) => kinesisRecord(JSON.stringify(o), { partitionKey: o.sku as string }));
  const retries = orders
    .slice(0, 4)
    .map((o) => kinesisRecord(JSON.stringify({ ...o, eventId: randomUUID() }), { partitionKey: o.sku as string }));

  await handler(kinesisEvent([...records, ...retries]), lambdaContext());
  await handler(kinesisEvent(records.slice(0, 6)), lambdaContext());

  const slots = await scanItems('ANALYTICS_TABLE_NAME', (item) => item.minute === minute);
  const total = (field: string) => slots.reduce((sum, slot) => sum + Number(slot[field]), 0);
  expect(total('orderCount')).toBe(12);
  expect(total('revenueCents')).toBe(100 * ((12 * 13) / 2));
});
