import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real emulators on 127.0.0.1 for the runtime and local-cloud tests, started once for the run.
    globalSetup: ['test/global-setup.ts'],
    // Synth and bundling are CPU-bound; two cores serve two files at a time best.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
