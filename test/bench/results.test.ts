import { describe, expect, test } from 'vitest';
import { type BenchResult, mergeResults } from '../../bench/results';

const figure = (name: string, value: number): BenchResult => ({ name, value, unit: 'x' });
const names = (results: readonly BenchResult[]) => results.map(({ name, value }) => `${name}=${value}`);

describe('mergeResults', () => {
  const previous = [figure('synth', 1), figure('stream.a', 1), figure('stream.b', 1), figure('cold', 1)];

  test('replaces a figure where it stands, so one step run again keeps the report in order', () => {
    expect(names(mergeResults(previous, [figure('stream.b', 2), figure('stream.a', 2)]))).toEqual([
      'synth=1',
      'stream.a=2',
      'stream.b=2',
      'cold=1',
    ]);
  });

  test('puts a new figure after the last one its step replaced', () => {
    expect(names(mergeResults(previous, [figure('stream.a', 2), figure('stream.c', 2)]))).toEqual([
      'synth=1',
      'stream.a=2',
      'stream.c=2',
      'stream.b=1',
      'cold=1',
    ]);
  });

  test('appends the figures of a step that replaces none, and starts from nothing', () => {
    expect(names(mergeResults(previous, [figure('local', 2)]))).toEqual([
      'synth=1',
      'stream.a=1',
      'stream.b=1',
      'cold=1',
      'local=2',
    ]);
    expect(names(mergeResults([], [figure('local', 2)]))).toEqual(['local=2']);
  });
});
