import { addOnce, createStreamConsumer, defineEventHandler, pinFirst, requireEnv } from 'cdk-eda-kit/runtime';
import { OrderPlacedSchema } from '../events/order-placed';
import { IDEMPOTENCY_KEY, reservation, reservationPin } from './reservation';

const inventoryTable = requireEnv('INVENTORY_TABLE_NAME');

/**
 * Reserves stock once per order (a producer's retry is a new event of the same order). Reservations add up in any
 * order, so each one is counted by its order ID rather than guarded by sequence number: a record the event source
 * skipped after its retries and an operator replays later (`eda-kit replay`) still counts, after newer records of
 * the same SKU. A sequence guard (`applyIfNewer`) would refuse it as older; it suits effects where the last write
 * wins, not sums. The table also holds one pin per order (`sku` = `order#<orderId>`): the item it reserved in.
 */
export const handler = createStreamConsumer({
  events: {
    OrderPlaced: defineEventHandler({
      schema: OrderPlacedSchema,
      idempotencyKey: IDEMPOTENCY_KEY,
      handle: async (order) => {
        // The item of the order's first event: a producer's retry (new placedAt) reserves in the same item.
        const key = await pinFirst({ tableName: inventoryTable, ...reservationPin(order) });
        await addOnce({ tableName: inventoryTable, ...reservation(order, key) });
      },
    }),
  },
});
