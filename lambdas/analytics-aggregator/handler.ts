import { OrderPlacedSchema } from '../events/order-placed';
import { addOnce, createStreamConsumer, defineEventHandler, markerSlot, requireEnv } from '../runtime';

const analyticsTable = requireEnv('ANALYTICS_TABLE_NAME');

/**
 * Each minute's totals are split over this many items, so the set of counted order IDs in one item stays far
 * below DynamoDB's 400 KB item limit (about 2,000 IDs per item at 300 orders/s).
 */
export const SLOTS_PER_MINUTE = 8;

/** Per-minute order count and revenue; each order counted once, however many events announce it. */
export const handler = createStreamConsumer({
  events: {
    OrderPlaced: defineEventHandler({
      schema: OrderPlacedSchema,
      idempotencyKey: 'orderId',
      handle: async (order) => {
        await addOnce({
          tableName: analyticsTable,
          key: { minute: order.placedAt.slice(0, 16), slot: markerSlot(order.orderId, SLOTS_PER_MINUTE) },
          markerAttribute: 'orderIds',
          marker: order.orderId,
          counters: { orderCount: 1, revenueCents: order.quantity * order.unitPriceCents },
        });
      },
    }),
  },
});
