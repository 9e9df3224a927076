import { addOnce, createStreamConsumer, defineEventHandler, pinFirst, requireEnv } from 'cdk-eda-kit/runtime';
import { OrderPlacedSchema } from '../events/order-placed';
import { IDEMPOTENCY_KEY, minuteTotals, minuteTotalsPin } from './minute-totals';

const analyticsTable = requireEnv('ANALYTICS_TABLE_NAME');

/**
 * Per-minute order count and revenue; each order counted once, however many events announce it. The table also
 * holds one pin per order (`minute` = `order#<orderId>`): the item its count went to.
 */
export const handler = createStreamConsumer({
  events: {
    OrderPlaced: defineEventHandler({
      schema: OrderPlacedSchema,
      idempotencyKey: IDEMPOTENCY_KEY,
      handle: async (order) => {
        // The minute of the order's first event: a producer's retry (new placedAt) counts in the same item.
        const key = await pinFirst({ tableName: analyticsTable, ...minuteTotalsPin(order) });
        await addOnce({ tableName: analyticsTable, ...minuteTotals(order, key) });
      },
    }),
  },
});
