import { testPool } from "./clients.ts";
import { randomUUID } from "node:crypto";
import pg from "pg";

/** Direct SQL on a test catalogue, the way the admin panel would change it. */
export class Catalogue {
  readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = testPool(databaseUrl, 4);
  }

  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.pool.query<R>(sql, params).then((result) => result.rows);
  }

  async addGenre(name: string): Promise<string> {
    const id = randomUUID();
    await this.query("INSERT INTO content.genre (id, name, created, modified) VALUES ($1, $2, now(), now())", [id, name]);
    return id;
  }

  async addPerson(fullName: string): Promise<string> {
    const id = randomUUID();
    await this.query("INSERT INTO content.person (id, full_name, created, modified) VALUES ($1, $2, now(), now())", [id, fullName]);
    return id;
  }

  async addFilm(film: { title: string; description?: string | null; rating?: number | null }): Promise<string> {
    const id = randomUUID();
    await this.query(
      `INSERT INTO content.film_work (id, title, description, rating, type, created, modified)
       VALUES ($1, $2, $3, $4, 'movie', now(), now())`,
      [id, film.title, film.description ?? null, film.rating ?? null],
    );
    return id;
  }

  async linkGenre(filmId: string, genreId: string): Promise<void> {
    await this.query("INSERT INTO content.genre_film_work (id, genre_id, film_work_id, created) VALUES ($1, $2, $3, now())", [
      randomUUID(),
      genreId,
      filmId,
    ]);
  }

  async linkPerson(filmId: string, personId: string, role: "director" | "actor" | "writer"): Promise<void> {
    await this.query("INSERT INTO content.person_film_work (id, person_id, film_work_id, role, created) VALUES ($1, $2, $3, $4, now())", [
      randomUUID(),
      personId,
      filmId,
      role,
    ]);
  }

  /** Films linked to a genre or a person, for the expected blast radius of a change. */
  async filmsOfGenre(genreId: string): Promise<string[]> {
    const rows = await this.query<{ id: string }>("SELECT film_work_id AS id FROM content.genre_film_work WHERE genre_id = $1", [genreId]);
    return rows.map((r) => r.id);
  }

  async filmsOfPerson(personId: string): Promise<string[]> {
    const rows = await this.query<{ id: string }>("SELECT DISTINCT film_work_id AS id FROM content.person_film_work WHERE person_id = $1", [
      personId,
    ]);
    return rows.map((r) => r.id);
  }

  async one<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R> {
    const rows = await this.query<R>(sql, params);
    if (!rows[0]) throw new Error(`no row for: ${sql}`);
    return rows[0];
  }

  /** Removes the optional change capture, as on a catalogue whose DBA declined it. */
  async dropChangeCapture(): Promise<void> {
    await this.query("DROP FUNCTION IF EXISTS content.etl_log_entity_change() CASCADE");
    await this.query("DROP FUNCTION IF EXISTS content.etl_log_film_link_change() CASCADE");
    await this.query("DROP TABLE IF EXISTS content.etl_change");
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** Ids whose documents differ between two snapshots of the index. */
export function changedIds(before: Map<string, unknown>, after: Map<string, unknown>): string[] {
  const ids = new Set([...before.keys(), ...after.keys()]);
  return [...ids].filter((id) => JSON.stringify(before.get(id)) !== JSON.stringify(after.get(id))).sort();
}
