import { testPrisma } from "./support/clients.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFilmBatch } from "../src/extract/film-batch.ts";
import { PrismaClient } from "../src/generated/prisma/client.ts";
import { Catalogue } from "./support/catalogue.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { expectedDocuments } from "./support/expected-documents.ts";

/**
 * The document text as PostgreSQL builds it (json_build_object and one
 * json_agg per list), written independently of readFilmBatch: whatever form
 * the batch query takes (the compact-parts variant of test/bench moved the
 * writing into the ETL), its documents must stay byte for byte this, so the
 * index's _source does not change.
 */
const POSTGRES_DOCUMENTS = `
  SELECT fw.id::text AS id, json_build_object(
    'id', fw.id, 'imdb_rating', fw.rating, 'title', fw.title, 'description', fw.description,
    'genres', COALESCE((SELECT json_agg(g.name ORDER BY g.name COLLATE "C", g.id) FROM content.genre_film_work gfw
      JOIN content.genre g ON g.id = gfw.genre_id WHERE gfw.film_work_id = fw.id), '[]'::json),
    'directors_names', COALESCE(people.directors_names, '[]'::json),
    'actors_names', COALESCE(people.actors_names, '[]'::json),
    'writers_names', COALESCE(people.writers_names, '[]'::json),
    'directors', COALESCE(people.directors, '[]'::json),
    'actors', COALESCE(people.actors, '[]'::json),
    'writers', COALESCE(people.writers, '[]'::json))::text AS document
  FROM content.film_work fw
  LEFT JOIN LATERAL (
    SELECT
      json_agg(p.full_name ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'director') AS directors_names,
      json_agg(p.full_name ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'actor') AS actors_names,
      json_agg(p.full_name ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'writer') AS writers_names,
      json_agg(json_build_object('id', p.id, 'name', p.full_name) ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'director') AS directors,
      json_agg(json_build_object('id', p.id, 'name', p.full_name) ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'actor') AS actors,
      json_agg(json_build_object('id', p.id, 'name', p.full_name) ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'writer') AS writers
    FROM content.person_film_work pfw JOIN content.person p ON p.id = pfw.person_id
    WHERE pfw.film_work_id = fw.id
  ) people ON true
  ORDER BY fw.id`;

/** Pages of at most `films` films and 2 MiB of text (the default budget); documents up to 10 MiB. */
const limits = (films: number) => ({ films, bytes: 2 * 1024 * 1024, documentBytes: 10 * 1024 * 1024 });

const ODD_STRINGS = [
  'quotes " and \\ backslash',
  "controls \u0001\u0008\u0009\n\r\u000c\u001f and DEL \u007f",
  "separators \u2028 \u2029 and a BOM \ufeff",
  "right-to-left: שלום עולם, مرحبا بالعالم \u200f",
  "astral 😀 𝄞 and the last BMP character \uffff",
  "",
  "   ",
  '{"json": [1, 2]}',
];

describe("film batch documents on odd data", () => {
  let db: TestDatabase;
  let catalogue: Catalogue;
  let prisma: PrismaClient;
  const films: Record<string, string> = {};

  beforeAll(async () => {
    db = await createTestDatabase();
    catalogue = new Catalogue(db.url);
    prisma = testPrisma(db.url);
    const genres = await Promise.all(
      ["Drama", "drama", "Ärger", "😀 genre", "\uffff genre", ...ODD_STRINGS.slice(0, 3)].map((n) => catalogue.addGenre(n)),
    );
    const people = [];
    for (const name of [...ODD_STRINGS, "Same Name", "Same Name", "Same Name", "Émile", "Zoë", "a", "B"])
      people.push(await catalogue.addPerson(name));
    const ratings = [null, 0, -0, 8, 8.1, 0.1 + 0.2, 1e-5, 123456789012345, 1e15, 1e21, -3.5, Number.MAX_VALUE, Number.MIN_VALUE];
    for (const [i, rating] of ratings.entries()) {
      films[`rating ${i}: ${rating}`] = await catalogue.addFilm({
        title: ODD_STRINGS[i % ODD_STRINGS.length]!,
        description: ODD_STRINGS[(i + 3) % ODD_STRINGS.length]!,
        rating,
      });
    }
    films.bare = await catalogue.addFilm({ title: "no genres, no people, no description" });
    films.huge = await catalogue.addFilm({ title: "1 MB description", description: 'x\u00e9"😀\n'.repeat(200_000), rating: 7 });
    films.nan = await catalogue.addFilm({ title: "NaN", rating: Number.NaN });
    films.infinite = await catalogue.addFilm({ title: "Infinity", rating: Number.POSITIVE_INFINITY });
    films.crowded = await catalogue.addFilm({ title: "everyone in every role", description: "all", rating: 5.5 });
    for (const genre of genres) await catalogue.linkGenre(films.crowded, genre);
    for (const person of people) {
      for (const role of ["director", "actor", "writer"] as const) await catalogue.linkPerson(films.crowded, person, role);
    }
    // Spread the odd people over the other films, some in two roles.
    for (const [i, film] of Object.values(films).entries()) {
      if (film === films.crowded || film === films.bare) continue;
      await catalogue.linkGenre(film, genres[i % genres.length]!);
      await catalogue.linkPerson(film, people[i % people.length]!, "actor");
      await catalogue.linkPerson(film, people[(i + 1) % people.length]!, "actor");
      await catalogue.linkPerson(film, people[i % people.length]!, "director");
      await catalogue.linkPerson(film, people[(i + 2) % people.length]!, "writer");
    }
    // A role that is not part of the document.
    await catalogue.query(
      "INSERT INTO content.person_film_work (id, person_id, film_work_id, role) VALUES (gen_random_uuid(), $1, $2, 'producer')",
      [people[0], films.crowded],
    );
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await catalogue?.pool.end();
    await db?.drop();
  });

  it("are byte for byte the text PostgreSQL's json_build_object wrote, in pages of any size", async () => {
    const reference = await catalogue.query<{ id: string; document: string }>(POSTGRES_DOCUMENTS);
    expect(reference.length).toBe(Object.keys(films).length);
    for (const limit of [1, 3, 1000]) {
      const rows = [];
      for (let after: string | null = null; ; ) {
        const page = await readFilmBatch(prisma, { kind: "all" }, after, limits(limit));
        rows.push(...page.rows);
        if (!page.more) break;
        after = page.rows[page.rows.length - 1]!.id;
      }
      expect(rows.map((r) => r.id)).toEqual(reference.map((r) => r.id));
      for (const [i, row] of rows.entries()) expect(row.document, row.id).toBe(reference[i]!.document);
    }
  });

  it("equal the oracle's documents, and a rating the index cannot hold is a problem, not a document", async () => {
    const expected = await expectedDocuments(db.url);
    const rows = [];
    for (let after: string | null = null; ; ) {
      const page = await readFilmBatch(prisma, { kind: "all" }, after, limits(1000));
      rows.push(...page.rows);
      if (!page.more) break;
      after = page.rows[page.rows.length - 1]!.id;
    }
    expect(rows.length).toBe(expected.size);
    for (const row of rows) {
      if (row.id === films.nan || row.id === films.infinite) {
        expect(row.problem).toBe(`rating ${row.id === films.nan ? "NaN" : "Infinity"} is not a finite number`);
        continue;
      }
      if (Math.abs(expected.get(row.id)!.imdb_rating ?? 0) > 3.4028234663852886e38) {
        expect(row.problem).toBe(`rating ${expected.get(row.id)!.imdb_rating} is beyond what the index's float field holds`);
        continue;
      }
      expect(row.problem).toBeNull();
      expect(JSON.parse(row.document!), row.id).toEqual(expected.get(row.id));
    }
    const crowded = JSON.parse(rows.find((r) => r.id === films.crowded)!.document!) as { actors_names: string[]; genres: string[] };
    // UTF-8 byte order: U+FFFF before the astral characters (JavaScript's own order is the other way).
    expect(crowded.actors_names.indexOf("astral 😀 𝄞 and the last BMP character \uffff")).toBeGreaterThan(-1);
    expect(crowded.genres.indexOf("\uffff genre")).toBeLessThan(crowded.genres.indexOf("😀 genre"));
    expect(crowded.actors_names.filter((n) => n === "Same Name")).toHaveLength(3);
  });

  it("a touched film that is gone is a row without a document", async () => {
    const gone = "00000000-0000-4000-8000-000000000000";
    const { rows } = await readFilmBatch(
      prisma,
      { kind: "touched", genreIds: [], personIds: [], filmIds: [gone, films.bare!] },
      null,
      limits(10),
    );
    expect(rows.map((r) => [r.id, r.document === null, r.problem])).toEqual([
      [gone, true, null],
      [films.bare, false, null],
    ]);
  });
});
