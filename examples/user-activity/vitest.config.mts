import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The TypeScript sources: `npm run build` leaves compiled copies beside them.
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
