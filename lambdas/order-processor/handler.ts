import { createQueueConsumer, defineEventHandler, putIfAbsent, requireEnv } from 'cdk-eda-kit/runtime';
import { OrderPlacedSchema } from '../events/order-placed';

const ordersTable = requireEnv('ORDERS_TABLE_NAME');

/** Creates each order exactly once, keyed by its order ID: a producer's retry carries the same order ID. */
export const handler = createQueueConsumer({
  events: {
    OrderPlaced: defineEventHandler({
      schema: OrderPlacedSchema,
      idempotencyKey: 'orderId',
      handle: async (order) => {
        await putIfAbsent(ordersTable, 'orderId', {
          orderId: order.orderId,
          customerId: order.customerId,
          sku: order.sku,
          quantity: order.quantity,
          totalCents: order.quantity * order.unitPriceCents,
          currency: order.currency,
          status: 'CREATED',
          placedAt: order.placedAt,
          createdByEventId: order.eventId,
        });
      },
    }),
  },
});
