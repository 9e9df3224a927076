import { OrderPlacedSchema } from '../events/order-placed';
import { createStreamConsumer, putIfAbsent, requireEnv } from '../runtime';

const auditLogTable = requireEnv('AUDIT_LOG_TABLE_NAME');

/** Writes one audit entry per event, with where it was read from. */
export const handler = createStreamConsumer({
  schema: OrderPlacedSchema,
  idempotencyKey: 'eventId',
  handleRecord: async (event, source) => {
    await putIfAbsent(auditLogTable, 'eventId', {
      eventId: event.eventId,
      type: event.type,
      orderId: event.orderId,
      occurredAt: event.placedAt,
      source: source.id,
      recordedAt: new Date().toISOString(),
    });
  },
});
