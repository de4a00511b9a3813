import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Catalogue, changedIds } from "./support/catalogue.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { dropIndices, indexedDocuments, uniqueIndexName } from "./support/engine.ts";
import { expectIndexEqualsCatalogue, syncOnce, type EtlTarget } from "./support/etl.ts";

/**
 * Without the optional change capture the `(modified, id)` cursors alone must
 * still be exact: rows sharing a `modified` value across a batch boundary,
 * and rows apart by microseconds inside one millisecond.
 */
describe("the (modified, id) cursors on a catalogue without change capture", () => {
  let db: TestDatabase;
  let catalogue: Catalogue;
  let target: EtlTarget;
  const smallBatches = { ETL_CHANGE_BATCH_SIZE: "3", ETL_BATCH_SIZE: "4" };

  beforeAll(async () => {
    db = await createTestDatabase({ films: 60, seed: 11 });
    catalogue = new Catalogue(db.url);
    await catalogue.dropChangeCapture();
    target = { databaseUrl: db.url, index: uniqueIndexName() };
    await syncOnce(target, smallBatches);
    await expectIndexEqualsCatalogue(target);
  });

  afterAll(async () => {
    await catalogue?.close();
    await dropIndices(target.index);
    await db?.drop();
  });

  it("handles every row when many share one modified value across batch boundaries", async () => {
    const films = (await catalogue.query<{ id: string }>("SELECT id FROM content.film_work ORDER BY id LIMIT 10")).map((r) => r.id);
    const before = await indexedDocuments(target.index);
    // One statement: all ten rows get exactly the same modified value.
    await catalogue.query("UPDATE content.film_work SET description = 'same instant', modified = now() WHERE id = ANY($1::uuid[])", [
      films,
    ]);
    await syncOnce(target, smallBatches);
    const after = await expectIndexEqualsCatalogue(target);
    expect(changedIds(before, after)).toEqual([...films].sort());
  });

  it("handles rows microseconds apart inside one millisecond, in any id order", async () => {
    const films = (await catalogue.query<{ id: string }>("SELECT id FROM content.film_work ORDER BY id DESC LIMIT 8")).map((r) => r.id);
    const before = await indexedDocuments(target.index);
    // Microsecond offsets run against id order, so a cursor on the millisecond
    // Prisma can see would lose rows if it mixed the two orders.
    await catalogue.query(
      `UPDATE content.film_work f SET description = 'micro ' || f.id,
         modified = date_trunc('milliseconds', now()) + make_interval(secs => 0.000001 * (100 - ord.n))
       FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM content.film_work WHERE id = ANY($1::uuid[])) ord
       WHERE f.id = ord.id`,
      [films],
    );
    await syncOnce(target, smallBatches);
    const after = await expectIndexEqualsCatalogue(target);
    expect(changedIds(before, after)).toEqual([...films].sort());
  });

  it("picks up a genre rename and a person rename through the fan-out", async () => {
    const genre = await catalogue.one<{ id: string }>("SELECT genre_id AS id FROM content.genre_film_work LIMIT 1");
    const person = await catalogue.one<{ id: string }>("SELECT person_id AS id FROM content.person_film_work LIMIT 1");
    const expected = new Set([...(await catalogue.filmsOfGenre(genre.id)), ...(await catalogue.filmsOfPerson(person.id))]);
    const before = await indexedDocuments(target.index);
    await catalogue.query("UPDATE content.genre SET name = 'Renamed', modified = now() WHERE id = $1", [genre.id]);
    await catalogue.query("UPDATE content.person SET full_name = 'Renamed Person', modified = now() WHERE id = $1", [person.id]);
    await syncOnce(target, smallBatches);
    const after = await expectIndexEqualsCatalogue(target);
    expect(changedIds(before, after)).toEqual([...expected].sort());
  });
});
