import { testPrisma } from "./support/clients.ts";
// The synthetic catalogue: deterministic, shaped as asked, safe against
// overwriting a real catalogue, and readable through the generated Prisma client.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../scripts/db-migrations-folder.ts";
import { formatUtcDate, formatUtcTimestamp } from "../seed/timestamps.ts";
import { CatalogueNotEmptyError, seedCatalogue } from "../seed/seed-catalogue.ts";
import { PrismaClient } from "../src/generated/prisma/client.ts";
import { catalogueChecksum } from "./support/catalogue-checksum.ts";
import { createTestDatabase, describeContentSchema, setupTemplateDatabase, type TestDatabase } from "./support/database.ts";

const run = promisify(execFile);
const films = 1000;
const databases: TestDatabase[] = [];

async function database(options: { films?: number; seed?: number } = {}): Promise<TestDatabase> {
  const created = await createTestDatabase(options);
  databases.push(created);
  return created;
}

async function query<Row extends pg.QueryResultRow>(databaseUrl: string, sql: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<Row>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

async function one<Row extends pg.QueryResultRow>(databaseUrl: string, sql: string): Promise<Row> {
  return (await query<Row>(databaseUrl, sql))[0]!;
}

let seeded: TestDatabase;

beforeAll(async () => {
  await setupTemplateDatabase();
  seeded = await database({ films, seed: 1 });
});

afterAll(async () => {
  for (const created of databases) await created.drop();
});

describe("determinism", () => {
  it("the same SEED and size give the same catalogue; another SEED another one", async () => {
    const again = await database({ films, seed: 1 });
    const other = await database({ films, seed: 2 });
    const [first, second, third] = await Promise.all([
      catalogueChecksum(seeded.url),
      catalogueChecksum(again.url),
      catalogueChecksum(other.url),
    ]);
    expect(second).toEqual(first);
    expect(third.md5).not.toBe(first.md5);
    for (const table of ["film_work", "person", "genre", "genre_film_work", "person_film_work"] as const) {
      expect(third.tables[table].md5, table).not.toBe(first.tables[table].md5);
    }
  });

  it("formats timestamps exactly as Date#toISOString does", () => {
    for (let millis = Date.UTC(1950, 0, 1); millis < Date.UTC(2030, 0, 1); millis += 7_777_777_777 + 123) {
      const iso = new Date(millis).toISOString();
      expect(formatUtcTimestamp(millis)).toBe(`${iso.slice(0, 10)} ${iso.slice(11, 23)}+00`);
      expect(formatUtcDate(millis)).toBe(iso.slice(0, 10));
    }
  });
});

describe("shape", () => {
  it("has SEED_FILMS films, 26 genres and about four persons per film, shared across films", async () => {
    const counts = await one<{ films: number; genres: number; persons: number; shared: number }>(
      seeded.url,
      `SELECT (SELECT count(*)::int FROM content.film_work) AS films,
              (SELECT count(*)::int FROM content.genre) AS genres,
              (SELECT count(*)::int FROM content.person) AS persons,
              (SELECT count(*)::int FROM (SELECT person_id FROM content.person_film_work
                 GROUP BY person_id HAVING count(DISTINCT film_work_id) > 1) AS p) AS shared`,
    );
    expect(counts.films).toBe(films);
    expect(counts.genres).toBe(26);
    expect(counts.persons).toBeGreaterThanOrEqual(3.5 * films);
    expect(counts.persons).toBeLessThanOrEqual(4.5 * films);
    expect(counts.shared).toBeGreaterThan(films / 2);
  });

  it("gives every film 1–3 genres", async () => {
    const perFilm = await one<{ min: number; max: number; without: number }>(
      seeded.url,
      `SELECT min(n)::int AS min, max(n)::int AS max, count(*) FILTER (WHERE n = 0)::int AS without
       FROM (SELECT count(g.id) AS n FROM content.film_work f LEFT JOIN content.genre_film_work g ON g.film_work_id = f.id GROUP BY f.id) AS c`,
    );
    expect(perFilm).toEqual({ min: 1, max: 3, without: 0 });
  });

  it("gives films 0–3 directors, 0–5 writers, 0–15 actors; about 5% have nobody; some person has two roles in a film", async () => {
    const roles = await query<{ role: string; max: number }>(
      seeded.url,
      `SELECT role, max(n)::int AS max FROM (SELECT film_work_id, role, count(*) AS n FROM content.person_film_work GROUP BY 1, 2) AS c
       GROUP BY role ORDER BY role`,
    );
    expect(roles).toEqual([
      { role: "actor", max: 15 },
      { role: "director", max: 3 },
      { role: "writer", max: 5 },
    ]);
    const people = await one<{ nobody: number; two_roles: number }>(
      seeded.url,
      `SELECT (SELECT count(*)::int FROM content.film_work f
               WHERE NOT EXISTS (SELECT 1 FROM content.person_film_work p WHERE p.film_work_id = f.id)) AS nobody,
              (SELECT count(*)::int FROM (SELECT film_work_id, person_id FROM content.person_film_work
                 GROUP BY 1, 2 HAVING count(DISTINCT role) > 1) AS t) AS two_roles`,
    );
    expect(people.nobody).toBeGreaterThanOrEqual(0.02 * films);
    expect(people.nobody).toBeLessThanOrEqual(0.09 * films);
    expect(people.two_roles).toBeGreaterThan(0);
  });

  it("has NULL descriptions, ratings and creation dates; ratings 0–10 with one decimal; both types", async () => {
    const stats = await one<Record<"null_descriptions" | "null_ratings" | "null_dates" | "bad_ratings" | "movies" | "tv_shows", number>>(
      seeded.url,
      `SELECT count(*) FILTER (WHERE description IS NULL)::int AS null_descriptions,
              count(*) FILTER (WHERE rating IS NULL)::int AS null_ratings,
              count(*) FILTER (WHERE creation_date IS NULL)::int AS null_dates,
              count(*) FILTER (WHERE rating < 0 OR rating > 10 OR rating * 10 <> round(rating * 10))::int AS bad_ratings,
              count(*) FILTER (WHERE type = 'movie')::int AS movies,
              count(*) FILTER (WHERE type = 'tv_show')::int AS tv_shows
       FROM content.film_work`,
    );
    expect(stats.null_descriptions).toBeGreaterThan(0.12 * films);
    expect(stats.null_descriptions).toBeLessThan(0.28 * films);
    expect(stats.null_ratings).toBeGreaterThan(0.05 * films);
    expect(stats.null_ratings).toBeLessThan(0.15 * films);
    expect(stats.null_dates).toBeGreaterThan(0);
    expect(stats.bad_ratings).toBe(0);
    expect(stats.movies + stats.tv_shows).toBe(films);
    expect(stats.tv_shows).toBeGreaterThan(0);
  });

  it("mixes Cyrillic and Latin titles and names", async () => {
    const scripts = await one<Record<"cyrillic_titles" | "latin_titles" | "cyrillic_names" | "latin_names", number>>(
      seeded.url,
      `SELECT (SELECT count(*)::int FROM content.film_work WHERE title ~ '[А-Яа-яЁё]') AS cyrillic_titles,
              (SELECT count(*)::int FROM content.film_work WHERE title ~ '^[A-Za-z]') AS latin_titles,
              (SELECT count(*)::int FROM content.person WHERE full_name ~ '[А-Яа-яЁё]') AS cyrillic_names,
              (SELECT count(*)::int FROM content.person WHERE full_name ~ '^[A-Za-z]') AS latin_names`,
    );
    expect(scripts.cyrillic_titles).toBeGreaterThan(0.3 * films);
    expect(scripts.latin_titles).toBeGreaterThan(0.3 * films);
    expect(scripts.cyrillic_names).toBeGreaterThan(films);
    expect(scripts.latin_names).toBeGreaterThan(films);
  });

  it("spreads created/modified over about five years, modified never before created", async () => {
    const span = await one<{ backwards: number; nulls: number; earliest: Date; latest: Date }>(
      seeded.url,
      `SELECT count(*) FILTER (WHERE modified < created)::int AS backwards,
              count(*) FILTER (WHERE created IS NULL OR modified IS NULL)::int AS nulls,
              min(created) AS earliest, max(modified) AS latest
       FROM (SELECT created, modified FROM content.film_work UNION ALL SELECT created, modified FROM content.person
             UNION ALL SELECT created, modified FROM content.genre) AS t`,
    );
    expect(span.backwards).toBe(0);
    expect(span.nulls).toBe(0);
    expect(span.earliest.getTime()).toBeGreaterThanOrEqual(Date.UTC(2020, 0, 1));
    expect(span.latest.getTime()).toBeLessThan(Date.UTC(2025, 0, 1));
    expect(span.latest.getTime() - span.earliest.getTime()).toBeGreaterThan(4.5 * 365 * 86_400_000);
  });

  it("logs no changes, and leaves the indexes, keys and triggers as the migrations made them", async () => {
    expect(await one(seeded.url, "SELECT count(*)::int AS changes FROM content.etl_change")).toEqual({ changes: 0 });
    const fresh = await database();
    expect(await describeContentSchema(seeded.url)).toEqual(await describeContentSchema(fresh.url));
  });
});

describe("safety", () => {
  it("refuses to seed a non-empty catalogue without reset, with a clear message", async () => {
    const attempt = seedCatalogue({ databaseUrl: seeded.url, films: 10, seed: 1 });
    await expect(attempt).rejects.toBeInstanceOf(CatalogueNotEmptyError);
    await expect(seedCatalogue({ databaseUrl: seeded.url, films: 10, seed: 1 })).rejects.toThrow(
      /refusing to seed: the catalogue is not empty .*Set SEED_RESET=1/,
    );
    expect(await one(seeded.url, "SELECT count(*)::int AS films FROM content.film_work")).toEqual({ films });
  });

  it("with reset, empties the catalogue, etl_state and etl_change and seeds anew", async () => {
    const target = await database({ films: 200, seed: 9 });
    const before = await catalogueChecksum(target.url);
    await query(target.url, `INSERT INTO content.etl_state (name, value) VALUES ('cursor', '{"at": 1}')`);
    await query(target.url, `UPDATE content.genre SET name = name || '!'`);
    expect(await one(target.url, "SELECT count(*)::int AS changes FROM content.etl_change")).toEqual({ changes: 26 });

    await seedCatalogue({ databaseUrl: target.url, films: 200, seed: 9, reset: true });
    expect(await catalogueChecksum(target.url)).toEqual(before);
    expect(
      await one(
        target.url,
        "SELECT (SELECT count(*) FROM content.etl_state)::int AS states, (SELECT count(*) FROM content.etl_change)::int AS changes",
      ),
    ).toEqual({
      states: 0,
      changes: 0,
    });
  });

  it("the seed command reads SEED_FILMS, SEED and DATABASE_URL and reports progress on stderr", async () => {
    const target = await database();
    const { stderr } = await run(process.execPath, ["--import", "tsx", "seed/seed.ts"], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: target.url, SEED_FILMS: "40", SEED: "3" },
    });
    expect(stderr).toContain("seed person_film_work: 40/40 films");
    expect(stderr).toMatch(/seeded 40 films, 160 persons, 26 genres/);
    const direct = await database({ films: 40, seed: 3 });
    expect(await catalogueChecksum(target.url)).toEqual(await catalogueChecksum(direct.url));
  });
});

describe("reading the seeded catalogue with the generated Prisma client", () => {
  let prisma: PrismaClient;
  beforeAll(() => {
    prisma = testPrisma(seeded.url);
  });
  afterAll(async () => {
    await prisma.$disconnect();
  });

  it("a typed findMany ordered by (modified, id) walks the films as SQL orders them", async () => {
    const page = await prisma.filmWork.findMany({
      orderBy: [{ modified: "asc" }, { id: "asc" }],
      take: 50,
      include: { genres: { include: { genre: true } }, persons: { include: { person: true } } },
    });
    expect(page).toHaveLength(50);
    const expected = await query<{ id: string }>(seeded.url, "SELECT id FROM content.film_work ORDER BY modified, id LIMIT 50");
    expect(page.map((film) => film.id)).toEqual(expected.map((row) => row.id));
    for (const film of page) {
      expect(film.genres.length).toBeGreaterThanOrEqual(1);
      expect(film.genres.every((link) => typeof link.genre.name === "string")).toBe(true);
      expect(["movie", "tv_show"]).toContain(film.type);
      expect(film.modified!.getTime()).toBeGreaterThanOrEqual(film.created!.getTime());
    }
  });

  it("a $queryRaw tagged template runs against the seeded data", async () => {
    const type = "tv_show";
    const rows = await prisma.$queryRaw<{ films: bigint }[]>`SELECT count(*) AS films FROM content.film_work WHERE type = ${type}`;
    const expected = await one<{ films: number }>(
      seeded.url,
      "SELECT count(*)::int AS films FROM content.film_work WHERE type = 'tv_show'",
    );
    expect(Number(rows[0]!.films)).toBe(expected.films);
  });
});
