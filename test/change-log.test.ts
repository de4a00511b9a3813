import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Catalogue } from "./support/catalogue.ts";
import { createTestDatabase, openTransaction as openDatabaseTransaction, type TestDatabase } from "./support/database.ts";
import { dropIndices, uniqueIndexName } from "./support/engine.ts";
import { etlEnv, expectIndexEqualsCatalogue, runCli, syncOnce, type EtlTarget } from "./support/etl.ts";
import { mulberry32 } from "./support/random.ts";

/**
 * The change log's watermark under concurrent, overlapping transactions: an
 * entry is read only once its transaction has ended, the cursor never passes
 * an entry that a running transaction may still commit, and the prune deletes
 * only what was read.
 */
describe("the change log with transactions open across cycles", () => {
  let db: TestDatabase;
  let catalogue: Catalogue;
  let target: EtlTarget;

  beforeAll(async () => {
    db = await createTestDatabase({ films: 120, seed: 13 });
    catalogue = new Catalogue(db.url);
    target = { databaseUrl: db.url, index: uniqueIndexName() };
    await syncOnce(target);
  });

  afterAll(async () => {
    await catalogue?.close();
    await dropIndices(target.index);
    await db?.drop();
  });

  const openTransaction = () => openDatabaseTransaction(db.url);
  const logCursor = async () => {
    const row = await catalogue.one<{ txid: string }>("SELECT value->'log'->>'txid' AS txid FROM content.etl_state WHERE name = $1", [
      `${target.index}:cursors`,
    ]);
    return BigInt(row.txid);
  };
  const entriesOf = async (...xids: bigint[]) =>
    Number(
      (
        await catalogue.one<{ n: string }>("SELECT count(*)::text AS n FROM content.etl_change WHERE txid::text = ANY($1)", [
          xids.map(String),
        ])
      ).n,
    );

  it("two writers open across a cycle: neither change is lost, nor pruned before it is read", async () => {
    const [filmX, filmY] = await catalogue.query<{ id: string; link: string }>(
      `SELECT f.id, (SELECT g.id FROM content.genre_film_work g WHERE g.film_work_id = f.id LIMIT 1) AS link
       FROM content.film_work f WHERE EXISTS (SELECT 1 FROM content.genre_film_work g WHERE g.film_work_id = f.id)
       ORDER BY f.id LIMIT 2`,
    );
    const a = await openTransaction();
    const b = await openTransaction();
    try {
      // Neither bumps `modified`: only the change log can see them.
      await a.query("UPDATE content.film_work SET rating = 0.5 WHERE id = $1", [filmX!.id]);
      await b.query("DELETE FROM content.genre_film_work WHERE id = $1", [filmY!.link]);

      await syncOnce(target);
      expect(await logCursor()).toBeLessThanOrEqual(a.xid);

      await b.query("COMMIT");
      await a.query("COMMIT");
      expect(await entriesOf(a.xid, b.xid)).toBe(2);
    } finally {
      await a.end();
      await b.end();
    }
    await syncOnce(target);
    await syncOnce(target);
    await expectIndexEqualsCatalogue(target);
    expect(await entriesOf(a.xid, b.xid)).toBe(0);
  });

  it("many overlapping transactions committing in random order between cycles", { timeout: 120_000 }, async () => {
    const random = mulberry32(4242);
    const films = (await catalogue.query<{ id: string }>("SELECT id FROM content.film_work ORDER BY id")).map((r) => r.id);
    const open: Array<pg.Client & { xid: bigint; film: string }> = [];
    try {
      for (let round = 0; round < 12; round++) {
        // Open a few more transactions, each changing a film the cursors cannot see.
        for (let i = 0; i < 4; i++) {
          // A film no open transaction holds, or the update would wait for that one.
          const free = films.filter((id) => !open.some((tx) => tx.film === id));
          const film = free[Math.floor(random() * free.length)]!;
          const tx = Object.assign(await openTransaction(), { film });
          await tx.query("UPDATE content.film_work SET rating = round((random() * 10)::numeric, 1), description = $2 WHERE id = $1", [
            film,
            `round ${round}.${i}`,
          ]);
          open.push(tx);
        }
        await syncOnce(target);
        const oldestOpen = open.reduce((min, tx) => (tx.xid < min ? tx.xid : min), open[0]!.xid);
        expect(await logCursor()).toBeLessThanOrEqual(oldestOpen);
        // Commit (or roll back) a random few, oldest or not.
        for (let i = 0; i < 3 && open.length > 0; i++) {
          const tx = open.splice(Math.floor(random() * open.length), 1)[0]!;
          await tx.query(random() < 0.2 ? "ROLLBACK" : "COMMIT");
          await tx.end();
        }
      }
      for (const tx of open.splice(0)) {
        await tx.query("COMMIT");
        await tx.end();
      }
    } finally {
      for (const tx of open) await tx.end().catch(() => {});
    }
    await syncOnce(target);
    await expectIndexEqualsCatalogue(target);
  });

  it("reads entries in numeric order when their ids change digit count (more pending than one window reads)", async () => {
    // Sequence numbers about to go from three digits to four: as text "1000" < "996".
    await catalogue.query("SELECT setval(pg_get_serial_sequence('content.etl_change', 'seq'), 990)");
    const films = (await catalogue.query<{ id: string }>("SELECT id FROM content.film_work ORDER BY id LIMIT 30")).map((r) => r.id);
    // One transaction, thirty entries (seq 991 to 1020), none visible to the cursors.
    await catalogue.query("UPDATE content.film_work SET rating = coalesce(rating, 0) + 0.5 WHERE id = ANY($1::uuid[])", [films]);
    await syncOnce(target, { ETL_CHANGE_BATCH_SIZE: "10" });
    await expectIndexEqualsCatalogue(target);
  });

  it("an index idle for longer than the retention no longer holds the log back, and loads in full when it comes back", async () => {
    const idle: EtlTarget = { databaseUrl: db.url, index: uniqueIndexName() };
    await catalogue.query(`INSERT INTO content.etl_state (name, value, modified) VALUES ($1, $2, now() - interval '8 days')`, [
      `${idle.index}:cursors`,
      JSON.stringify({ tables: {}, log: { txid: "1", seq: "0" } }),
    ]);
    const film = (await catalogue.one<{ id: string }>("SELECT id FROM content.film_work ORDER BY id DESC LIMIT 1")).id;
    await catalogue.query("UPDATE content.film_work SET rating = 3.3 WHERE id = $1", [film]);
    await syncOnce(target);
    expect(Number((await catalogue.one<{ n: string }>("SELECT count(*)::text AS n FROM content.etl_change")).n)).toBe(0);

    try {
      const back = await syncOnce(idle);
      expect(back.fullLoad).toBe(true);
      await expectIndexEqualsCatalogue(idle);
    } finally {
      await dropIndices(idle.index);
    }
  });

  it("status names a transaction that holds the change log back, and another index's idle state", { timeout: 60_000 }, async () => {
    await catalogue.query(`INSERT INTO content.etl_state (name, value, modified) VALUES ($1, '{}', now() - interval '2 days')`, [
      "some_other_index:cursors",
    ]);
    const holder = await openTransaction();
    try {
      await holder.query("SET application_name = 'slow admin'");
      await holder.query("UPDATE content.film_work SET rating = 1 WHERE id = (SELECT id FROM content.film_work ORDER BY id LIMIT 1)");
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      const status = await runCli(["status", "--json"], etlEnv(target));
      expect(status.code, status.stderr).toBe(0);
      const warnings: string[] = JSON.parse(status.stdout).warnings;
      expect(warnings.join("\n")).toMatch(
        /a transaction open for \d+ s holds the change log back \(pid \d+, slow admin, idle in transaction\)/,
      );
      expect(warnings.join("\n")).toMatch(/the state of some_other_index has not moved for 48 h/);
    } finally {
      await holder.query("ROLLBACK");
      await holder.end();
      await catalogue.query("DELETE FROM content.etl_state WHERE name = 'some_other_index:cursors'");
    }
  });
});
