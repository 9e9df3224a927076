import { CfnParameter, Duration, Lazy, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { describe, expect, test } from 'vitest';
import { describeSeconds, isResolvedDuration, isResolvedNumber, PropsValidator } from '../../lib/validation';
import { createTestStack } from '../helpers/template';

/** A construct at 'TestStack/Thing' to report errors against. */
function thing(): Construct {
  const { stack } = createTestStack();
  return new Construct(stack, 'Thing');
}

/** A number Token, as a CloudFormation parameter gives one. */
function numberToken(): number {
  const { stack } = createTestStack();
  return Token.asNumber(new CfnParameter(stack, 'P', { type: 'Number' }).valueAsNumber);
}

describe('describeSeconds', () => {
  test.each([
    [0, '0 seconds'],
    [1, '1 second'],
    [1.5, '1.5 seconds'],
    [90, '90 seconds'],
    [119, '119 seconds'],
    [120, '120 seconds (2 minutes)'],
    [900, '900 seconds (15 minutes)'],
    [43_200, '43200 seconds (720 minutes)'],
    [86_400, '86400 seconds (24 hours)'],
    [86_460, '86460 seconds (1441 minutes)'],
    [1_209_600, '1209600 seconds (336 hours)'],
  ])('GIVEN %d seconds THEN it reads %j', (seconds, expected) => {
    // WHEN
    const described = describeSeconds(seconds);

    // THEN
    expect(described).toBe(expected);
  });
});

describe('PropsValidator', () => {
  test('GIVEN no recorded problem WHEN throwIfInvalid THEN it does not throw', () => {
    // GIVEN
    const validator = new PropsValidator()
      .integerInRange('batchSize', 10, 1, 10)
      .integerAtLeast('count', 0, 0)
      .durationInRange('timeout', Duration.minutes(15), 1, 900)
      .check(false, 'never recorded');

    // WHEN / THEN
    expect(() => validator.throwIfInvalid(thing(), 'Thing')).not.toThrow();
  });

  test('GIVEN unset values WHEN validated THEN nothing is recorded', () => {
    // GIVEN
    const validator = new PropsValidator()
      .integerInRange('batchSize', undefined, 1, 10)
      .integerAtLeast('count', undefined, 0)
      .durationInRange('timeout', undefined, 1, 900);

    // WHEN / THEN
    expect(() => validator.throwIfInvalid(thing(), 'Thing')).not.toThrow();
  });

  test('GIVEN unresolved Tokens WHEN validated THEN they are skipped', () => {
    // GIVEN
    const token = numberToken();
    const lazy = Lazy.number({ produce: () => 1_000_000 });
    const validator = new PropsValidator()
      .integerInRange('batchSize', token, 1, 10)
      .integerInRange('lazyBatchSize', lazy, 1, 10)
      .integerAtLeast('count', token, 0)
      .durationInRange('timeout', Duration.seconds(token), 1, 900);

    // WHEN / THEN
    expect(() => validator.throwIfInvalid(thing(), 'Thing')).not.toThrow();
  });

  test('fails when an integer is below its range', () => {
    // GIVEN
    const validator = new PropsValidator().integerInRange('batchSize', 0, 1, 10);

    // WHEN / THEN
    expect(() => validator.throwIfInvalid(thing(), 'Thing')).toThrow(
      "Thing at 'TestStack/Thing' has invalid props:\n  - batchSize must be an integer from 1 to 10, got 0",
    );
  });

  test('fails when an integer is above its range, and names the context', () => {
    // GIVEN
    const validator = new PropsValidator().integerInRange('batchSize', 11, 1, 10, ' for a FIFO queue');

    // WHEN / THEN
    expect(() => validator.throwIfInvalid(thing(), 'Thing')).toThrow(
      "Thing at 'TestStack/Thing' has invalid props:\n  - batchSize must be an integer from 1 to 10 for a FIFO queue, got 11",
    );
  });

  test('fails when an integer in range is fractional', () => {
    // GIVEN
    const validator = new PropsValidator().integerInRange('batchSize', 2.5, 1, 10);

    // WHEN / THEN
    expect(() => validator.throwIfInvalid(thing(), 'Thing')).toThrow(
      "Thing at 'TestStack/Thing' has invalid props:\n  - batchSize must be an integer from 1 to 10, got 2.5",
    );
  });

  test('fails when an integer is below its minimum', () => {
    // GIVEN
    const validator = new PropsValidator().integerAtLeast('count', -1, 0, ' (a count)');

    // WHEN / THEN
    expect(() => validator.throwIfInvalid(thing(), 'Thing')).toThrow(
      "Thing at 'TestStack/Thing' has invalid props:\n  - count must be an integer of 0 or more (a count), got -1",
    );
  });

  test('fails when an integer with a minimum is fractional', () => {
    // GIVEN
    const validator = new PropsValidator().integerAtLeast('count', 0.5, 0);

    // WHEN / THEN
    expect(() => validator.throwIfInvalid(thing(), 'Thing')).toThrow(
      "Thing at 'TestStack/Thing' has invalid props:\n  - count must be an integer of 0 or more, got 0.5",
    );
  });

  test('fails when a duration is above its range, and describes both ends and the value', () => {
    // GIVEN
    const validator = new PropsValidator().durationInRange('timeout', Duration.seconds(901), 1, 900);

    // WHEN / THEN
    expect(() => validator.throwIfInvalid(thing(), 'Thing')).toThrow(
      "Thing at 'TestStack/Thing' has invalid props:\n  - timeout must be a whole number of seconds from 1 second to 900 seconds (15 minutes), got 901 seconds",
    );
  });

  test('fails when a duration is below its range', () => {
    // GIVEN
    const validator = new PropsValidator().durationInRange('retention', Duration.hours(23), 86_400, 604_800, ' here');

    // WHEN / THEN
    expect(() => validator.throwIfInvalid(thing(), 'Thing')).toThrow(
      "Thing at 'TestStack/Thing' has invalid props:\n  - retention must be a whole number of seconds from 86400 seconds (24 hours) to 604800 seconds (168 hours) here, got 82800 seconds (1380 minutes)",
    );
  });

  test('fails when a duration in range is not a whole number of seconds', () => {
    // GIVEN
    const validator = new PropsValidator().durationInRange('timeout', Duration.millis(1_500), 1, 900);

    // WHEN / THEN
    expect(() => validator.throwIfInvalid(thing(), 'Thing')).toThrow(
      "Thing at 'TestStack/Thing' has invalid props:\n  - timeout must be a whole number of seconds from 1 second to 900 seconds (15 minutes), got 1.5 seconds",
    );
  });

  test('fails when a check fails, with its message as given', () => {
    // GIVEN
    const validator = new PropsValidator().check(true, 'name must be unique');

    // WHEN / THEN
    expect(() => validator.throwIfInvalid(thing(), 'Thing')).toThrow(
      "Thing at 'TestStack/Thing' has invalid props:\n  - name must be unique",
    );
  });

  test('fails when several rules fail, with every problem in one error in the order recorded', () => {
    // GIVEN
    const validator = new PropsValidator()
      .integerInRange('batchSize', 0, 1, 10)
      .check(false, 'not recorded')
      .integerAtLeast('count', -2, 0)
      .durationInRange('timeout', Duration.seconds(0), 1, 900)
      .check(true, 'name must be unique');

    // WHEN / THEN
    expect(() => validator.throwIfInvalid(thing(), 'Thing')).toThrow(
      "Thing at 'TestStack/Thing' has invalid props:\n" +
        '  - batchSize must be an integer from 1 to 10, got 0\n' +
        '  - count must be an integer of 0 or more, got -2\n' +
        '  - timeout must be a whole number of seconds from 1 second to 900 seconds (15 minutes), got 0 seconds\n' +
        '  - name must be unique',
    );
  });
});

describe('isResolvedNumber and isResolvedDuration', () => {
  test('GIVEN plain values THEN they are resolved', () => {
    expect(isResolvedNumber(0)).toBe(true);
    expect(isResolvedDuration(Duration.seconds(0))).toBe(true);
  });

  test('GIVEN unset values THEN they are not resolved', () => {
    expect(isResolvedNumber(undefined)).toBe(false);
    expect(isResolvedDuration(undefined)).toBe(false);
  });

  test('GIVEN Tokens THEN they are not resolved', () => {
    // GIVEN
    const token = numberToken();

    // THEN
    expect(isResolvedNumber(token)).toBe(false);
    expect(isResolvedDuration(Duration.seconds(token))).toBe(false);
  });
});
