import { createQueueConsumer, defineEventHandler, putIfAbsent, requireEnv } from 'cdk-eda-kit/runtime';
import * as v from 'valibot';

/** `UserSignedUp`: the sign-up service publishes it once a user has confirmed their address. */
export const UserSignedUpSchema = v.object({
  type: v.literal('UserSignedUp'),
  eventId: v.pipe(v.string(), v.uuid()),
  userId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'userId: 1 to 64 letters, digits, _ or -')),
  email: v.pipe(v.string(), v.email()),
  displayName: v.pipe(v.string(), v.minLength(1), v.maxLength(100)),
  locale: v.optional(v.picklist(['en', 'de', 'fr']), 'en'),
  signedUpAt: v.pipe(v.string(), v.isoTimestamp()),
});

const GREETINGS = { en: 'Welcome', de: 'Willkommen', fr: 'Bienvenue' } as const;

const welcomeEmailsTable = requireEnv('WELCOME_EMAILS_TABLE_NAME');

/**
 * Queues one welcome email per user, keyed by the user ID: a sign-up announced twice (the producer retried, or the
 * queue redelivered) is welcomed once. The email goes into an outbox table that a mail sender reads.
 */
export const handler = createQueueConsumer({
  events: {
    UserSignedUp: defineEventHandler({
      schema: UserSignedUpSchema,
      idempotencyKey: 'userId',
      handle: async (user, { logger }) => {
        const created = await putIfAbsent(welcomeEmailsTable, 'userId', {
          userId: user.userId,
          to: user.email,
          subject: `${GREETINGS[user.locale]}, ${user.displayName}!`,
          locale: user.locale,
          signedUpAt: user.signedUpAt,
          queuedAt: new Date().toISOString(),
        });
        if (!created) logger.info('welcome email already queued', { userId: user.userId });
      },
    }),
  },
});
