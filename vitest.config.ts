import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: the integration files each start a broker and a database.
    maxWorkers: 2,
    globalSetup: ['tests/global-setup.ts'],
    reporters: ['default'],
  },
});
