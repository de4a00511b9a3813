import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Catalogue } from "./support/catalogue.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { dropIndices, uniqueIndexName } from "./support/engine.ts";
import { etlEnv, expectIndexEqualsCatalogue, runCli, syncOnce, type EtlTarget } from "./support/etl.ts";
import { mulberry32 } from "./support/random.ts";
import { waitFor } from "./support/wait.ts";

const TRIALS = 20;

/**
 * SIGKILL gives the process no chance to clean up: whatever it had not saved
 * is lost. At any such point the next run must still end with the index equal
 * to the catalogue.
 */
describe("a run killed with SIGKILL at a random point", () => {
  let db: TestDatabase;
  let catalogue: Catalogue;
  let target: EtlTarget;

  beforeAll(async () => {
    db = await createTestDatabase({ films: 1500, seed: 31 });
    catalogue = new Catalogue(db.url);
    target = { databaseUrl: db.url, index: uniqueIndexName() };
  });

  afterAll(async () => {
    await catalogue?.close();
    await dropIndices(target.index);
    await db?.drop();
  });

  it(`always converges on the rerun (${TRIALS} trials)`, { timeout: 900_000 }, async () => {
    const random = mulberry32(20261129);
    // Small batches: many points to be killed at. Half the trials write one
    // batch at a time, half at the default concurrency (batches in flight together).
    const oneAtATime = etlEnv(target, { ETL_BATCH_SIZE: "10", ETL_CHANGE_BATCH_SIZE: "40", ETL_BULK_CONCURRENCY: "1" });
    const byDefault = etlEnv(target, { ETL_BATCH_SIZE: "10", ETL_CHANGE_BATCH_SIZE: "40" });
    let killedMidRun = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const env = trial % 2 === 0 ? byDefault : oneAtATime;
      if (trial % 3 === 0) {
        // Forget all state: the killed run is a full load.
        await catalogue.query("DELETE FROM content.etl_state");
      } else {
        await randomChanges(catalogue, random, 120);
      }
      let pid = 0;
      let exited = false;
      const run = runCli([], env, { onSpawn: (spawned) => (pid = spawned) }).finally(() => (exited = true));
      // Every fourth trial is killed at a random moment from the start (it may
      // hit start-up); the others at a random moment once a window is under way.
      if (trial % 4 !== 3)
        await waitFor(async () => exited || (await windowInProgress(catalogue, target.index)), 60_000, "a window under way");
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * (trial % 4 === 3 ? 3000 : 400))));
      if (!exited) {
        process.kill(pid, "SIGKILL");
        const result = await run;
        if (result.signal === "SIGKILL") killedMidRun++;
      }
      await syncOnce(target);
      await expectIndexEqualsCatalogue(target);
    }
    // The trials must have killed real runs, or they prove nothing.
    expect(killedMidRun).toBeGreaterThanOrEqual(TRIALS / 2);
  });
});

async function windowInProgress(catalogue: Catalogue, index: string): Promise<boolean> {
  const rows = await catalogue.query("SELECT 1 FROM content.etl_state WHERE name = $1", [`${index}:window`]);
  return rows.length > 0;
}

async function randomChanges(catalogue: Catalogue, random: () => number, count: number): Promise<void> {
  const pick = async (table: string) =>
    (
      await catalogue.one<{ id: string }>(
        `SELECT id FROM content.${table} OFFSET floor($1::float8 * (SELECT count(*) FROM content.${table})) LIMIT 1`,
        [random() * 0.999],
      )
    ).id;
  for (let i = 0; i < count; i++) {
    const kind = Math.floor(random() * 7);
    if (kind === 0)
      await catalogue.query("UPDATE content.film_work SET rating = round((random() * 10)::numeric, 1), modified = now() WHERE id = $1", [
        await pick("film_work"),
      ]);
    else if (kind === 1)
      await catalogue.query("UPDATE content.person SET full_name = full_name || '.', modified = now() WHERE id = $1", [
        await pick("person"),
      ]);
    else if (kind === 2) await catalogue.query("DELETE FROM content.person_film_work WHERE id = $1", [await pick("person_film_work")]);
    else if (kind === 3) await catalogue.linkPerson(await pick("film_work"), await pick("person"), "writer").catch(() => {});
    else if (kind === 4) await catalogue.query("DELETE FROM content.genre_film_work WHERE id = $1", [await pick("genre_film_work")]);
    else if (kind === 5) await catalogue.addFilm({ title: `Новый фильм ${i}`, rating: 5 });
    else await catalogue.query("DELETE FROM content.film_work WHERE id = $1", [await pick("film_work")]);
  }
}
