import { defineConfig } from "vitest/config";

/**
 * Two projects. `unit`: pure logic, no services, no global setup: runs in
 * seconds with PostgreSQL and the engine down (`npm run test:unit`).
 * `integration`: everything else, against a real PostgreSQL and a real engine.
 * `npm test` runs both.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: ["test/unit/**"],
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
    // Each test file makes its own databases and indices, so files may run side by side;
    // two at a time suits a 2-core machine that also runs Postgres and the engine.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
