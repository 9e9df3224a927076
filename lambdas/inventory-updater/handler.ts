import {
  addOnce,
  createStreamConsumer,
  defineEventHandler,
  markerSlot,
  pinFirst,
  requireEnv,
} from 'cdk-eda-kit/runtime';
import { OrderPlacedSchema } from '../events/order-placed';

const inventoryTable = requireEnv('INVENTORY_TABLE_NAME');

/** A SKU's reservations of one minute are split over this many items (see `markerSlot`). */
export const SLOTS_PER_MINUTE = 8;

/**
 * The item of a SKU's reservations an order counts in: the minute it was placed, then its share of that minute.
 * A SKU's reserved stock is the sum over its items (one Query).
 */
export function reservationSlot(order: { readonly orderId: string; readonly placedAt: string }): number {
  const minute = Math.floor(Date.parse(order.placedAt) / 60_000);
  return minute * SLOTS_PER_MINUTE + markerSlot(order.orderId, SLOTS_PER_MINUTE);
}

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
      idempotencyKey: 'orderId',
      handle: async (order) => {
        // The item of the order's first event: a producer's retry (new placedAt) reserves in the same item.
        const key = await pinFirst({
          tableName: inventoryTable,
          key: { sku: `order#${order.orderId}`, slot: 0 },
          value: { sku: order.sku, slot: reservationSlot(order) },
        });
        await addOnce({
          tableName: inventoryTable,
          key,
          markerAttribute: 'orderIds',
          marker: order.orderId,
          counters: { reserved: order.quantity, orderCount: 1 },
        });
      },
    }),
  },
});
