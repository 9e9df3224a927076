import { ORDER_PLACED, type OrderPlaced, type PlaceOrderRequest } from '../events/order-placed';

/** The `OrderPlaced` event the order API publishes for an accepted `request`, with its new ID and time. */
export function orderPlacedEvent(request: PlaceOrderRequest, eventId: string, placedAt: string): OrderPlaced {
  return { ...request, type: ORDER_PLACED, eventId, placedAt };
}
