import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../src/errors.ts";
import { Catalogue } from "./support/catalogue.ts";
import { createEmptyTestDatabase, createTestDatabase, testDatabaseUrl, type TestDatabase } from "./support/database.ts";
import { ELASTICSEARCH_URL, indexExists, uniqueIndexName } from "./support/engine.ts";
import { etlEnv, logEntries, runCli, type ProcessResult } from "./support/etl.ts";

/**
 * A run that cannot start says why in one plain line, exits with the code
 * the README gives, and creates nothing on its way out.
 */
describe("start-up errors", () => {
  let migrated: TestDatabase;
  let empty: TestDatabase;
  beforeAll(async () => {
    migrated = await createTestDatabase({ films: 3 });
    empty = await createEmptyTestDatabase();
  });
  afterAll(async () => {
    await migrated?.drop();
    await empty?.drop();
  });

  /** The one error line of a failed start, after checking there is exactly one, without a stack or a source frame. */
  function theErrorLine(result: ProcessResult): string {
    const errors = logEntries(result.stderr).filter((entry) => entry.level === "error");
    expect(errors, result.stderr).toHaveLength(1);
    const line = errors[0]!.msg;
    expect(line).not.toMatch(/\n|\.ts:\d|→|at .*\(/);
    expect(Object.keys(errors[0]!)).not.toContain("stack");
    return line;
  }

  it("a database that does not exist: exit 2, naming it", async () => {
    const index = uniqueIndexName();
    const result = await runCli([], etlEnv({ databaseUrl: testDatabaseUrl("movies_etl_test_no_such_db"), index }));
    expect(result.code).toBe(ExitCode.config);
    expect(theErrorLine(result)).toMatch(/DATABASE_URL: database "movies_etl_test_no_such_db" does not exist/);
    expect(await indexExists(index)).toBe(false);
  });

  it("a role that does not exist: exit 2, naming it", async () => {
    const url = new URL(migrated.url);
    url.username = "no_such_role_etl";
    const result = await runCli(["status"], etlEnv({ databaseUrl: url.toString(), index: uniqueIndexName() }));
    expect(result.code).toBe(ExitCode.config);
    expect(theErrorLine(result)).toMatch(/role "no_such_role_etl" does not exist/);
  });

  it("https:// against a plain-http engine: exit 2, one line naming the scheme, not an outage retried", async () => {
    const index = uniqueIndexName();
    const plain = new URL(ELASTICSEARCH_URL);
    const result = await runCli([], etlEnv({ databaseUrl: migrated.url, index, elasticsearchUrl: `https://${plain.host}` }));
    expect(result.code, result.stderr).toBe(ExitCode.config);
    expect(theErrorLine(result)).toMatch(/ELASTICSEARCH_URL=https:.*TLS failed .*http:\/\/ against https:\/\//);
    expect(logEntries(result.stderr).filter((entry) => entry.level === "warn")).toEqual([]);
  });

  it("a database without the ETL's migrations: exit 2 naming npm run db:migrate, and no index created", async () => {
    const index = uniqueIndexName();
    const result = await runCli([], etlEnv({ databaseUrl: empty.url, index }));
    expect(result.code).toBe(ExitCode.config);
    expect(theErrorLine(result)).toMatch(/npm run db:migrate/);
    expect(await indexExists(index)).toBe(false);
  });

  it("a catalogue without etl_state: exit 2 naming npm run db:migrate, and no index created", async () => {
    const other = await createTestDatabase();
    try {
      const catalogue = new Catalogue(other.url);
      await catalogue.query("DROP TABLE content.etl_state");
      await catalogue.close();
      const index = uniqueIndexName();
      const result = await runCli([], etlEnv({ databaseUrl: other.url, index }));
      expect(result.code).toBe(ExitCode.config);
      expect(theErrorLine(result)).toMatch(/content\.etl_state.*npm run db:migrate/);
      expect(await indexExists(index)).toBe(false);
    } finally {
      await other.drop();
    }
  });

  it("status with PostgreSQL down: exit 3, one line; retry warnings are one line too", async () => {
    const result = await runCli(
      ["status"],
      etlEnv(
        { databaseUrl: "postgresql://postgres@127.0.0.1:1/movies", index: uniqueIndexName() },
        { ETL_RETRY_MAX_ATTEMPTS: "2", ETL_RETRY_INITIAL_DELAY_MS: "10" },
      ),
    );
    expect(result.code).toBe(ExitCode.unavailable);
    expect(theErrorLine(result)).toMatch(/postgres is unavailable: can't reach the database server at 127\.0\.0\.1:1/);
    const warnings = logEntries(result.stderr).filter((entry) => entry.level === "warn");
    expect(warnings.length).toBe(2);
    for (const warning of warnings) expect(String(warning.reason)).not.toMatch(/\n|\.ts:\d|invocation/);
  });
});
