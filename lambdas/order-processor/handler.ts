import { createQueueConsumer, defineEventHandler, putIfAbsent, requireEnv } from 'cdk-eda-kit/runtime';
import { OrderPlacedSchema } from '../events/order-placed';
import { IDEMPOTENCY_KEY, orderItem } from './order-item';

const ordersTable = requireEnv('ORDERS_TABLE_NAME');

/** Creates each order exactly once, keyed by its order ID: a producer's retry carries the same order ID. */
export const handler = createQueueConsumer({
  events: {
    OrderPlaced: defineEventHandler({
      schema: OrderPlacedSchema,
      idempotencyKey: IDEMPOTENCY_KEY,
      handle: async (order) => {
        await putIfAbsent(ordersTable, 'orderId', orderItem(order));
      },
    }),
  },
});
