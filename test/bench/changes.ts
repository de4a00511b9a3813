// 100 random changes of mixed kinds, the way the admin panel makes them: film
// updates, person renames, join-table inserts and deletes, film deletes, new
// films. Never genre renames: a genre fans out to 1/26 of the catalogue, so
// its cost grows with the catalogue by definition.
import { randomUUID } from "node:crypto";
import pg from "pg";

export const CHANGE_MIX = {
  filmUpdates: 25,
  personRenames: 15,
  linkInserts: 20,
  linkDeletes: 15,
  filmDeletes: 10,
  newFilms: 15,
} as const;

/** Applies the mix; returns the number of changes made (100). */
export async function applyRandomChanges(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "movies-etl bench changes" });
  await client.connect();
  let made = 0;
  try {
    const randomFilm = () => randomId(client, "film_work");
    const randomPerson = () => randomId(client, "person");
    for (let i = 0; i < CHANGE_MIX.filmUpdates; i++) {
      await client.query(
        `UPDATE content.film_work SET title = title || ' (bench)', rating = round((random() * 10)::numeric, 1), modified = now() WHERE id = $1`,
        [await randomFilm()],
      );
      made++;
    }
    for (let i = 0; i < CHANGE_MIX.personRenames; i++) {
      await client.query(`UPDATE content.person SET full_name = full_name || ' Jr.', modified = now() WHERE id = $1`, [
        await randomPerson(),
      ]);
      made++;
    }
    for (let i = 0; i < CHANGE_MIX.linkInserts; i++) {
      if (i % 2 === 0) {
        await client.query(
          `INSERT INTO content.person_film_work (id, person_id, film_work_id, role, created) VALUES ($1, $2, $3, 'actor', now())
           ON CONFLICT DO NOTHING`,
          [randomUUID(), await randomPerson(), await randomFilm()],
        );
      } else {
        await client.query(
          `INSERT INTO content.genre_film_work (id, genre_id, film_work_id, created)
           SELECT $1, g.id, $2, now() FROM content.genre g ORDER BY random() LIMIT 1 ON CONFLICT DO NOTHING`,
          [randomUUID(), await randomFilm()],
        );
      }
      made++;
    }
    for (let i = 0; i < CHANGE_MIX.linkDeletes; i++) {
      const table = i % 2 === 0 ? "person_film_work" : "genre_film_work";
      await client.query(
        `DELETE FROM content.${table} WHERE id = (SELECT id FROM content.${table} WHERE film_work_id >= $1 ORDER BY film_work_id LIMIT 1)`,
        [randomUUID()],
      );
      made++;
    }
    for (let i = 0; i < CHANGE_MIX.filmDeletes; i++) {
      await client.query(`DELETE FROM content.film_work WHERE id = $1`, [await randomFilm()]);
      made++;
    }
    for (let i = 0; i < CHANGE_MIX.newFilms; i++) {
      const id = randomUUID();
      await client.query(
        `INSERT INTO content.film_work (id, title, description, rating, type, created, modified)
         VALUES ($1, $2, 'A film added by the bench.', 7.5, 'movie', now(), now())`,
        [id, `Bench film ${id.slice(0, 8)}`],
      );
      await client.query(
        `INSERT INTO content.person_film_work (id, person_id, film_work_id, role, created) VALUES ($1, $2, $3, 'director', now())`,
        [randomUUID(), await randomPerson(), id],
      );
      made++;
    }
  } finally {
    await client.end();
  }
  return made;
}

/** A random row's id: the first id at or after a random UUID (ids are uniform UUIDs). */
async function randomId(client: pg.Client, table: "film_work" | "person"): Promise<string> {
  const sql = `SELECT id FROM content.${table} WHERE id >= $1 ORDER BY id LIMIT 1`;
  const row =
    (await client.query<{ id: string }>(sql, [randomUUID()])).rows[0] ??
    (await client.query<{ id: string }>(`SELECT id FROM content.${table} ORDER BY id LIMIT 1`)).rows[0];
  if (!row) throw new Error(`content.${table} is empty`);
  return row.id;
}
