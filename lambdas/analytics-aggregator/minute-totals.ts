import { markerSlot } from 'cdk-eda-kit/runtime';
import type { OrderPlaced } from '../events/order-placed';

/** The field of an `OrderPlaced` event the analytics aggregator is idempotent by: each order counted once. */
export const IDEMPOTENCY_KEY = 'orderId';

/**
 * Each minute's totals are split over this many items (a reader adds up one partition). An update is billed on the
 * size of its item, set of counted order IDs included: at 300 orders/s a slot collects about 70 IDs (2.5 KB, one to
 * three write units per order) where 8 slots would collect 2,250 (80 KB, 40 units on average, and DynamoDB's
 * 400 KB item limit near 1,400 orders/s).
 */
export const SLOTS_PER_MINUTE = 256;

/** The key of an item of a minute's totals. */
export type MinuteTotalsKey = { readonly minute: string; readonly slot: number };

/**
 * The pin of an order's count (for `pinFirst`): at `minute` = `order#<orderId>`, the item of the order's first
 * event, so that a producer's retry (a new `placedAt`) counts in the same item.
 */
export function minuteTotalsPin(order: OrderPlaced): {
  readonly key: { readonly minute: string; readonly slot: number };
  readonly value: MinuteTotalsKey;
} {
  return {
    key: { minute: `order#${order.orderId}`, slot: 0 },
    value: { minute: order.placedAt.slice(0, 16), slot: markerSlot(order.orderId, SLOTS_PER_MINUTE) },
  };
}

/** What an order adds to the minute's totals at `key` (for `addOnce`): one order and its revenue, counted once. */
export function minuteTotals(
  order: OrderPlaced,
  key: MinuteTotalsKey,
): {
  readonly key: MinuteTotalsKey;
  readonly markerAttribute: 'orderIds';
  readonly marker: string;
  readonly counters: { readonly orderCount: number; readonly revenueCents: number };
} {
  return {
    key,
    markerAttribute: 'orderIds',
    marker: order.orderId,
    counters: { orderCount: 1, revenueCents: order.quantity * order.unitPriceCents },
  };
}
