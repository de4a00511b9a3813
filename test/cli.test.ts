import { testPool } from "./support/clients.ts";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../src/errors.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { dropIndices, uniqueIndexName } from "./support/engine.ts";
import { etlEnv, expectIndexEqualsCatalogue, logMessages, runCli, startCli, syncOnce, type EtlTarget } from "./support/etl.ts";
import { waitFor } from "./support/wait.ts";

describe("the command line", () => {
  it("--help prints usage and exits 0", async () => {
    const result = await runCli(["--help"], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: npx tsx src\/main.ts/);
    expect(result.stdout).toMatch(/reindex/);
  });

  it("lists every configuration problem at once and exits 2", async () => {
    const result = await runCli([], {
      ETL_BATCH_SIZE: "lots",
      ETL_TABLES: "film_work,users",
      ELASTICSEARCH_URL: "ftp://example",
      ETL_LOG_FORMAT: "json",
    });
    expect(result.code).toBe(ExitCode.config);
    const output = logMessages(result.stderr);
    expect(output).toMatch(/ETL_BATCH_SIZE="lots"/);
    expect(output).toMatch(/ETL_TABLES="film_work,users": allowed tables are genre, person, film_work/);
    expect(output).toMatch(/ELASTICSEARCH_URL: expected a http: or https: URL/);
    expect(output.trim().split("\n")).toHaveLength(1);
  });

  it("rejects an unknown command with exit 2", async () => {
    const result = await runCli(["reindx"], {});
    expect(result.code).toBe(ExitCode.config);
    expect(logMessages(result.stderr)).toMatch(/unknown command "reindx"/);
  });
});

describe("running for real", () => {
  let db: TestDatabase;
  let target: EtlTarget;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase({ films: 1500, seed: 41 });
    target = { databaseUrl: db.url, index: uniqueIndexName() };
    pool = testPool(db.url);
  });

  afterAll(async () => {
    await pool?.end();
    await dropIndices(target.index);
    await db?.drop();
  });

  const filmCursorSaved = async () => {
    const rows = await pool.query("SELECT 1 FROM content.etl_state WHERE name = $1 AND value->>'after' IS NOT NULL", [
      `${target.index}:film`,
    ]);
    return rows.rowCount === 1;
  };

  it("SIGTERM mid-sync: stops within the budget with state saved, and the rerun converges", async () => {
    // A full load from scratch, in small batches: long enough to be caught in the middle.
    await pool.query("DELETE FROM content.etl_state");
    let pid = 0;
    const run = runCli([], etlEnv(target, { ETL_BATCH_SIZE: "10" }), { onSpawn: (p) => (pid = p) });
    await waitFor(filmCursorSaved);
    const signalled = Date.now();
    process.kill(pid, "SIGTERM");
    const result = await run;
    const stoppedInMs = Date.now() - signalled;

    expect(result.code).toBe(143);
    expect(stoppedInMs).toBeLessThan(10_000);
    expect(result.stderr).toMatch(/SIGTERM received/);
    expect(result.stderr).toMatch(/sync stopped early/);
    const state = await pool.query("SELECT name FROM content.etl_state WHERE name LIKE $1", [`${target.index}:%`]);
    expect(state.rows.map((r) => r.name).sort()).toEqual([
      `${target.index}:film`,
      `${target.index}:index`,
      `${target.index}:owner`,
      `${target.index}:window`,
    ]);

    const rerun = await runCli([], etlEnv(target));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/resuming the window/);
    await expectIndexEqualsCatalogue(target);
  });

  it("one runner at a time: a second process exits 0 saying the lock is held", async () => {
    await pool.query("DELETE FROM content.etl_state");
    // A full load in small batches holds the lock long enough to be met.
    const first = startCli([], etlEnv(target, { ETL_BATCH_SIZE: "5", ETL_BULK_CONCURRENCY: "1" }));
    await waitFor(filmCursorSaved);
    const second = await runCli([], etlEnv(target));
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/another run holds the lock/);
    expect(second.stderr).not.toMatch(/sync finished/);

    const firstResult = await first.result;
    expect(firstResult.code, firstResult.stderr).toBe(0);
    await expectIndexEqualsCatalogue(target);
  });

  it("never logs the database password", async () => {
    const url = new URL(db.url);
    url.password = "hunter2-Sup3r$ecret";
    const result = await runCli(["status"], etlEnv({ ...target, databaseUrl: url.toString() }, { ETL_LOG_LEVEL: "debug" }));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/catalogue\s+films: 1500/);
    expect(result.stdout + result.stderr).not.toContain("hunter2");
    expect(result.stdout + result.stderr).not.toContain(encodeURIComponent("hunter2-Sup3r$ecret"));
  });

  it("status shows cursors, pending changes and both counts", async () => {
    await syncOnce(target);
    await pool.query("UPDATE content.film_work SET modified = now() WHERE id IN (SELECT id FROM content.film_work LIMIT 3)");
    const result = await runCli(["status", "--json"], etlEnv(target));
    expect(result.code, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout);
    expect(status.films).toBe(1500);
    expect(status.documents).toBe(1500);
    expect(status.synced).toBe(true);
    expect(status.tables.find((t: { table: string }) => t.table === "film_work").pending).toBe(3);
    expect(status.changeLog).toEqual({ installed: true, pending: 3 });
  });

  it("runs under Deno: one sync cycle, and the index equals the catalogue", async () => {
    await pool.query(
      "UPDATE content.film_work SET title = title || ' (Deno)', modified = now() WHERE id IN (SELECT id FROM content.film_work ORDER BY id LIMIT 5)",
    );
    const result = await runCli([], etlEnv(target), { runtime: "deno" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/"msg":"sync finished"/);
    await expectIndexEqualsCatalogue(target);
  });
});
