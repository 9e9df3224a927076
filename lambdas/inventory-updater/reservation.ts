import { markerSlot } from 'cdk-eda-kit/runtime';
import type { OrderPlaced } from '../events/order-placed';

/** The field of an `OrderPlaced` event the inventory updater is idempotent by: one reservation per order. */
export const IDEMPOTENCY_KEY = 'orderId';

/** A SKU's reservations of one minute are split over this many items (see `markerSlot`). */
export const SLOTS_PER_MINUTE = 8;

/** The key of an item of a SKU's reservations. */
export type ReservationKey = { readonly sku: string; readonly slot: number };

/**
 * The item of a SKU's reservations an order counts in: the minute it was placed, then its share of that minute.
 * A SKU's reserved stock is the sum over its items (one Query).
 */
export function reservationSlot(order: { readonly orderId: string; readonly placedAt: string }): number {
  const minute = Math.floor(Date.parse(order.placedAt) / 60_000);
  return minute * SLOTS_PER_MINUTE + markerSlot(order.orderId, SLOTS_PER_MINUTE);
}

/**
 * The pin of an order's reservation (for `pinFirst`): at `sku` = `order#<orderId>`, the item of the order's first
 * event, so that a producer's retry (a new `placedAt`) reserves in the same item.
 */
export function reservationPin(order: OrderPlaced): {
  readonly key: { readonly sku: string; readonly slot: number };
  readonly value: ReservationKey;
} {
  return { key: { sku: `order#${order.orderId}`, slot: 0 }, value: { sku: order.sku, slot: reservationSlot(order) } };
}

/** What an order adds to the reservations item at `key` (for `addOnce`): its quantity, counted once by order ID. */
export function reservation(
  order: OrderPlaced,
  key: ReservationKey,
): {
  readonly key: ReservationKey;
  readonly markerAttribute: 'orderIds';
  readonly marker: string;
  readonly counters: { readonly reserved: number; readonly orderCount: number };
} {
  return {
    key,
    markerAttribute: 'orderIds',
    marker: order.orderId,
    counters: { reserved: order.quantity, orderCount: 1 },
  };
}
