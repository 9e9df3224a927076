import { type Duration, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Collects every invalid prop of one construct and reports them together, so a user fixes
 * them in one pass instead of one synth per mistake.
 *
 * Values that are unresolved Tokens are skipped: they are only known at deploy time.
 */
export class PropsValidator {
  private readonly errors: string[] = [];

  /** Fails when `value` is set, resolved, and not an integer in [min, max]. */
  public integerInRange(prop: string, value: number | undefined, min: number, max: number, context = ''): this {
    if (value === undefined || Token.isUnresolved(value)) return this;
    if (!Number.isInteger(value) || value < min || value > max) {
      this.errors.push(`${prop} must be an integer from ${min} to ${max}${context}, got ${value}`);
    }
    return this;
  }

  /** Fails when `value` is set, resolved, and not an integer of at least `min`. */
  public integerAtLeast(prop: string, value: number | undefined, min: number, context = ''): this {
    if (value === undefined || Token.isUnresolved(value)) return this;
    if (!Number.isInteger(value) || value < min) {
      this.errors.push(`${prop} must be an integer of ${min} or more${context}, got ${value}`);
    }
    return this;
  }

  /** Fails when `value` is set, resolved, and not a whole number of seconds in [minSeconds, maxSeconds]. */
  public durationInRange(
    prop: string,
    value: Duration | undefined,
    minSeconds: number,
    maxSeconds: number,
    context = '',
  ): this {
    if (value === undefined || value.isUnresolved()) return this;
    const seconds = value.toMilliseconds() / 1000;
    if (seconds < minSeconds || seconds > maxSeconds || !Number.isInteger(seconds)) {
      this.errors.push(
        `${prop} must be a whole number of seconds from ${describeSeconds(minSeconds)} to ${describeSeconds(maxSeconds)}${context}, got ${describeSeconds(seconds)}`,
      );
    }
    return this;
  }

  /** Records `message` when `failed` is true. */
  public check(failed: boolean, message: string): this {
    if (failed) this.errors.push(message);
    return this;
  }

  /** Throws one error that lists every recorded problem, if there is any. */
  public throwIfInvalid(scope: IConstruct, constructName: string): void {
    if (this.errors.length === 0) return;
    const list = this.errors.map((error) => `  - ${error}`).join('\n');
    throw new Error(`${constructName} at '${scope.node.path}' has invalid props:\n${list}`);
  }
}

/** `90` -> `90 seconds (1.5 minutes)`, so a message is readable for large values. */
export function describeSeconds(seconds: number): string {
  const plain = `${seconds} second${seconds === 1 ? '' : 's'}`;
  if (seconds >= 86_400 && seconds % 3_600 === 0) return `${plain} (${seconds / 3_600} hours)`;
  if (seconds >= 120 && seconds % 60 === 0) return `${plain} (${seconds / 60} minutes)`;
  return plain;
}

/**
 * A prop's value as a message shows it: a duration in words, a construct by its path, pass-through options by the
 * options they set. Duck-typed, not `instanceof`: the app may load another copy of aws-cdk-lib than the kit.
 */
export function describeValue(value: unknown): string {
  const candidate = value as { toHumanString?: () => string; node?: { path?: string } } | undefined;
  if (typeof candidate?.toHumanString === 'function') return candidate.toHumanString();
  if (typeof candidate?.node?.path === 'string') return candidate.node.path;
  if (typeof value === 'object' && value !== null) return `{ ${Object.keys(value).join(', ')} }`;
  return String(value);
}

/** True when a number is set and resolved at synth time. */
export function isResolvedNumber(value: number | undefined): value is number {
  return value !== undefined && !Token.isUnresolved(value);
}

/** True when a duration is set and resolved at synth time. */
export function isResolvedDuration(value: Duration | undefined): value is Duration {
  return value !== undefined && !value.isUnresolved();
}
