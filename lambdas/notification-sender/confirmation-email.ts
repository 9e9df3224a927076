import type { OrderPlaced } from '../events/order-placed';
import type { MailMessage } from './mail-provider';

/** The field of an `OrderPlaced` event the notification sender is idempotent by: one email per order. */
export const IDEMPOTENCY_KEY = 'orderId';

/** The confirmation email of `order`: one per order, identified by the order's ID. */
export function confirmationEmail(order: OrderPlaced): MailMessage {
  const total = ((order.quantity * order.unitPriceCents) / 100).toFixed(2);
  return {
    messageId: `order-confirmation#${order.orderId}`,
    to: order.customerEmail,
    subject: `Your order ${order.orderId} is confirmed`,
    text: `Thank you for your order of ${order.quantity} x ${order.sku}: ${total} ${order.currency}.`,
  };
}
