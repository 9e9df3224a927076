import { createQueueConsumer, defineEventHandler, requireEnv } from 'cdk-eda-kit/runtime';
import { OrderPlacedSchema } from '../events/order-placed';
import { confirmationEmail, IDEMPOTENCY_KEY } from './confirmation-email';
import { type MailProvider, RecordingMailProvider } from './mail-provider';

const mail: MailProvider = new RecordingMailProvider(requireEnv('SENT_EMAILS_TABLE_NAME'));

/** Sends one confirmation email per order. */
export const handler = createQueueConsumer({
  events: {
    OrderPlaced: defineEventHandler({
      schema: OrderPlacedSchema,
      idempotencyKey: IDEMPOTENCY_KEY,
      handle: async (order) => {
        await mail.send(confirmationEmail(order));
      },
    }),
  },
});
