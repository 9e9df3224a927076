/**
 * Parsers of command-line values shared by the project's commands (`eda-kit`, `npm start`, `npm run chaos`,
 * `npm run bench`): a bad value is a one-line error naming what was expected, and the command exits 2. They live in
 * ops/ because `eda-kit` ships in the package and local/ does not.
 *
 * @module
 */
import { InvalidArgumentError } from 'commander';

/** A whole number of `min` or more. */
export function wholeNumberFrom(min: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min)
      throw new InvalidArgumentError(`expected a whole number of ${min} or more, got '${value}'`);
    return parsed;
  };
}

/** A whole number of 1 or more. */
export const wholeNumber = wholeNumberFrom(1);

/** A number from 0 to 1: a share or a rate. */
export function ratio(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1)
    throw new InvalidArgumentError(`expected a number from 0 to 1, got '${value}'`);
  return parsed;
}

/** A TCP port: a whole number from 0 (any free port) to 65535. */
export function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535)
    throw new InvalidArgumentError(`expected a port from 0 to 65535, got '${value}'`);
  return parsed;
}
