import {
  addOnce,
  createStreamConsumer,
  defineEventHandler,
  markerSlot,
  pinFirst,
  requireEnv,
} from 'cdk-eda-kit/runtime';
import { OrderPlacedSchema } from '../events/order-placed';

const analyticsTable = requireEnv('ANALYTICS_TABLE_NAME');

/**
 * Each minute's totals are split over this many items (a reader adds up one partition). An update is billed on the
 * size of its item, set of counted order IDs included: at 300 orders/s a slot collects about 70 IDs (2.5 KB, one to
 * three write units per order) where 8 slots would collect 2,250 (80 KB, 40 units on average, and DynamoDB's
 * 400 KB item limit near 1,400 orders/s).
 */
export const SLOTS_PER_MINUTE = 256;

/**
 * Per-minute order count and revenue; each order counted once, however many events announce it. The table also
 * holds one pin per order (`minute` = `order#<orderId>`): the item its count went to.
 */
export const handler = createStreamConsumer({
  events: {
    OrderPlaced: defineEventHandler({
      schema: OrderPlacedSchema,
      idempotencyKey: 'orderId',
      handle: async (order) => {
        // The minute of the order's first event: a producer's retry (new placedAt) counts in the same item.
        const key = await pinFirst({
          tableName: analyticsTable,
          key: { minute: `order#${order.orderId}`, slot: 0 },
          value: { minute: order.placedAt.slice(0, 16), slot: markerSlot(order.orderId, SLOTS_PER_MINUTE) },
        });
        await addOnce({
          tableName: analyticsTable,
          key,
          markerAttribute: 'orderIds',
          marker: order.orderId,
          counters: { orderCount: 1, revenueCents: order.quantity * order.unitPriceCents },
        });
      },
    }),
  },
});
