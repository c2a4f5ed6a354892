import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['tests/setup/redis.global.ts'],
    include: ['tests/**/*.test.ts'],
    testTimeout: 20000,
  },
});
