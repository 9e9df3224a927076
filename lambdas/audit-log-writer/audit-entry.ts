import type { OrderPlaced } from '../events/order-placed';

/** The field of an `OrderPlaced` event the audit log writer is idempotent by: every event, a retry included. */
export const IDEMPOTENCY_KEY = 'eventId';

/** An entry of the audit log, keyed by `eventId`: one per event, a producer's retry included. */
export type AuditEntry = {
  readonly eventId: string;
  readonly type: string;
  readonly orderId: string;
  readonly occurredAt: string;
  /** Where the record was read (`shardId:sequenceNumber`). */
  readonly source: string;
  /** When it was written (ISO 8601). */
  readonly recordedAt: string;
};

/** The audit entry of `event`, read at `source` and recorded at `recordedAt` (ISO 8601). */
export function auditEntry(event: OrderPlaced, source: string, recordedAt: string): AuditEntry {
  return {
    eventId: event.eventId,
    type: event.type,
    orderId: event.orderId,
    occurredAt: event.placedAt,
    source,
    recordedAt,
  };
}
