import { createQueueConsumer, defineEventHandler, requireEnv } from 'cdk-eda-kit/runtime';
import { OrderPlacedSchema } from '../events/order-placed';
import { type MailProvider, RecordingMailProvider } from './mail-provider';

const mail: MailProvider = new RecordingMailProvider(requireEnv('SENT_EMAILS_TABLE_NAME'));

/** Sends one confirmation email per order. */
export const handler = createQueueConsumer({
  events: {
    OrderPlaced: defineEventHandler({
      schema: OrderPlacedSchema,
      idempotencyKey: 'orderId',
      handle: async (order) => {
        const total = ((order.quantity * order.unitPriceCents) / 100).toFixed(2);
        await mail.send({
          messageId: `order-confirmation#${order.orderId}`,
          to: order.customerEmail,
          subject: `Your order ${order.orderId} is confirmed`,
          text: `Thank you for your order of ${order.quantity} x ${order.sku}: ${total} ${order.currency}.`,
        });
      },
    }),
  },
});
