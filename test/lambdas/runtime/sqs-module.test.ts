import { expect, test } from 'vitest';
import { loadSqsModule } from '../../../lambdas/runtime/sqs-module';

test('GIVEN the first dead letter THEN the SQS client module is loaded once, and every later call gets the same', async () => {
  // Act
  const first = loadSqsModule();
  const second = loadSqsModule();

  // Assess
  expect(second).toBe(first);
  const sqs = await first;
  expect(typeof sqs.SQSClient).toBe('function');
  expect(typeof sqs.SendMessageCommand).toBe('function');
});
