import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { dropIndices, uniqueIndexName } from "./support/engine.ts";
import { etlEnv, expectIndexEqualsCatalogue, logEntries, startCli, type EtlTarget } from "./support/etl.ts";
import { mulberry32 } from "./support/random.ts";
import { sleep, waitFor } from "./support/wait.ts";

const WRITERS = 6;
const STORM_MS = 40_000;

/**
 * The standing proof that nothing is lost under concurrency: several writers
 * change the catalogue in every way at once, some holding their transactions
 * open for seconds, while `--watch` syncs. Once they stop and one more cycle
 * has run, the index must equal the catalogue.
 */
describe.each<{ lane: string; settings: Record<string, string> }>([
  { lane: "every change in its window", settings: { ETL_LARGE_FANOUT_FILMS: "0" } },
  // Genres and busy persons become fan-outs, rewritten in slices between the windows.
  { lane: "large fan-outs apart", settings: { ETL_LARGE_FANOUT_FILMS: "5", ETL_FANOUT_SLICE_MS: "1" } },
])("a writer storm while --watch runs ($lane)", ({ settings }) => {
  let db: TestDatabase;
  let target: EtlTarget;

  beforeAll(async () => {
    db = await createTestDatabase({ films: 300, seed: 77 });
    target = { databaseUrl: db.url, index: uniqueIndexName() };
  });

  afterAll(async () => {
    await dropIndices(target.index);
    await db?.drop();
  });

  it("loses no committed change", { timeout: 180_000 }, async () => {
    const watcher = startCli(["--watch"], etlEnv(target, { ETL_WATCH_INTERVAL_S: "1", ETL_BATCH_SIZE: "50", ...settings }), {
      timeoutMs: 170_000,
    });
    const cyclesFinished = () => logEntries(watcher.stderr()).filter((entry) => entry.msg === "sync finished").length;
    try {
      await waitFor(() => cyclesFinished() >= 1, 60_000, "the first full load");

      const until = Date.now() + STORM_MS;
      const tallies = await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(db.url, mulberry32(1000 + i), until)));
      const committed = tallies.reduce((sum, t) => sum + t.committed, 0);
      const heldOpen = tallies.reduce((sum, t) => sum + t.heldOpen, 0);

      // A cycle that starts after the last commit, then stop the watcher.
      const seen = cyclesFinished();
      await waitFor(() => cyclesFinished() >= seen + 2, 60_000, "two more cycles after the storm");
      watcher.signal("SIGTERM");
      const result = await watcher.result;
      expect(result.code, result.stderr.slice(-2000)).toBe(143);

      expect(committed).toBeGreaterThan(300);
      expect(heldOpen).toBeGreaterThan(5);
      await expectIndexEqualsCatalogue(target);
      const fanOuts = logEntries(result.stderr).filter((entry) => entry.msg.startsWith("rewriting the films of changed genres")).length;
      if (settings.ETL_LARGE_FANOUT_FILMS !== "0") expect(fanOuts, "no fan-out was exercised").toBeGreaterThan(3);
    } finally {
      watcher.signal("SIGKILL");
    }
  });
});

interface Tally {
  committed: number;
  heldOpen: number;
}

/** One writer: transactions of one to three random changes until `until`. */
async function writer(databaseUrl: string, random: () => number, until: number): Promise<Tally> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const tally: Tally = { committed: 0, heldOpen: 0 };
  try {
    while (Date.now() < until) {
      const holdMs = random() < 0.06 ? 1000 + random() * 4000 : 0;
      try {
        await client.query("BEGIN");
        const changes = 1 + Math.floor(random() * 3);
        for (let i = 0; i < changes; i++) await randomChange(client, random);
        if (holdMs > 0) {
          tally.heldOpen++;
          await sleep(holdMs);
        }
        if (random() < 0.05) {
          await client.query("ROLLBACK");
        } else {
          await client.query("COMMIT");
          tally.committed++;
        }
      } catch {
        // A deadlock or a row another writer deleted: this transaction is void.
        await client.query("ROLLBACK").catch(() => {});
      }
      await sleep(random() * 30);
    }
  } finally {
    await client.end();
  }
  return tally;
}

const pick = async (client: pg.Client, table: string): Promise<string | null> =>
  (await client.query<{ id: string }>(`SELECT id FROM content.${table} ORDER BY random() LIMIT 1`)).rows[0]?.id ?? null;

async function randomChange(client: pg.Client, random: () => number): Promise<void> {
  const kind = Math.floor(random() * 12);
  const film = await pick(client, "film_work");
  switch (kind) {
    case 0: {
      const id = crypto.randomUUID();
      await client.query(
        `INSERT INTO content.film_work (id, title, rating, type, created, modified) VALUES ($1, $2, $3, 'movie', now(), now())`,
        [id, `Шторм ${id.slice(0, 8)}`, Math.round(random() * 100) / 10],
      );
      const genre = await pick(client, "genre");
      if (genre)
        await client.query(
          "INSERT INTO content.genre_film_work (id, genre_id, film_work_id, created) VALUES (gen_random_uuid(), $1, $2, now())",
          [genre, id],
        );
      return;
    }
    case 1: // a field change with modified bumped
      await client.query("UPDATE content.film_work SET title = title || '+', modified = now() WHERE id = $1", [film]);
      return;
    case 2: // a change without bumping modified: only the change log sees it
      await client.query("UPDATE content.film_work SET rating = round((random() * 10)::numeric, 1) WHERE id = $1", [film]);
      return;
    case 3: // a change stamped in the past, behind every cursor
      await client.query(
        "UPDATE content.film_work SET description = md5(random()::text), modified = now() - interval '3 days' WHERE id = $1",
        [film],
      );
      return;
    case 4:
      await client.query("DELETE FROM content.film_work WHERE id = $1", [film]);
      return;
    case 5:
      await client.query("UPDATE content.genre SET name = left(name, 20) || ' ' || floor(random() * 100), modified = now() WHERE id = $1", [
        await pick(client, "genre"),
      ]);
      return;
    case 6:
      await client.query("UPDATE content.person SET full_name = left(full_name, 30) || '.' WHERE id = $1", [await pick(client, "person")]);
      return;
    case 7:
      await client.query("UPDATE content.person SET full_name = full_name || ' Jr', modified = now() WHERE id = $1", [
        await pick(client, "person"),
      ]);
      return;
    case 8: {
      const roles = ["actor", "director", "writer"];
      await client.query(
        `INSERT INTO content.person_film_work (id, person_id, film_work_id, role, created)
         VALUES (gen_random_uuid(), $1, $2, $3, now()) ON CONFLICT DO NOTHING`,
        [await pick(client, "person"), film, roles[Math.floor(random() * 3)]],
      );
      return;
    }
    case 9:
      await client.query("DELETE FROM content.person_film_work WHERE id = $1", [await pick(client, "person_film_work")]);
      return;
    case 10:
      await client.query(
        "INSERT INTO content.genre_film_work (id, genre_id, film_work_id, created) VALUES (gen_random_uuid(), $1, $2, now()) ON CONFLICT DO NOTHING",
        [await pick(client, "genre"), film],
      );
      return;
    default:
      await client.query("DELETE FROM content.genre_film_work WHERE id = $1", [await pick(client, "genre_film_work")]);
  }
}
