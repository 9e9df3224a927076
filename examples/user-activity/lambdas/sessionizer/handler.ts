import { addOnce, createStreamConsumer, defineEventHandler, requireEnv } from 'cdk-eda-kit/runtime';
import * as v from 'valibot';

/**
 * `PageViewed`: one click of the clickstream. Not a strict object: the web tracker adds fields over time, and a
 * field this consumer does not know is no reason to dead-letter the click.
 */
export const PageViewedSchema = v.object({
  type: v.literal('PageViewed'),
  clickId: v.pipe(v.string(), v.uuid()),
  sessionId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,64}$/, 'sessionId: 8 to 64 letters, digits, _ or -')),
  path: v.pipe(v.string(), v.startsWith('/'), v.maxLength(2_048)),
  viewedAt: v.pipe(v.string(), v.isoTimestamp()),
});

const sessionsTable = requireEnv('SESSIONS_TABLE_NAME');

/**
 * Counts each session's page views, each click once: the click ID is both the idempotency key and the marker
 * `addOnce` records in the session's item, so neither a redelivered batch nor a tracker's retry counts twice.
 * A session is short (its clicks stay far below the 400 KB an item may hold), so one item per session suffices.
 */
export const handler = createStreamConsumer({
  correlationIdField: 'clickId',
  events: {
    PageViewed: defineEventHandler({
      schema: PageViewedSchema,
      idempotencyKey: 'clickId',
      handle: async (click) => {
        await addOnce({
          tableName: sessionsTable,
          key: { sessionId: click.sessionId },
          markerAttribute: 'clickIds',
          marker: click.clickId,
          counters: { pageViews: 1 },
        });
      },
    }),
  },
});
