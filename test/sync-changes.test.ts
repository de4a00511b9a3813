import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Catalogue, changedIds } from "./support/catalogue.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { dropIndices, engineRequest, indexedDocuments, uniqueIndexName } from "./support/engine.ts";
import { expectIndexEqualsCatalogue, syncOnce, type EtlTarget } from "./support/etl.ts";

/**
 * Every kind of change must reach the index on the next cycle, touching
 * exactly the documents it affects. One seeded catalogue, changes applied in
 * turn, each followed by one cycle and a full comparison.
 */
describe("a sync cycle propagates every kind of change", () => {
  let db: TestDatabase;
  let catalogue: Catalogue;
  let target: EtlTarget;

  beforeAll(async () => {
    db = await createTestDatabase({ films: 200, seed: 7 });
    catalogue = new Catalogue(db.url);
    target = { databaseUrl: db.url, index: uniqueIndexName() };
    const outcome = await syncOnce(target);
    expect(outcome.fullLoad).toBe(true);
    expect(outcome.written).toBe(200);
    await expectIndexEqualsCatalogue(target);
  });

  afterAll(async () => {
    await catalogue?.close();
    await dropIndices(target.index);
    await db?.drop();
  });

  /** Applies a change, runs one cycle, returns the ids whose documents changed. */
  async function cycleAfter(change: () => Promise<void>): Promise<string[]> {
    const before = await indexedDocuments(target.index);
    await change();
    await syncOnce(target);
    const after = await expectIndexEqualsCatalogue(target);
    return changedIds(before, after);
  }

  const someFilm = async (offset = 0) =>
    (await catalogue.one<{ id: string }>("SELECT id FROM content.film_work ORDER BY id OFFSET $1 LIMIT 1", [offset])).id;

  it("does nothing when nothing changed", async () => {
    expect(await cycleAfter(async () => {})).toEqual([]);
  });

  it("a film's own fields (modified bumped)", async () => {
    const film = await someFilm(3);
    const changed = await cycleAfter(() =>
      catalogue.query("UPDATE content.film_work SET title = 'Новое название', modified = now() WHERE id = $1", [film]).then(() => {}),
    );
    expect(changed).toEqual([film]);
  });

  it("a new film", async () => {
    let film = "";
    const changed = await cycleAfter(async () => {
      film = await catalogue.addFilm({ title: "Brand new", rating: 7.1 });
    });
    expect(changed).toEqual([film]);
  });

  it("a film gains a genre (join-table insert)", async () => {
    const film = await someFilm(5);
    const genre = await catalogue.addGenre("Zzz brand-new genre");
    const changed = await cycleAfter(() => catalogue.linkGenre(film, genre));
    expect(changed).toEqual([film]);
  });

  it("a film loses a genre (join-table delete)", async () => {
    const link = await catalogue.one<{ id: string; film: string }>(
      "SELECT id, film_work_id AS film FROM content.genre_film_work ORDER BY id LIMIT 1",
    );
    const changed = await cycleAfter(() => catalogue.query("DELETE FROM content.genre_film_work WHERE id = $1", [link.id]).then(() => {}));
    expect(changed).toEqual([link.film]);
  });

  it("a film gains a person and loses another (join-table insert and delete)", async () => {
    const film = await someFilm(8);
    const person = await catalogue.addPerson("Ёжик Туманов 🦔");
    const link = await catalogue.one<{ id: string; film: string }>(
      "SELECT id, film_work_id AS film FROM content.person_film_work WHERE film_work_id <> $1 ORDER BY id LIMIT 1",
      [film],
    );
    const changed = await cycleAfter(async () => {
      await catalogue.linkPerson(film, person, "writer");
      await catalogue.query("DELETE FROM content.person_film_work WHERE id = $1", [link.id]);
    });
    expect(changed).toEqual([film, link.film].sort());
  });

  it("a genre renamed (modified bumped) changes all its films", async () => {
    const genre = await catalogue.one<{ id: string }>(
      "SELECT genre_id AS id FROM content.genre_film_work GROUP BY genre_id ORDER BY count(*) DESC, genre_id LIMIT 1",
    );
    const films = await catalogue.filmsOfGenre(genre.id);
    expect(films.length).toBeGreaterThan(1);
    const changed = await cycleAfter(() =>
      catalogue.query("UPDATE content.genre SET name = name || ' (ред.)', modified = now() WHERE id = $1", [genre.id]).then(() => {}),
    );
    expect(changed).toEqual(films.sort());
  });

  it("a person renamed without bumping modified is still seen", async () => {
    const person = await catalogue.one<{ id: string }>(
      "SELECT person_id AS id FROM content.person_film_work GROUP BY person_id HAVING count(DISTINCT film_work_id) > 1 ORDER BY person_id LIMIT 1",
    );
    const films = await catalogue.filmsOfPerson(person.id);
    const changed = await cycleAfter(() =>
      catalogue.query("UPDATE content.person SET full_name = full_name || ' Jr.' WHERE id = $1", [person.id]).then(() => {}),
    );
    expect(changed).toEqual(films.sort());
  });

  it("a film deleted goes away from the index", async () => {
    const film = await someFilm(11);
    const changed = await cycleAfter(() => catalogue.query("DELETE FROM content.film_work WHERE id = $1", [film]).then(() => {}));
    expect(changed).toEqual([film]);
    expect((await indexedDocuments(target.index)).has(film)).toBe(false);
  });

  it("a genre deleted leaves its films", async () => {
    const genre = await catalogue.one<{ id: string }>(
      "SELECT genre_id AS id FROM content.genre_film_work GROUP BY genre_id ORDER BY count(*), genre_id LIMIT 1",
    );
    const films = await catalogue.filmsOfGenre(genre.id);
    const changed = await cycleAfter(() => catalogue.query("DELETE FROM content.genre WHERE id = $1", [genre.id]).then(() => {}));
    expect(changed).toEqual(films.sort());
  });

  it("a person deleted leaves their films", async () => {
    const person = await catalogue.one<{ id: string }>(
      "SELECT person_id AS id FROM content.person_film_work GROUP BY person_id ORDER BY count(*) DESC, person_id LIMIT 1",
    );
    const films = await catalogue.filmsOfPerson(person.id);
    const changed = await cycleAfter(() => catalogue.query("DELETE FROM content.person WHERE id = $1", [person.id]).then(() => {}));
    expect(changed).toEqual(films.sort());
  });

  it("a long transaction in another database does not hold the change log back", async () => {
    const other = await createTestDatabase();
    const elsewhere = new Catalogue(other.url);
    const client = await elsewhere.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_current_xact_id()");
      const link = await catalogue.one<{ id: string; film: string }>(
        "SELECT id, film_work_id AS film FROM content.person_film_work ORDER BY id DESC LIMIT 1",
      );
      const changed = await cycleAfter(() =>
        catalogue.query("DELETE FROM content.person_film_work WHERE id = $1", [link.id]).then(() => {}),
      );
      expect(changed).toEqual([link.film]);
      await client.query("ROLLBACK");
    } finally {
      client.release();
      await elsewhere.close();
      await other.drop();
    }
  });

  it("a transaction that commits after the cursor passed its modified value is not skipped", async () => {
    const late = await someFilm(20);
    const early = await someFilm(21);
    const client = await catalogue.pool.connect();
    try {
      await client.query("BEGIN");
      // modified = now() is the transaction's start: older than what commits meanwhile.
      await client.query("UPDATE content.film_work SET title = 'Late commit', modified = now() WHERE id = $1", [late]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const meanwhile = await cycleAfter(() =>
        catalogue.query("UPDATE content.film_work SET title = 'Early commit', modified = now() WHERE id = $1", [early]).then(() => {}),
      );
      expect(meanwhile).toEqual([early]);
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    expect(await cycleAfter(async () => {})).toEqual([late]);
  });

  it("a change applied with session_replication_role = replica (a replica, a restore) is still seen", async () => {
    const film = await someFilm(30);
    const client = await catalogue.pool.connect();
    try {
      await client.query("SET session_replication_role = replica");
      const changed = await cycleAfter(() =>
        client.query("UPDATE content.film_work SET title = 'applied as a replica' WHERE id = $1", [film]).then(() => {}),
      );
      expect(changed).toEqual([film]);
    } finally {
      await client.query("RESET session_replication_role");
      client.release();
    }
  });

  it("a join table truncated (no row trigger fires): the next cycle loads everything again", async () => {
    const films = (await catalogue.query<{ id: string }>("SELECT DISTINCT film_work_id AS id FROM content.genre_film_work")).map(
      (r) => r.id,
    );
    expect(films.length).toBeGreaterThan(10);
    const changed = await cycleAfter(() => catalogue.query("TRUNCATE content.genre_film_work").then(() => {}));
    expect(changed).toEqual(films.sort());
  });

  it("TRUNCATEs among other changes, the log read two entries at a time: one reload covers them all", async () => {
    const [first, second] = [await someFilm(3), await someFilm(4)];
    await catalogue.query("TRUNCATE content.genre_film_work");
    for (const [i, id] of [first, second, first, second].entries()) {
      await catalogue.query("UPDATE content.film_work SET title = $2 WHERE id = $1", [id, `burst ${i}`]);
    }
    await catalogue.query("TRUNCATE content.genre_film_work");
    await catalogue.query("UPDATE content.film_work SET title = 'after the last truncate' WHERE id = $1", [first]);
    const outcome = await syncOnce(target, { ETL_CHANGE_BATCH_SIZE: "2" });
    expect(outcome.fullLoad).toBe(true);
    expect(outcome.windows).toBe(1);
    expect(outcome.written).toBe(200);
    await expectIndexEqualsCatalogue(target);
    expect((await syncOnce(target)).windows).toBe(0);
  });

  it("a reload of the live index (after a TRUNCATE) keeps its refresh and replicas: readers keep fresh results", async () => {
    await catalogue.query("TRUNCATE content.person_film_work");
    const seen = new Set<string>();
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const { body } = await engineRequest("GET", `/${target.index}/_settings/index.refresh_interval?flat_settings=true`);
        for (const value of Object.values(body) as Array<{ settings: Record<string, string> }>) {
          seen.add(value.settings["index.refresh_interval"] ?? "default");
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    // One film a batch, one batch at a time: the reload lasts long enough to be watched.
    const outcome = await syncOnce(target, { ETL_BATCH_SIZE: "1", ETL_BULK_CONCURRENCY: "1" }).finally(() => (polling = false));
    await poll;
    expect(outcome.fullLoad).toBe(true);
    expect(outcome.written).toBe(200);
    expect([...seen]).toEqual(["1s"]);
    await expectIndexEqualsCatalogue(target);
  });
});
