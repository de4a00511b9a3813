import { testPool } from "./support/clients.ts";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { concreteIndices, countDocuments, dropIndices, uniqueIndexName } from "./support/engine.ts";
import { etlEnv, expectIndexEqualsCatalogue, runCli, startCli, type EtlTarget } from "./support/etl.ts";
import { waitFor } from "./support/wait.ts";

/** `reindex` end to end, against whichever engine the suite runs on (CI runs it on both modes). */
describe("reindex", () => {
  let db: TestDatabase;
  let target: EtlTarget;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase({ films: 1000, seed: 42 });
    target = { databaseUrl: db.url, index: uniqueIndexName() };
    pool = testPool(db.url);
    const sync = await runCli([], etlEnv(target));
    expect(sync.code, sync.stderr).toBe(0);
  });

  afterAll(async () => {
    await pool?.end();
    await dropIndices(target.index);
    await db?.drop();
  });

  /** A reindex filling its new index slowly, once its first window is under way. */
  async function reindexMidFill() {
    const running = startCli(["reindex"], etlEnv(target, { ETL_BATCH_SIZE: "10", ETL_BULK_CONCURRENCY: "1" }));
    const windowState = "SELECT 1 FROM content.etl_state WHERE name LIKE $1 AND name LIKE '%:window'";
    await waitFor(async () => (await pool.query(windowState, [`${target.index}_%`])).rowCount === 1);
    return running;
  }

  it("builds a new index, swaps the alias atomically and keeps the old one", async () => {
    const oldIndices = await concreteIndices(target.index);
    expect(oldIndices).toHaveLength(1);
    // The state an earlier, interrupted reindex left behind must not outlive this one.
    const abandoned = `${target.index}_20200101t000000000z:cursors`;
    await pool.query("INSERT INTO content.etl_state (name, value) VALUES ($1, $2)", [
      abandoned,
      JSON.stringify({ tables: {}, log: { txid: "1", seq: "0" } }),
    ]);
    // A reader polls through the alias the whole time: it must never see a partial index.
    let reading = true;
    const seen: number[] = [];
    const reader = (async () => {
      while (reading) {
        seen.push(await countDocuments(target.index));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const result = await runCli(["reindex"], etlEnv(target, { ETL_BATCH_SIZE: "100" }));
    reading = false;
    await reader;
    expect(result.code, result.stderr).toBe(0);
    expect(seen.length).toBeGreaterThan(5);
    expect(Math.min(...seen), JSON.stringify(seen)).toBe(1000);
    expect((await pool.query("SELECT 1 FROM content.etl_state WHERE name = $1", [abandoned])).rowCount).toBe(0);
    const newIndices = await concreteIndices(target.index);
    expect(newIndices).toHaveLength(1);
    expect(newIndices[0]).not.toBe(oldIndices[0]);
    expect(await countDocuments(oldIndices[0]!)).toBe(1000);
    await expectIndexEqualsCatalogue(target);
    const sync = await runCli([], etlEnv(target));
    expect(sync.stderr).toMatch(/"written":0,"deleted":0/);
  });

  it("succeeds while writers keep changing the catalogue, and the next sync brings what they changed meanwhile", {
    timeout: 180_000,
  }, async () => {
    let writing = true;
    let changes = 0;
    const writer = (async () => {
      const client = await pool.connect();
      try {
        for (let i = 0; writing; i++) {
          // New films, deleted films and renamed ones: all change the catalogue's ids or documents.
          if (i % 3 === 0) {
            await client.query(
              "INSERT INTO content.film_work (id, title, type, created, modified) VALUES (gen_random_uuid(), 'written during reindex', 'movie', now(), now())",
            );
          } else if (i % 3 === 1) {
            await client.query("DELETE FROM content.film_work WHERE id = (SELECT id FROM content.film_work ORDER BY random() LIMIT 1)");
          } else {
            await client.query(
              "UPDATE content.film_work SET title = title || '!' WHERE id = (SELECT id FROM content.film_work ORDER BY random() LIMIT 1)",
            );
          }
          changes++;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        client.release();
      }
    })();
    const result = await runCli(["reindex"], etlEnv(target, { ETL_BATCH_SIZE: "100" }), { timeoutMs: 170_000 });
    writing = false;
    await writer;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/the alias now points at the new index/);
    expect(changes).toBeGreaterThan(20);
    expect((await runCli([], etlEnv(target))).code).toBe(0);
    await expectIndexEqualsCatalogue(target);
  });

  it("stopped before its swap, leaves no index and no state behind", async () => {
    const before = (await concreteIndices(`${target.index}_*`)).sort();
    const running = await reindexMidFill();
    running.signal("SIGTERM");
    const result = await running.result;
    expect(result.code, result.stderr).toBe(143);
    expect(result.stderr).toMatch(/removed its unfinished index/);
    expect((await concreteIndices(`${target.index}_*`)).sort()).toEqual(before);
    expect((await pool.query("SELECT name FROM content.etl_state WHERE name LIKE $1", [`${target.index}\\_%`])).rows).toEqual([]);
  });

  it("a reindex killed before its swap leaves an index the next reindex removes; status names the earlier indices kept", async () => {
    const running = await reindexMidFill();
    running.signal("SIGKILL");
    await running.result;
    const behind = await concreteIndices(target.index);
    const leftover = (await concreteIndices(`${target.index}_*`)).filter((index) => !behind.includes(index));
    expect(leftover.length).toBeGreaterThan(0);
    // status tells the half-filled index from those kept for rollback.
    const before = await runCli(["status"], etlEnv(target));
    const unfinishedLine = before.stdout.split("\n").find((line) => line.startsWith("unfinished"));
    expect(unfinishedLine, before.stdout).toBeDefined();
    expect(before.stdout.split("\n").find((line) => line.startsWith("earlier")) ?? "").not.toContain(unfinishedLine!.split(/\s+/)[1]!);

    const again = await runCli(["reindex"], etlEnv(target));
    expect(again.code, again.stderr).toBe(0);
    const killed = leftover.filter((index) => again.stderr.includes(index));
    expect(killed).toHaveLength(1);
    expect(await concreteIndices(killed[0]!)).toEqual([]);
    await expectIndexEqualsCatalogue(target);

    // The index behind the alias before this reindex is kept for rollback, and status says so.
    const status = await runCli(["status"], etlEnv(target));
    const earlier = status.stdout.split("\n").find((line) => line.startsWith("earlier"));
    expect(earlier).toContain(behind[0]!);
    expect(earlier).not.toContain(killed[0]!);
  });

  it("hands its state to the alias before it moves the alias: killed in between, the live index is never taken for unfinished", async () => {
    const before = await concreteIndices(target.index);
    const holder = await pool.connect();
    try {
      // The alias's cursors row is written only by the hand-over: holding it stops the reindex right there.
      await holder.query("BEGIN");
      await holder.query("SELECT 1 FROM content.etl_state WHERE name = $1 FOR UPDATE", [`${target.index}:cursors`]);
      const running = startCli(["reindex"], etlEnv(target));
      await waitFor(async () => {
        const { rows } = await pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'movies-etl' AND wait_event_type = 'Lock'",
        );
        return rows[0]!.n > 0;
      }, 120_000);
      expect(await concreteIndices(target.index)).toEqual(before);
      running.signal("SIGKILL");
      await running.result;
    } finally {
      await holder.query("ROLLBACK");
      holder.release();
    }
    expect(await concreteIndices(target.index)).toEqual(before);
    const again = await runCli(["reindex"], etlEnv(target));
    expect(again.code, again.stderr).toBe(0);
    expect(await concreteIndices(before[0]!)).toEqual(before);
    await expectIndexEqualsCatalogue(target);
  });

  it("queued for the lock, survives its waiting session being terminated, and finishes once the lock is free", async () => {
    const holder = await pool.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(hashtext($1))", [`movies-etl:${target.index}`]);
      const running = startCli(["reindex"], etlEnv(target));
      const waiting = async () =>
        (
          await pool.query<{ pid: number }>(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'movies-etl lock' AND wait_event_type = 'Lock'",
          )
        ).rows;
      await waitFor(async () => (await waiting()).length === 1);
      await pool.query("SELECT pg_terminate_backend($1)", [(await waiting())[0]!.pid]);
      await waitFor(() => running.stderr().includes("queueing again"));
      await waitFor(async () => (await waiting()).length === 1);
      await holder.query("SELECT pg_advisory_unlock(hashtext($1))", [`movies-etl:${target.index}`]);
      const result = await running.result;
      expect(result.code, result.stderr).toBe(0);
      await expectIndexEqualsCatalogue(target);
    } finally {
      holder.release();
    }
  });
});
