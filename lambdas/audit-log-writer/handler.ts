import { createStreamConsumer, defineEventHandler, putIfAbsent, requireEnv } from 'cdk-eda-kit/runtime';
import { OrderPlacedSchema } from '../events/order-placed';
import { auditEntry, IDEMPOTENCY_KEY } from './audit-entry';

const auditLogTable = requireEnv('AUDIT_LOG_TABLE_NAME');

/** Writes one audit entry per event (a producer's retry is a second event, and is audited), with its source. */
export const handler = createStreamConsumer({
  events: {
    OrderPlaced: defineEventHandler({
      schema: OrderPlacedSchema,
      idempotencyKey: IDEMPOTENCY_KEY,
      handle: async (event, { source }) => {
        await putIfAbsent(auditLogTable, 'eventId', auditEntry(event, source.id, new Date().toISOString()));
      },
    }),
  },
});
