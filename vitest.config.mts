import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest, in the order they start: on two workers the run ends soonest when the long ones go
 * first (a fresh clone has no timings cached for vitest to sort by). The example app's test alone takes about two
 * minutes: started last, it would be the whole run's tail.
 */
const LONGEST_FIRST = [
  'test/examples/user-activity.test.ts',
  'test/workload/chaos.test.ts',
  'test/workload/order-workload.test.ts',
  'test/local/dashboard.test.ts',
  'test/package/package.test.ts',
  'test/local/local-cloud.test.ts',
  'test/lib/stacks/reference-app.test.ts',
  'test/e2e/reference-app.test.ts',
];

class LongestFirst extends BaseSequencer {
  public async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const index = LONGEST_FIRST.findIndex((path) => file.moduleId.endsWith(path));
      return index === -1 ? LONGEST_FIRST.length : index;
    };
    return sorted
      .map((file, position) => ({ file, position }))
      .sort((a, b) => rank(a.file) - rank(b.file) || a.position - b.position)
      .map(({ file }) => file);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real emulators on 127.0.0.1 for the runtime and local-cloud tests, started once for the run.
    globalSetup: ['test/global-setup.ts'],
    // Synth and bundling are CPU-bound; two cores serve two files at a time best.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
