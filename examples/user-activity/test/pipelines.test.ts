import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { LocalCloud } from 'cdk-eda-kit/local';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/**
 * Both pipelines, end to end on the kit's local cloud: the app is synthesized from its own cdk.json, every queue,
 * stream and table is created in embedded emulators, and both handlers run from their bundles with the event
 * source mappings' semantics. No Docker, no AWS account.
 */
describe('user activity on the local cloud', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await LocalCloud.start({ appDir: path.join(__dirname, '..') });
  }, 120_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  const signUp = (userId: string) => ({
    type: 'UserSignedUp',
    eventId: randomUUID(),
    userId,
    email: `${userId}@example.com`,
    displayName: 'Ada',
    locale: 'fr',
    signedUpAt: new Date().toISOString(),
  });

  test('a sign-up sent twice is welcomed once', async () => {
    const signUps = cloud.queue('SignUps/Queue');
    const event = signUp('u-twice');
    await signUps.send(event);
    await signUps.send(event);

    await cloud.waitForRest();

    const emails = await cloud.table('WelcomeEmails').scan();
    expect(emails.filter((email) => email.userId === 'u-twice')).toEqual([
      expect.objectContaining({ to: 'u-twice@example.com', subject: 'Bienvenue, Ada!' }),
    ]);
    expect(cloud.function('welcome-email').metrics()).toMatchObject({ ProcessedRecords: 1, DuplicateRecords: 1 });
  });

  test('a sign-up that breaks the schema lands in the dead-letter queue with its reason, and blocks nothing', async () => {
    const signUps = cloud.queue('SignUps/Queue');
    await signUps.send({ ...signUp('not a valid id!'), email: 'nowhere' });
    await signUps.send(signUp('u-after-poison'));

    await cloud.waitForRest();

    const deadLetters = await cloud.queue('SignUps/DeadLetterQueue').messages();
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0].error).toBe('SchemaViolationError');
    expect(deadLetters[0].reason).toMatch(/userId: 1 to 64 letters, digits, _ or -/);
    expect(JSON.parse(deadLetters[0].body)).toMatchObject({ userId: 'not a valid id!' });
    const emails = await cloud.table('WelcomeEmails').scan();
    expect(emails.map((email) => email.userId)).toContain('u-after-poison');
    expect(cloud.function('welcome-email').logs('SchemaViolationError').length).toBeGreaterThan(0);
  });

  test('clicks are counted once per session, a replayed click included', async () => {
    const clickstream = cloud.stream('Clickstream/Stream');
    const click = (path: string) => ({
      type: 'PageViewed',
      clickId: randomUUID(),
      sessionId: 's-0123456789',
      path,
      viewedAt: new Date().toISOString(),
    });
    const pricing = click('/pricing');
    for (const record of [click('/'), pricing, pricing, click('/signup')])
      await clickstream.put(record, 's-0123456789');

    await cloud.waitForRest();

    const sessions = await cloud.table('Sessions').scan();
    expect(sessions).toEqual([expect.objectContaining({ sessionId: 's-0123456789', pageViews: 3 })]);
    expect(cloud.function('sessionizer').metrics()).toMatchObject({ ProcessedRecords: 3, DuplicateRecords: 1 });
  });
});
