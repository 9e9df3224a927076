import * as v from 'valibot';

/** The event type every order event carries. */
export const ORDER_PLACED = 'OrderPlaced';

/** What a client sends to the order API. `orderId` is the client's: a retried request keeps it. */
export const PlaceOrderRequestSchema = v.strictObject({
  orderId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9-]{1,64}$/, 'orderId: 1 to 64 letters, digits or dashes')),
  customerId: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  customerEmail: v.pipe(v.string(), v.email()),
  sku: v.pipe(v.string(), v.regex(/^[A-Z0-9-]{1,32}$/, 'sku: 1 to 32 capital letters, digits or dashes')),
  quantity: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000)),
  unitPriceCents: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(10_000_000)),
  currency: v.picklist(['EUR', 'USD', 'GBP']),
});

/** A request to place an order. */
export type PlaceOrderRequest = v.InferOutput<typeof PlaceOrderRequestSchema>;

/** `OrderPlaced`: the order API publishes it once per accepted request, with a new `eventId` each time. */
export const OrderPlacedSchema = v.strictObject({
  ...PlaceOrderRequestSchema.entries,
  type: v.literal(ORDER_PLACED),
  eventId: v.pipe(v.string(), v.uuid()),
  placedAt: v.pipe(v.string(), v.isoTimestamp()),
});

/** An `OrderPlaced` event. */
export type OrderPlaced = v.InferOutput<typeof OrderPlacedSchema>;
