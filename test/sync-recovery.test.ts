import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Catalogue } from "./support/catalogue.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { concreteIndices, deleteDocument, deleteIndices, dropIndices, engineRequest, uniqueIndexName } from "./support/engine.ts";
import { etlEnv, expectIndexEqualsCatalogue, logEntries, logMessages, runCli, startCli, type EtlTarget } from "./support/etl.ts";
import { waitFor } from "./support/wait.ts";

/**
 * What a run meets between and during runs, besides catalogue changes: the
 * index deleted, a run killed with work planned, its lock taken away, a
 * reindex beside a watcher. Each test has its own catalogue and index.
 */
describe("recovering from what happens around a run", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  async function freshTarget(films: number, seed: number): Promise<{ db: TestDatabase; target: EtlTarget; catalogue: Catalogue }> {
    const db = await createTestDatabase({ films, seed });
    const catalogue = new Catalogue(db.url);
    const target = { databaseUrl: db.url, index: uniqueIndexName() };
    cleanups.push(
      () => db.drop(),
      () => dropIndices(target.index),
      () => catalogue.close(),
    );
    return { db, target, catalogue };
  }

  const filmCursorSaved = (catalogue: Catalogue, target: EtlTarget) => async () =>
    (await catalogue.query("SELECT 1 FROM content.etl_state WHERE name = $1 AND value->>'after' IS NOT NULL", [`${target.index}:film`]))
      .length === 1;

  it("an index deleted between runs is noticed by status and refilled in full by the next run", async () => {
    const { target, catalogue } = await freshTarget(200, 51);
    expect((await runCli([], etlEnv(target))).code).toBe(0);
    await deleteIndices(await concreteIndices(target.index));
    await catalogue.query(
      "UPDATE content.film_work SET title = 'after the delete', modified = now() WHERE id = (SELECT id FROM content.film_work ORDER BY id LIMIT 1)",
    );

    const status = await runCli(["status", "--json"], etlEnv(target));
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).warnings.join("\n")).toMatch(/index does not exist/);

    const rerun = await runCli([], etlEnv(target));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(logMessages(rerun.stderr)).toMatch(/not the index the saved state belongs to.*loading it in full/);
    expect(rerun.stderr).toMatch(/"written":200/);
    await expectIndexEqualsCatalogue(target);

    // A document lost behind the ETL's back: the counts disagree, and status says so.
    const film = (await catalogue.one<{ id: string }>("SELECT id FROM content.film_work ORDER BY id LIMIT 1")).id;
    await deleteDocument(target.index, film);
    const after = await runCli(["status", "--json"], etlEnv(target));
    expect(JSON.parse(after.stdout).warnings.join("\n")).toMatch(/the index holds 199 documents but the catalogue has 200 films/);
  });

  it("an alias removed between runs: the new index behind it is filled in full, not just with new changes", async () => {
    const { target } = await freshTarget(150, 52);
    expect((await runCli([], etlEnv(target))).code).toBe(0);
    const [old] = await concreteIndices(target.index);
    await engineRequest("DELETE", `/${old}/_alias/${target.index}`);

    const rerun = await runCli([], etlEnv(target));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/"written":150/);
    expect(await concreteIndices(target.index)).not.toContain(old);
    await expectIndexEqualsCatalogue(target);
  });

  it("an alias pointed back at an older index (a rollback): the full load also removes films deleted since", async () => {
    const { target, catalogue } = await freshTarget(120, 59);
    expect((await runCli([], etlEnv(target))).code).toBe(0);
    const [older] = await concreteIndices(target.index);
    expect((await runCli(["reindex"], etlEnv(target))).code).toBe(0);
    const [newer] = await concreteIndices(target.index);
    await catalogue.query("DELETE FROM content.film_work WHERE id IN (SELECT id FROM content.film_work ORDER BY id LIMIT 5)");
    expect((await runCli([], etlEnv(target))).code).toBe(0);

    await engineRequest("POST", "/_aliases", {
      actions: [{ remove: { index: newer, alias: target.index } }, { add: { index: older, alias: target.index } }],
    });
    const rerun = await runCli([], etlEnv(target));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(logMessages(rerun.stderr)).toMatch(/loading it in full/);
    expect(logMessages(rerun.stderr)).toMatch(/removed documents of films the catalogue no longer has/);
    await expectIndexEqualsCatalogue(target);
  });

  it("a plain index named like the alias (an install from before aliases): sync refuses with the fix, reindex moves it behind an alias", async () => {
    const { target } = await freshTarget(80, 60);
    const definition = JSON.parse(readFileSync(new URL("../src/load/movies-index.json", import.meta.url), "utf8"));
    await engineRequest("PUT", `/${target.index}`, definition);
    const refused = await runCli([], etlEnv(target));
    expect(refused.code).toBe(2);
    expect(logMessages(refused.stderr)).toMatch(/names a plain index, not an alias.*Run `reindex` once/);

    const reindex = await runCli(["reindex"], etlEnv(target));
    expect(reindex.code, reindex.stderr).toBe(0);
    const [behind] = await concreteIndices(target.index);
    expect(behind).not.toBe(target.index);
    expect((await runCli([], etlEnv(target))).code).toBe(0);
    await expectIndexEqualsCatalogue(target);
  });

  it("the concrete index behind the alias named instead of the alias: sync and reindex name the alias to use and delete nothing", async () => {
    const { target } = await freshTarget(60, 62);
    expect((await runCli([], etlEnv(target))).code).toBe(0);
    const [concrete] = await concreteIndices(target.index);
    const misnamed: EtlTarget = { ...target, index: concrete! };
    for (const command of [[], ["reindex"]]) {
      const refused = await runCli(command, etlEnv(misnamed));
      expect(refused.code, refused.stderr).toBe(2);
      expect(logMessages(refused.stderr)).toContain(`set ELASTICSEARCH_INDEX=${target.index}`);
    }
    expect(await concreteIndices(target.index)).toEqual([concrete]);
    await expectIndexEqualsCatalogue(target);
  });

  it("the index deleted during a run: the run recreates it and loads it in full", async () => {
    const { target, catalogue } = await freshTarget(600, 53);
    const run = startCli([], etlEnv(target, { ETL_BATCH_SIZE: "5", ETL_BULK_CONCURRENCY: "1" }));
    await waitFor(filmCursorSaved(catalogue, target));
    await deleteIndices(await concreteIndices(target.index));
    const result = await run.result;
    expect(result.code, result.stderr).toBe(0);
    expect(logMessages(result.stderr)).toMatch(/disappeared during the run/);
    expect(logMessages(result.stderr)).toMatch(/loading it in full/);
    await expectIndexEqualsCatalogue(target);
  });

  it("the index deleted while a full load starts: recreated and loaded in full, not an unexpected error", async () => {
    const { db, target, catalogue } = await freshTarget(200, 58);
    expect((await runCli([], etlEnv(target))).code).toBe(0);
    await catalogue.query("DELETE FROM content.etl_state WHERE name LIKE $1", [`${target.index}:%`]);
    // Hold the run where it fixes its full-load window (an uncommitted row with the same key makes it
    // wait), after it checked the index; delete the index meanwhile.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    cleanups.push(() => blocker.end());
    await blocker.query("BEGIN");
    await blocker.query("INSERT INTO content.etl_state (name, value) VALUES ($1, '{}')", [`${target.index}:window`]);
    const run = startCli([], etlEnv(target));
    await waitFor(
      async () => (await catalogue.query("SELECT 1 FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'")).length > 0,
    );
    await deleteIndices(await concreteIndices(target.index));
    await blocker.query("ROLLBACK");
    const result = await run.result;
    expect(result.code, result.stderr).toBe(0);
    expect(logMessages(result.stderr)).toMatch(/disappeared during the run/);
    await expectIndexEqualsCatalogue(target);
  });

  it("a run that resumes an interrupted window also takes every change made after that window was planned", async () => {
    const { target, catalogue } = await freshTarget(300, 54);
    expect((await runCli([], etlEnv(target))).code).toBe(0);
    // Plan a window (a genre rename touches many films), then kill the run inside it.
    await catalogue.query(
      "UPDATE content.genre SET name = name || ' *', modified = now() WHERE id = (SELECT genre_id FROM content.genre_film_work GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)",
    );
    const killed = startCli([], etlEnv(target, { ETL_BATCH_SIZE: "2", ETL_BULK_CONCURRENCY: "1" }));
    await waitFor(filmCursorSaved(catalogue, target));
    killed.signal("SIGKILL");
    await killed.result;
    // Changes after the window was planned: one only the change log sees, one with modified bumped.
    const [a, b] = (await catalogue.query<{ id: string }>("SELECT id FROM content.film_work ORDER BY id DESC LIMIT 2")).map((r) => r.id);
    await catalogue.query("UPDATE content.film_work SET rating = 9.9 WHERE id = $1", [a]);
    await catalogue.query("UPDATE content.film_work SET title = 'planned after', modified = now() WHERE id = $1", [b]);

    const rerun = await runCli([], etlEnv(target));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/resuming the window/);
    await expectIndexEqualsCatalogue(target);
  });

  it("a run whose lock session is terminated moves no state once another runner holds the lock", async () => {
    const { db, target, catalogue } = await freshTarget(1500, 55);
    const run = startCli([], etlEnv(target, { ETL_BATCH_SIZE: "5" }));
    await waitFor(filmCursorSaved(catalogue, target));

    // Terminate the run's lock session, and take the lock the moment it is free, as another runner would.
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    cleanups.push(() => other.end());
    const [lockSession] = await catalogue.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'movies-etl lock'",
    );
    await catalogue.query("SELECT pg_terminate_backend($1)", [lockSession!.pid]);
    await waitFor(async () => {
      const result = await other.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtext($1)) AS locked", [
        `movies-etl:${target.index}`,
      ]);
      return result.rows[0]!.locked;
    });
    // ...and claims the state, as every run does right after taking the lock.
    await other.query("UPDATE content.etl_state SET value = jsonb_build_object('token', 'the other run') WHERE name = $1", [
      `${target.index}:owner`,
    ]);
    const cursorWhenTaken = await filmCursor(catalogue, target);

    const result = await run.result;
    expect(result.code, result.stderr).toBe(0);
    const messages = logMessages(result.stderr);
    expect(messages).toMatch(/lost the lock/);
    expect(messages).toMatch(/another run holds the lock/);
    expect(messages).not.toMatch(/sync finished/);
    // Not one more batch acknowledged after the other runner took over.
    expect(await filmCursor(catalogue, target)).toBe(cursorWhenTaken);

    await other.query("SELECT pg_advisory_unlock_all()");
    const rerun = await runCli([], etlEnv(target));
    expect(rerun.code, rerun.stderr).toBe(0);
    await expectIndexEqualsCatalogue(target);
  });

  it("a run frozen mid-write whose lock was taken over cannot overwrite the newer run's documents", { timeout: 240_000 }, async () => {
    const { target, catalogue } = await freshTarget(1000, 57);
    // One batch of the whole catalogue, sent in many small requests: a freeze lands between two of them.
    const frozen = startCli([], etlEnv(target, { ETL_BATCH_SIZE: "1000", ETL_BULK_MAX_BYTES: "3000", ETL_BULK_CONCURRENCY: "1" }), {
      timeoutMs: 230_000,
    });
    await waitFor(
      async () => (await catalogue.query("SELECT 1 FROM content.etl_state WHERE name = $1", [`${target.index}:window`])).length === 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    frozen.signal("SIGSTOP");
    try {
      const [lockSession] = await catalogue.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'movies-etl lock'",
      );
      await catalogue.query("SELECT pg_terminate_backend($1)", [lockSession!.pid]);
      await catalogue.query("UPDATE content.film_work SET title = title || ' v2'");
      const newer = await runCli([], etlEnv(target));
      expect(newer.code, newer.stderr).toBe(0);
      await expectIndexEqualsCatalogue(target);
    } finally {
      frozen.signal("SIGCONT");
    }
    // Thawed, it sends the rest of its old batch: the engine must refuse every document of it.
    const late = await frozen.result;
    expect(late.code, late.stderr).toBe(0);
    expect(logMessages(late.stderr)).toMatch(/lost the lock/);
    await expectIndexEqualsCatalogue(target);
  });

  it("reindex beside --watch finishes in bounded time, and the watcher keeps the new index in step", { timeout: 180_000 }, async () => {
    const { target, catalogue } = await freshTarget(400, 56);
    const watcher = startCli(["--watch"], etlEnv(target, { ETL_WATCH_INTERVAL_S: "1" }), { timeoutMs: 170_000 });
    cleanups.push(async () => watcher.signal("SIGKILL"));
    const cycles = () => logEntries(watcher.stderr()).filter((entry) => entry.msg === "sync finished").length;
    await waitFor(() => cycles() >= 1);
    const [before] = await concreteIndices(target.index);

    const reindex = await runCli(["reindex"], etlEnv(target), { timeoutMs: 90_000 });
    expect(reindex.code, reindex.stderr).toBe(0);
    expect(reindex.stderr).toMatch(/the alias now points at the new index/);
    const [after] = await concreteIndices(target.index);
    expect(after).not.toBe(before);

    const film = (await catalogue.one<{ id: string }>("SELECT id FROM content.film_work ORDER BY id LIMIT 1")).id;
    await catalogue.query("UPDATE content.film_work SET title = 'after the reindex' WHERE id = $1", [film]);
    const seen = cycles();
    await waitFor(() => cycles() >= seen + 2);
    watcher.signal("SIGTERM");
    expect((await watcher.result).code).toBe(143);
    expect(await concreteIndices(target.index)).toEqual([after]);
    await expectIndexEqualsCatalogue(target);
  });
});

async function filmCursor(catalogue: Catalogue, target: EtlTarget): Promise<string | null> {
  const rows = await catalogue.query<{ after: string | null }>("SELECT value->>'after' AS after FROM content.etl_state WHERE name = $1", [
    `${target.index}:film`,
  ]);
  return rows[0]?.after ?? null;
}
