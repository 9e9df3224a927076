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
  handler = await loadHandler<KinesisStreamEvent, KinesisStreamBatchResponse>('audit-log-writer');
});

test('GIVEN an event read twice and a producer retry THEN each distinct event has one audit entry', async () => {
  const order = orderPlaced();
  const retry = { ...order, eventId: randomUUID() };
  const record = kinesisRecord(JSON.stringify(order), { partitionKey: order.sku as string });

  await handler(
    kinesisEvent([record, kinesisRecord(JSON.stringify(retry), { partitionKey: order.sku as string })]),
    lambdaContext(),
  );
  await handler(kinesisEvent([record]), lambdaContext());

  const entries = await scanItems('AUDIT_LOG_TABLE_NAME', (item) => item.orderId === order.orderId);
  expect(entries.map((entry) => entry.eventId).sort()).toEqual([order.eventId, retry.eventId].sort());
  expect(entries.find((entry) => entry.eventId === order.eventId)).toMatchObject({
    type: 'OrderPlaced',
    occurredAt: order.placedAt,
    source: `shardId-000000000000:${record.kinesis.sequenceNumber}`,
  });
});
