import { OrderPlacedSchema } from '../events/order-placed';
import { addOnce, createStreamConsumer, defineEventHandler, markerSlot, requireEnv } from '../runtime';

const analyticsTable = requireEnv('ANALYTICS_TABLE_NAME');

/**
 * Each minute's totals are split over this many items (a reader adds up one partition). An update is billed on the
 * size of its item, set of counted order IDs included: at 300 orders/s a slot collects about 70 IDs (2.5 KB, one to
 * three write units per order) where 8 slots would collect 2,250 (80 KB, 40 units on average, and DynamoDB's
 * 400 KB item limit near 1,400 orders/s).
 */
export const SLOTS_PER_MINUTE = 256;

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
