import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StateStore } from "../src/state/state-store.ts";
import { Catalogue } from "./support/catalogue.ts";
import { testPrisma } from "./support/clients.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { dropIndices, indexedTitle, uniqueIndexName } from "./support/engine.ts";
import {
  etlEnv,
  expectIndexEqualsCatalogue,
  logEntries,
  runCli,
  startCli,
  syncOnce,
  writtenInLogs,
  type EtlTarget,
} from "./support/etl.ts";
import { mulberry32 } from "./support/random.ts";
import { sleep, waitFor } from "./support/wait.ts";

/**
 * A genre or person with many films (a genre renamed in a large catalogue) is
 * rewritten as a fan-out, in slices between windows: small changes must not
 * wait behind it, and nothing may be lost when a run dies in the middle.
 * Here "many" is 50 films, and slices are as small as they get.
 */
const LANE = { ETL_LARGE_FANOUT_FILMS: "50", ETL_FANOUT_SLICE_MS: "1", ETL_BATCH_SIZE: "5", ETL_BULK_CONCURRENCY: "1" };

describe("large fan-outs, rewritten between smaller changes", () => {
  let db: TestDatabase;
  let catalogue: Catalogue;
  let target: EtlTarget;
  let everything: string;

  beforeAll(async () => {
    db = await createTestDatabase({ films: 400, seed: 41 });
    catalogue = new Catalogue(db.url);
    target = { databaseUrl: db.url, index: uniqueIndexName() };
    // One genre every film has: its rename touches the whole catalogue.
    everything = await catalogue.addGenre("Всё подряд");
    await catalogue.query(
      "INSERT INTO content.genre_film_work (id, genre_id, film_work_id, created) SELECT gen_random_uuid(), $1, id, now() FROM content.film_work",
      [everything],
    );
    await syncOnce(target);
  });

  afterAll(async () => {
    await catalogue?.close();
    await dropIndices(target.index);
    await db?.drop();
  });

  const fanOutState = async () =>
    (
      await catalogue.query<{ value: { queue: Array<{ after: string | null }> } }>("SELECT value FROM content.etl_state WHERE name = $1", [
        `${target.index}:fanout`,
      ])
    )[0]?.value.queue ?? null;

  // With slices of 1 ms the cycle plans again after every batch; with slices of 10 minutes only the
  // change's notification makes the fan-out yield (a watcher's slice ends as soon as a change is committed).
  it.each([
    ["after the slice's time", "1"],
    ["as soon as the change is notified", "600000"],
  ])(
    "a change committed while a fan-out is under way reaches the index before the fan-out ends: it yields %s",
    { timeout: 120_000 },
    async (_, sliceMs) => {
      const watcher = startCli(
        ["--watch"],
        etlEnv(target, { ...LANE, ETL_FANOUT_SLICE_MS: sliceMs, ETL_WATCH_INTERVAL_S: "300", METRICS_PORT: "0" }),
        { timeoutMs: 110_000 },
      );
      try {
        await catalogue.query("UPDATE content.genre SET name = name || ' (новое)', modified = now() WHERE id = $1", [everything]);
        await waitFor(async () => (await fanOutState())?.[0]?.after != null, 30_000, "the fan-out under way");

        // The film the fan-out reaches last (films go in id order).
        const last = (await catalogue.query<{ id: string }>("SELECT id FROM content.film_work ORDER BY id DESC LIMIT 1"))[0]!.id;
        const urgent = `Срочно ${sliceMs}`;
        await catalogue.query("UPDATE content.film_work SET title = $2, modified = now() WHERE id = $1", [last, urgent]);
        await waitFor(async () => (await indexedTitle(target.index, last)) === urgent, 30_000, "the small change in the index");
        const queue = await fanOutState();
        expect(queue, "the fan-out had ended before the small change was written").not.toBeNull();
        expect(queue![0]!.after! < last).toBe(true);

        await waitFor(async () => (await fanOutState()) === null, 60_000, "the fan-out to end");
        watcher.signal("SIGTERM");
        const result = await watcher.result;
        expect(result.code, result.stderr.slice(-2000)).toBe(143);
        await expectIndexEqualsCatalogue(target);
      } finally {
        watcher.signal("SIGKILL");
      }
    },
  );

  it("a fan-out lane resting for its duty cycle wakes for a committed change, and for a stop", { timeout: 120_000 }, async () => {
    // 1 % duty: a slice of at least 200 ms, then a rest of at least 19.8 s.
    const env = etlEnv(target, {
      ...LANE,
      ETL_FANOUT_SLICE_MS: "200",
      ETL_FANOUT_DUTY_PCT: "1",
      ETL_WATCH_INTERVAL_S: "300",
      METRICS_PORT: "0",
    });
    const watcher = startCli(["--watch"], env, { timeoutMs: 110_000 });
    try {
      await catalogue.query("UPDATE content.genre SET name = name || ' (отдых)', modified = now() WHERE id = $1", [everything]);
      // Resting: the fan-out under way, its cursor still for a second.
      let seen: string | null = null;
      await waitFor(
        async () => {
          const after = (await fanOutState())?.[0]?.after ?? null;
          const still = after !== null && after === seen;
          seen = after;
          return still;
        },
        30_000,
        "the fan-out lane resting",
        1000,
      );
      const film = (await catalogue.query<{ id: string }>("SELECT id FROM content.film_work ORDER BY id DESC LIMIT 1"))[0]!.id;
      await catalogue.query("UPDATE content.film_work SET title = 'Пока отдыхает', modified = now() WHERE id = $1", [film]);
      await waitFor(
        async () => (await indexedTitle(target.index, film)) === "Пока отдыхает",
        8_000,
        "the change, well before the rest ends",
      );
      expect((await fanOutState())?.[0]?.after).toBe(seen);

      watcher.signal("SIGTERM");
      const result = await watcher.result;
      expect(result.code, result.stderr.slice(-2000)).toBe(143);
      expect(result.stderr, "the stop waited for the rest to end").not.toContain("shutdown budget spent");
    } finally {
      watcher.signal("SIGKILL");
    }
    await syncOnce(target, { ...LANE, ETL_FANOUT_DUTY_PCT: "100" });
    expect(await fanOutState()).toBeNull();
    await expectIndexEqualsCatalogue(target);
  });

  it("a rename is rewritten once, though both the change log and the genre's cursor see it", { timeout: 120_000 }, async () => {
    // The cursor sees the row a commit lag after the log did, while the fan-out is under way.
    const watcher = startCli(
      ["--watch"],
      etlEnv(target, { ...LANE, ETL_COMMIT_LAG_MS: "1000", ETL_WATCH_INTERVAL_S: "300", METRICS_PORT: "0" }),
      { timeoutMs: 110_000 },
    );
    const written = () => writtenInLogs(watcher.stderr());
    try {
      await waitFor(() => logEntries(watcher.stderr()).some((entry) => entry.msg === "sync finished"), 30_000, "the first cycle");
      const before = written();
      await catalogue.query("UPDATE content.genre SET name = name || ' (ещё раз)', modified = now() WHERE id = $1", [everything]);
      await waitFor(async () => (await fanOutState()) !== null, 30_000, "the fan-out");
      await waitFor(async () => (await fanOutState()) === null, 60_000, "the fan-out to end");
      await sleep(3000); // the cursor's turn, a commit lag later
      await waitFor(async () => (await fanOutState()) === null, 60_000, "any second fan-out to end");
      const films = Number((await catalogue.query<{ count: string }>("SELECT count(*) FROM content.film_work"))[0]!.count);
      await waitFor(() => written() - before >= films, 30_000, "the cycle's summary");
      expect(written() - before).toBe(films);
    } finally {
      watcher.signal("SIGKILL");
    }
    await expectIndexEqualsCatalogue(target);
  });

  it("a genre renamed again and again during its own fan-out does not keep a run from ending", { timeout: 120_000 }, async () => {
    let renaming = true;
    const renamer = (async () => {
      while (renaming) {
        await catalogue.query("UPDATE content.genre SET name = left(name, 60) || '~', modified = now() WHERE id = $1", [everything]);
        await sleep(200);
      }
    })();
    try {
      const started = Date.now();
      const run = await runCli([], etlEnv(target, LANE), { timeoutMs: 100_000 });
      expect(run.code, run.stderr.slice(-2000)).toBe(0);
      expect(renaming).toBe(true);
      expect(Date.now() - started).toBeLessThan(60_000);
      const summary = logEntries(run.stderr).find((entry) => entry.msg === "sync finished");
      expect(summary?.fanOutsLeft).toBeDefined();
    } finally {
      renaming = false;
      await renamer;
    }
    await syncOnce(target, LANE);
    await expectIndexEqualsCatalogue(target);
  });

  it("a run killed with SIGKILL during a fan-out: status shows what is left, and the rerun converges", { timeout: 300_000 }, async () => {
    const random = mulberry32(4242);
    const env = etlEnv(target, LANE);
    let killedDuringFanOut = 0;
    for (let trial = 0; trial < 6; trial++) {
      await catalogue.query("UPDATE content.genre SET name = name || '+', modified = now() WHERE id = $1", [everything]);
      await smallChanges(catalogue, random);
      let pid = 0;
      let exited = false;
      const run = runCli([], env, { onSpawn: (spawned) => (pid = spawned) }).finally(() => (exited = true));
      await waitFor(async () => exited || (await fanOutState()) !== null, 30_000, "a fan-out recorded");
      await sleep(Math.floor(random() * 300));
      if (!exited) {
        process.kill(pid, "SIGKILL");
        if ((await run).signal === "SIGKILL" && (await fanOutState()) !== null) killedDuringFanOut++;
      }
      // Changes committed between the kill and the rerun, the big genre's among them.
      await smallChanges(catalogue, random);
      if (trial % 2 === 1)
        await catalogue.query("UPDATE content.genre SET name = name || '*', modified = now() WHERE id = $1", [everything]);

      if ((await fanOutState()) !== null) {
        const status = await runCli(["status", "--json"], env);
        const facts = JSON.parse(status.stdout) as { fanOutFilmsPending: number; lagSeconds: number };
        expect(facts.fanOutFilmsPending).toBeGreaterThan(0);
        expect(facts.lagSeconds).toBeGreaterThan(0);
      }
      await syncOnce(target, { ETL_LARGE_FANOUT_FILMS: LANE.ETL_LARGE_FANOUT_FILMS });
      expect(await fanOutState()).toBeNull();
      await expectIndexEqualsCatalogue(target);
    }
    // The trials must have killed runs mid fan-out, or they prove nothing.
    expect(killedDuringFanOut).toBeGreaterThanOrEqual(3);
  });

  it("a full load (after a TRUNCATE) supersedes the fan-outs still to do", { timeout: 120_000 }, async () => {
    await catalogue.query("UPDATE content.genre SET name = name || '#', modified = now() WHERE id = $1", [everything]);
    let pid = 0;
    const run = runCli([], etlEnv(target, LANE), { onSpawn: (spawned) => (pid = spawned) });
    await waitFor(async () => (await fanOutState())?.[0]?.after != null, 30_000, "the fan-out under way");
    process.kill(pid, "SIGKILL");
    await run;
    expect(await fanOutState()).not.toBeNull();

    await catalogue.query("TRUNCATE content.person_film_work");
    const outcome = await syncOnce(target, LANE);
    expect(outcome.fullLoad).toBe(true);
    // Each film once: the full load wrote every film after the rename, so the fan-out is not done again.
    const films = (await catalogue.query<{ count: string }>("SELECT count(*) FROM content.film_work"))[0]!.count;
    expect(outcome.written).toBe(Number(films));
    expect(await fanOutState()).toBeNull();
    await expectIndexEqualsCatalogue(target);
  });

  it("reindex hands the fan-outs still to do over to the alias, with the cursors", async () => {
    const prisma = testPrisma(db.url);
    try {
      const source = new StateStore(prisma, `${target.index}_handover_source`);
      const alias = new StateStore(prisma, `${target.index}_handover_alias`);
      const next = { tables: {}, log: null };
      await source.finishWindow({ next, deferred: { genreIds: [everything], personIds: [] }, plannedAt: "2026-11-29T12:00:00.000Z" });
      await source.saveFanOutCursor("00000000-0000-0000-0000-000000000042");
      await source.handOverTo(alias);
      expect((await alias.load()).fanOuts).toEqual([
        { genreIds: [everything], personIds: [], after: "00000000-0000-0000-0000-000000000042", since: "2026-11-29T12:00:00.000Z" },
      ]);
      expect((await source.load()).fanOuts).toEqual([]);
      await alias.clear();
    } finally {
      await prisma.$disconnect();
    }
  });
});

/** A handful of changes of every small kind: film fields, a person, links, a new film, a deletion. */
async function smallChanges(catalogue: Catalogue, random: () => number): Promise<void> {
  const pick = async (table: string) =>
    (
      await catalogue.query<{ id: string }>(
        `SELECT id FROM content.${table} OFFSET floor($1::float8 * (SELECT count(*) FROM content.${table})) LIMIT 1`,
        [random() * 0.999],
      )
    )[0]?.id;
  await catalogue.query("UPDATE content.film_work SET rating = round((random() * 10)::numeric, 1) WHERE id = $1", [
    await pick("film_work"),
  ]);
  await catalogue.query("UPDATE content.person SET full_name = full_name || '.', modified = now() WHERE id = $1", [await pick("person")]);
  await catalogue.query("DELETE FROM content.person_film_work WHERE id = $1", [await pick("person_film_work")]);
  await catalogue.query(
    "DELETE FROM content.genre_film_work WHERE id = $1 AND genre_id <> (SELECT id FROM content.genre ORDER BY created DESC LIMIT 1)",
    [await pick("genre_film_work")],
  );
  const film = await catalogue.addFilm({ title: `Новый ${Math.floor(random() * 1e6)}`, rating: 6 });
  await catalogue.query(
    "INSERT INTO content.genre_film_work (id, genre_id, film_work_id, created) SELECT gen_random_uuid(), g.id, $1, now() FROM content.genre g ORDER BY g.created DESC LIMIT 1",
    [film],
  );
  await catalogue.query("DELETE FROM content.film_work WHERE id = $1", [await pick("film_work")]);
}
