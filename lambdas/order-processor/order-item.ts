import type { OrderPlaced } from '../events/order-placed';

/** The field of an `OrderPlaced` event the order processor is idempotent by: a producer's retry repeats it. */
export const IDEMPOTENCY_KEY = 'orderId';

/** An order as the orders table holds it, keyed by `orderId`. */
export type OrderItem = {
  readonly orderId: string;
  readonly customerId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly totalCents: number;
  readonly currency: string;
  readonly status: 'CREATED';
  readonly placedAt: string;
  /** The event that created it: the first of the order's events to arrive. */
  readonly createdByEventId: string;
};

/** The item the order processor creates for `order` (once: a producer's retry finds it there). */
export function orderItem(order: OrderPlaced): OrderItem {
  return {
    orderId: order.orderId,
    customerId: order.customerId,
    sku: order.sku,
    quantity: order.quantity,
    totalCents: order.quantity * order.unitPriceCents,
    currency: order.currency,
    status: 'CREATED',
    placedAt: order.placedAt,
    createdByEventId: order.eventId,
  };
}
