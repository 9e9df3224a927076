import { OrderPlacedSchema } from '../events/order-placed';
import { applyIfNewer, createStreamConsumer, defineEventHandler, requireEnv } from '../runtime';

const inventoryTable = requireEnv('INVENTORY_TABLE_NAME');

/**
 * Reserves stock once per order (a producer's retry is a new event of the same order). The stream is partitioned
 * by SKU, so the events of one SKU arrive in sequence order; an event is applied only if its sequence number is
 * above the last one applied to that SKU, which makes a redelivered record harmless even without its
 * idempotency record.
 */
export const handler = createStreamConsumer({
  events: {
    OrderPlaced: defineEventHandler({
      schema: OrderPlacedSchema,
      idempotencyKey: 'orderId',
      handle: async (order, { source }) => {
        await applyIfNewer({
          tableName: inventoryTable,
          key: { sku: order.sku },
          sequence: source.sequenceNumber ?? '0',
          update: 'ADD reserved :quantity, orderCount :one',
          values: { ':quantity': order.quantity, ':one': 1 },
        });
      },
    }),
  },
});
