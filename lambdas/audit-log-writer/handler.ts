import { createStreamConsumer, defineEventHandler, putIfAbsent, requireEnv } from 'cdk-eda-kit/runtime';
import { OrderPlacedSchema } from '../events/order-placed';

const auditLogTable = requireEnv('AUDIT_LOG_TABLE_NAME');

/** Writes one audit entry per event (a producer's retry is a second event, and is audited), with its source. */
export const handler = createStreamConsumer({
  events: {
    OrderPlaced: defineEventHandler({
      schema: OrderPlacedSchema,
      idempotencyKey: 'eventId',
      handle: async (event, { source }) => {
        await putIfAbsent(auditLogTable, 'eventId', {
          eventId: event.eventId,
          type: event.type,
          orderId: event.orderId,
          occurredAt: event.placedAt,
          source: source.id,
          recordedAt: new Date().toISOString(),
        });
      },
    }),
  },
});
