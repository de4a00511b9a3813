import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Each test file makes its own databases and indices, so files may run side by side;
    // two at a time suits a 2-core machine that also runs Postgres and the engine.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
