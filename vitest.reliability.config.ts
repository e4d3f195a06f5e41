import { defineConfig } from 'vitest/config';

/*
 * The reliability suite (`npm run test:reliability`): the local stack under bursts, bad inputs, faults and
 * state-machine stress. Its files end in `.reliability.ts`, so the default config (`test/**\/*.test.ts`) never
 * picks them up. Files run one at a time: each starts a whole stack and the burst wants both cores.
 */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.reliability.ts'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/global-setup.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
});
