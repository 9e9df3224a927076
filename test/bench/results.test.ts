import { describe, expect, test } from 'vitest';
import { type BenchResult, medianOfRatios, mergeResults, turningOrder } from '../../bench/results';

const figure = (name: string, value: number): BenchResult => ({ name, value, unit: 'x' });
/** Each figure as `name=value`, so a test shows both where a figure went and whether it was replaced. */
const placed = (results: readonly BenchResult[]) => results.map(({ name, value }) => `${name}=${value}`);

describe('mergeResults', () => {
  const previous = [figure('synth', 1), figure('stream.a', 1), figure('stream.b', 1), figure('cold', 1)];

  test('GIVEN a step run again THEN its figures replace its earlier ones where they stood, in its own order', () => {
    expect(placed(mergeResults(previous, [figure('stream.b', 2), figure('stream.a', 2)]))).toEqual([
      'synth=1',
      'stream.b=2',
      'stream.a=2',
      'cold=1',
    ]);
  });

  test('GIVEN a step with a new figure THEN the figure stays in its block', () => {
    expect(
      placed(mergeResults(previous, [figure('stream.a', 2), figure('stream.c', 2), figure('stream.b', 2)])),
    ).toEqual(['synth=1', 'stream.a=2', 'stream.c=2', 'stream.b=2', 'cold=1']);
  });

  test('GIVEN a step never run before, or no results yet THEN its figures go at the end', () => {
    expect(placed(mergeResults(previous, [figure('local', 2)]))).toEqual([
      'synth=1',
      'stream.a=1',
      'stream.b=1',
      'cold=1',
      'local=2',
    ]);
    expect(placed(mergeResults([], [figure('local', 2)]))).toEqual(['local=2']);
  });
});

describe('turningOrder', () => {
  test('GIVEN three modes THEN six rounds run each of their orders once, and the seventh starts again', () => {
    const rounds = Array.from({ length: 7 }, (_, round) => turningOrder(['a', 'b', 'c'], round).join(''));
    expect(new Set(rounds.slice(0, 6)).size).toBe(6);
    expect(rounds[6]).toBe(rounds[0]);
    expect(rounds.slice(0, 6).filter((order) => order.startsWith('a'))).toHaveLength(2);
  });
});

describe('medianOfRatios', () => {
  test("GIVEN values measured side by side with their baselines THEN the median of each pair's ratio", () => {
    expect(medianOfRatios([2, 9, 3], [1, 3, 3])).toBe(2);
  });

  test('GIVEN lists that do not pair THEN it says so instead of dividing by nothing', () => {
    expect(() => medianOfRatios([1, 2], [1])).toThrow('2 values do not pair with 1');
  });
});
