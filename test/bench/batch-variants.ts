// `npx tsx test/bench/batch-variants.ts --database wt11_bench_100000 [--batch 500] [--only a,b]`:
// runs variants of the film-batch query over the whole catalogue (the "all"
// selection, keyset pages of --batch films, one connection through Prisma and
// the pg adapter, as the ETL does) and reports, per film:
// - PostgreSQL CPU: utime + stime of the connection's backend process
//   (/proc/<pg_backend_pid()>/stat) before and after the pass;
// - ETL CPU: this process's CPU (process.cpuUsage) for the queries (driver
//   and Prisma decoding) plus turning the rows into document text.
// Every variant's documents are compared byte for byte with the first
// variant's (today's query): a variant that differs is reported as such.
// Each variant runs once to warm the caches, then --rounds times (median kept).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { PrismaPg } from "@prisma/adapter-pg";
import { withDatabaseName } from "../../scripts/db-url.ts";
import { DEFAULT_DATABASE_URL } from "../../src/config.ts";
import { type CompactFilmRow, documentText, type FilmPerson, filmDocument } from "./film-document.ts";
import { Prisma, PrismaClient } from "../../src/generated/prisma/client.ts";

interface Variant {
  name: string;
  jit: boolean;
  /** Named (prepared) statements: the server parses and plans each text once per connection. */
  prepared?: boolean;
  /** The SELECT that follows `WITH page AS (...)`. */
  select: string;
  /** Row to document text (null: no film), and the problem text if any. */
  toDocument(row: Record<string, unknown>): { document: string | null; problem: string | null };
}

const PROBLEM = `CASE WHEN fw.rating IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)
        THEN 'rating ' || fw.rating::text || ' is not a finite number' END AS problem`;

const TODAY = `
    SELECT
      page.id::text AS id,
      CASE WHEN fw.id IS NULL THEN NULL ELSE json_build_object(
        'id', fw.id, 'imdb_rating', fw.rating, 'title', fw.title, 'description', fw.description,
        'genres', COALESCE(genres.names, '[]'::json),
        'directors_names', COALESCE(people.directors_names, '[]'::json),
        'actors_names', COALESCE(people.actors_names, '[]'::json),
        'writers_names', COALESCE(people.writers_names, '[]'::json),
        'directors', COALESCE(people.directors, '[]'::json),
        'actors', COALESCE(people.actors, '[]'::json),
        'writers', COALESCE(people.writers, '[]'::json)
      )::text END AS document,
      ${PROBLEM}
    FROM page
    LEFT JOIN content.film_work fw ON fw.id = page.id
    LEFT JOIN LATERAL (
      SELECT json_agg(g.name ORDER BY g.name COLLATE "C", g.id) AS names
      FROM content.genre_film_work gfw JOIN content.genre g ON g.id = gfw.genre_id
      WHERE gfw.film_work_id = page.id
    ) genres ON fw.id IS NOT NULL
    LEFT JOIN LATERAL (
      SELECT
        json_agg(p.full_name ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'director') AS directors_names,
        json_agg(p.full_name ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'actor') AS actors_names,
        json_agg(p.full_name ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'writer') AS writers_names,
        json_agg(json_build_object('id', p.id, 'name', p.full_name) ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'director') AS directors,
        json_agg(json_build_object('id', p.id, 'name', p.full_name) ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'actor') AS actors,
        json_agg(json_build_object('id', p.id, 'name', p.full_name) ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'writer') AS writers
      FROM content.person_film_work pfw JOIN content.person p ON p.id = pfw.person_id
      WHERE pfw.film_work_id = page.id
    ) people ON fw.id IS NOT NULL
    ORDER BY page.id`;

/** Today's query with the page's genres in one grouped scan (one hash of the genre table per page, not per film). */
const TODAY_GENRES_GROUPED = TODAY.replace(
  `LEFT JOIN LATERAL (
      SELECT json_agg(g.name ORDER BY g.name COLLATE "C", g.id) AS names
      FROM content.genre_film_work gfw JOIN content.genre g ON g.id = gfw.genre_id
      WHERE gfw.film_work_id = page.id
    ) genres ON fw.id IS NOT NULL`,
  `LEFT JOIN (
      SELECT gfw.film_work_id, json_agg(g.name ORDER BY g.name COLLATE "C", g.id) AS names
      FROM page JOIN content.genre_film_work gfw ON gfw.film_work_id = page.id JOIN content.genre g ON g.id = gfw.genre_id
      GROUP BY gfw.film_work_id
    ) genres ON genres.film_work_id = fw.id`,
);
if (TODAY_GENRES_GROUPED === TODAY) throw new Error("the genres LATERAL of TODAY was not found");

const asIs = (row: Record<string, unknown>) => ({ document: row.document as string | null, problem: row.problem as string | null });
/** Variants that return genres as text[]: the JSON list film-document.ts takes. */
const genresJson = (row: Record<string, unknown>) =>
  Array.isArray(row.genres) ? { ...row, genres: `[${(row.genres as string[]).map((g) => JSON.stringify(g)).join(", ")}]` } : row;
/** Rows with three parallel arrays of the people. */
const compact = (input: Record<string, unknown>) => {
  const row = genresJson(input);
  if (!row.found) return { document: null, problem: row.problem as string | null };
  const roles = (row.person_roles as string[] | null) ?? [];
  const ids = row.person_ids as string[];
  const names = row.person_names as string[];
  const people: FilmPerson[] = roles.map((role, i) => [role, ids[i]!, JSON.stringify(names[i]!)]);
  return { document: documentText(row as unknown as CompactFilmRow, people), problem: row.problem as string | null };
};
/** Rows with the people as JSON text. */
const compactJson = (row: Record<string, unknown>) => ({
  document: filmDocument(genresJson(row) as unknown as CompactFilmRow),
  problem: row.problem as string | null,
});

/** Film columns, rating as float8 text (what json renders), and the problem. */
const FILM_COLUMNS = `page.id::text AS id, fw.id IS NOT NULL AS found, fw.title, fw.description, fw.rating::text AS rating, ${PROBLEM}`;
/** Genre names, ordered. */
const GENRES_LATERAL = `LEFT JOIN LATERAL (
      SELECT array_agg(g.name ORDER BY g.name COLLATE "C", g.id) AS genres
      FROM content.genre_film_work gfw JOIN content.genre g ON g.id = gfw.genre_id
      WHERE gfw.film_work_id = page.id
    ) genres ON fw.id IS NOT NULL`;
/** One ordered pass over a film's people: three parallel arrays in the same total order. */
const PEOPLE_LATERAL = `LEFT JOIN LATERAL (
      SELECT
        array_agg(pfw.role ORDER BY p.full_name COLLATE "C", p.id, pfw.role) AS person_roles,
        array_agg(p.id::text ORDER BY p.full_name COLLATE "C", p.id, pfw.role) AS person_ids,
        array_agg(p.full_name ORDER BY p.full_name COLLATE "C", p.id, pfw.role) AS person_names
      FROM content.person_film_work pfw JOIN content.person p ON p.id = pfw.person_id
      WHERE pfw.film_work_id = page.id
    ) people ON fw.id IS NOT NULL`;

const VARIANTS: Variant[] = [
  { name: "today", jit: true, select: TODAY, toDocument: asIs },
  { name: "today, jit off", jit: false, select: TODAY, toDocument: asIs },
  {
    name: "compact: 3 parallel arrays, ETL builds text",
    jit: false,
    select: `SELECT ${FILM_COLUMNS}, genres.genres, people.person_roles, people.person_ids, people.person_names
    FROM page LEFT JOIN content.film_work fw ON fw.id = page.id
    ${GENRES_LATERAL}
    ${PEOPLE_LATERAL}
    ORDER BY page.id`,
    toDocument: compact,
  },
  {
    name: "compact, jit on",
    jit: true,
    select: `SELECT ${FILM_COLUMNS}, genres.genres, people.person_roles, people.person_ids, people.person_names
    FROM page LEFT JOIN content.film_work fw ON fw.id = page.id
    ${GENRES_LATERAL}
    ${PEOPLE_LATERAL}
    ORDER BY page.id`,
    toDocument: compact,
  },
  {
    name: "compact: one sorted sub-select, aggregates without ORDER BY",
    jit: false,
    select: `SELECT ${FILM_COLUMNS}, genres.genres, people.person_roles, people.person_ids, people.person_names
    FROM page LEFT JOIN content.film_work fw ON fw.id = page.id
    ${GENRES_LATERAL}
    LEFT JOIN LATERAL (
      SELECT array_agg(s.role) AS person_roles, array_agg(s.id) AS person_ids, array_agg(s.full_name) AS person_names
      FROM (
        SELECT pfw.role, p.id::text AS id, p.full_name
        FROM content.person_film_work pfw JOIN content.person p ON p.id = pfw.person_id
        WHERE pfw.film_work_id = page.id
        ORDER BY p.full_name COLLATE "C", p.id, pfw.role
      ) s
    ) people ON fw.id IS NOT NULL
    ORDER BY page.id`,
    toDocument: compact,
  },
  {
    name: "compact: one json_agg of [role, id, name], ETL JSON.parse",
    jit: false,
    select: `SELECT ${FILM_COLUMNS}, genres.genres, people.people::text AS people
    FROM page LEFT JOIN content.film_work fw ON fw.id = page.id
    ${GENRES_LATERAL}
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_array(pfw.role, p.id, p.full_name) ORDER BY p.full_name COLLATE "C", p.id, pfw.role) AS people
      FROM content.person_film_work pfw JOIN content.person p ON p.id = pfw.person_id
      WHERE pfw.film_work_id = page.id
    ) people ON fw.id IS NOT NULL
    ORDER BY page.id`,
    toDocument: compactJson,
  },
  {
    name: "compact: grouped scan of the join tables over the page (no LATERAL)",
    jit: false,
    select: `SELECT ${FILM_COLUMNS}, genres.genres, people.person_roles, people.person_ids, people.person_names
    FROM page LEFT JOIN content.film_work fw ON fw.id = page.id
    LEFT JOIN (
      SELECT gfw.film_work_id, array_agg(g.name ORDER BY g.name COLLATE "C", g.id) AS genres
      FROM page JOIN content.genre_film_work gfw ON gfw.film_work_id = page.id JOIN content.genre g ON g.id = gfw.genre_id
      GROUP BY gfw.film_work_id
    ) genres ON genres.film_work_id = fw.id
    LEFT JOIN (
      SELECT pfw.film_work_id,
        array_agg(pfw.role ORDER BY p.full_name COLLATE "C", p.id, pfw.role) AS person_roles,
        array_agg(p.id::text ORDER BY p.full_name COLLATE "C", p.id, pfw.role) AS person_ids,
        array_agg(p.full_name ORDER BY p.full_name COLLATE "C", p.id, pfw.role) AS person_names
      FROM page JOIN content.person_film_work pfw ON pfw.film_work_id = page.id JOIN content.person p ON p.id = pfw.person_id
      GROUP BY pfw.film_work_id
    ) people ON people.film_work_id = fw.id
    ORDER BY page.id`,
    toDocument: compact,
  },
  {
    name: "compact json, grouped scan of the join tables over the page (no LATERAL)",
    jit: false,
    select: `SELECT ${FILM_COLUMNS}, genres.genres, people.people::text AS people
    FROM page LEFT JOIN content.film_work fw ON fw.id = page.id
    LEFT JOIN (
      SELECT gfw.film_work_id, array_agg(g.name ORDER BY g.name COLLATE "C", g.id) AS genres
      FROM page JOIN content.genre_film_work gfw ON gfw.film_work_id = page.id JOIN content.genre g ON g.id = gfw.genre_id
      GROUP BY gfw.film_work_id
    ) genres ON genres.film_work_id = fw.id
    LEFT JOIN (
      SELECT pfw.film_work_id,
        json_agg(json_build_array(pfw.role, p.id, p.full_name) ORDER BY p.full_name COLLATE "C", p.id, pfw.role) AS people
      FROM page JOIN content.person_film_work pfw ON pfw.film_work_id = page.id JOIN content.person p ON p.id = pfw.person_id
      GROUP BY pfw.film_work_id
    ) people ON people.film_work_id = fw.id
    ORDER BY page.id`,
    toDocument: compactJson,
  },
  {
    name: "compact json, jit on",
    jit: true,
    select: `SELECT ${FILM_COLUMNS}, genres.genres, people.people::text AS people
    FROM page LEFT JOIN content.film_work fw ON fw.id = page.id
    ${GENRES_LATERAL}
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_array(pfw.role, p.id, p.full_name) ORDER BY p.full_name COLLATE "C", p.id, pfw.role) AS people
      FROM content.person_film_work pfw JOIN content.person p ON p.id = pfw.person_id
      WHERE pfw.film_work_id = page.id
    ) people ON fw.id IS NOT NULL
    ORDER BY page.id`,
    toDocument: compactJson,
  },
  {
    name: "compact json people LATERAL, genres grouped over the page (one hash of genre per page, not per film)",
    jit: false,
    select: `SELECT ${FILM_COLUMNS}, genres.genres, people.people::text AS people
    FROM page LEFT JOIN content.film_work fw ON fw.id = page.id
    LEFT JOIN (
      SELECT gfw.film_work_id, array_agg(g.name ORDER BY g.name COLLATE "C", g.id) AS genres
      FROM page JOIN content.genre_film_work gfw ON gfw.film_work_id = page.id JOIN content.genre g ON g.id = gfw.genre_id
      GROUP BY gfw.film_work_id
    ) genres ON genres.film_work_id = fw.id
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_array(pfw.role, p.id, p.full_name) ORDER BY p.full_name COLLATE "C", p.id, pfw.role) AS people
      FROM content.person_film_work pfw JOIN content.person p ON p.id = pfw.person_id
      WHERE pfw.film_work_id = page.id
    ) people ON fw.id IS NOT NULL
    ORDER BY page.id`,
    toDocument: compactJson,
  },
  {
    name: "adopted: compact json people (names kept escaped), genres json_agg text embedded as is",
    jit: false,
    select: `SELECT ${FILM_COLUMNS}, genres.names::text AS genres, people.people::text AS people
    FROM page LEFT JOIN content.film_work fw ON fw.id = page.id
    LEFT JOIN LATERAL (
      SELECT json_agg(g.name ORDER BY g.name COLLATE "C", g.id) AS names
      FROM content.genre_film_work gfw JOIN content.genre g ON g.id = gfw.genre_id
      WHERE gfw.film_work_id = page.id
    ) genres ON fw.id IS NOT NULL
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_array(pfw.role, p.id, p.full_name) ORDER BY p.full_name COLLATE "C", p.id, pfw.role) AS people
      FROM content.person_film_work pfw JOIN content.person p ON p.id = pfw.person_id
      WHERE pfw.film_work_id = page.id
    ) people ON fw.id IS NOT NULL
    ORDER BY page.id`,
    toDocument: compactJson,
  },
  {
    name: "array_agg per role in PG (6 sorts as today), ETL builds text",
    jit: false,
    select: `SELECT ${FILM_COLUMNS}, genres.genres, people.d_ids, people.d_names, people.a_ids, people.a_names, people.w_ids, people.w_names
    FROM page LEFT JOIN content.film_work fw ON fw.id = page.id
    ${GENRES_LATERAL}
    LEFT JOIN LATERAL (
      SELECT
        array_agg(p.id::text ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'director') AS d_ids,
        array_agg(p.full_name ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'director') AS d_names,
        array_agg(p.id::text ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'actor') AS a_ids,
        array_agg(p.full_name ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'actor') AS a_names,
        array_agg(p.id::text ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'writer') AS w_ids,
        array_agg(p.full_name ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'writer') AS w_names
      FROM content.person_film_work pfw JOIN content.person p ON p.id = pfw.person_id
      WHERE pfw.film_work_id = page.id
    ) people ON fw.id IS NOT NULL
    ORDER BY page.id`,
    toDocument: (row) => {
      const roles: string[] = [];
      const ids: string[] = [];
      const names: string[] = [];
      for (const [role, i, n] of [
        ["director", "d_ids", "d_names"],
        ["actor", "a_ids", "a_names"],
        ["writer", "w_ids", "w_names"],
      ] as const) {
        const roleIds = (row[i] as string[] | null) ?? [];
        roleIds.forEach((id, k) => {
          roles.push(role);
          ids.push(id);
          names.push((row[n] as string[])[k]!);
        });
      }
      // filmDocument keeps each role's own order: the concatenation is fine.
      return compact({ ...row, person_roles: roles, person_ids: ids, person_names: names });
    },
  },
  {
    name: "today, jit off, genres grouped over the page (variant 9 on today's query)",
    jit: false,
    select: TODAY_GENRES_GROUPED,
    toDocument: asIs,
  },
  { name: "today, jit off, prepared (named) statements", jit: false, prepared: true, select: TODAY, toDocument: asIs },
  { name: "12 with prepared (named) statements", jit: false, prepared: true, select: TODAY_GENRES_GROUPED, toDocument: asIs },
  // The genres part alone (15 against 16: their documents are compared with each other, run with `--only 15,16`):
  // isolates what grouping the genres saves from the people's probes, whose cost swings with the cache at 1M.
  {
    name: "genres only, LATERAL per film (today's)",
    jit: false,
    select: `SELECT page.id::text AS id, genres.names::text AS document, NULL AS problem
    FROM page LEFT JOIN content.film_work fw ON fw.id = page.id
    LEFT JOIN LATERAL (
      SELECT json_agg(g.name ORDER BY g.name COLLATE "C", g.id) AS names
      FROM content.genre_film_work gfw JOIN content.genre g ON g.id = gfw.genre_id
      WHERE gfw.film_work_id = page.id
    ) genres ON fw.id IS NOT NULL
    ORDER BY page.id`,
    toDocument: asIs,
  },
  {
    name: "genres only, grouped over the page",
    jit: false,
    select: `SELECT page.id::text AS id, genres.names::text AS document, NULL AS problem
    FROM page LEFT JOIN content.film_work fw ON fw.id = page.id
    LEFT JOIN (
      SELECT gfw.film_work_id, json_agg(g.name ORDER BY g.name COLLATE "C", g.id) AS names
      FROM page JOIN content.genre_film_work gfw ON gfw.film_work_id = page.id JOIN content.genre g ON g.id = gfw.genre_id
      GROUP BY gfw.film_work_id
    ) genres ON genres.film_work_id = fw.id
    ORDER BY page.id`,
    toDocument: asIs,
  },
];

function backendTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

async function pass(prisma: PrismaClient, variant: Variant, batch: number, backendPid: number, until: string | undefined) {
  const hash = createHash("sha256");
  const pg0 = backendTicks(backendPid);
  const cpu0 = process.cpuUsage();
  let after = "00000000-0000-0000-0000-000000000000";
  let films = 0;
  let first = true;
  for (;;) {
    const rows = await prisma.$queryRaw<Array<Record<string, unknown>>>`
      WITH page AS (SELECT fw.id FROM content.film_work fw WHERE fw.id ${first ? Prisma.raw(">=") : Prisma.raw(">")} ${after}::uuid ORDER BY fw.id LIMIT ${batch})
      ${Prisma.raw(variant.select)}`;
    first = false;
    for (const row of rows) {
      const { document, problem } = variant.toDocument(row);
      hash.update(`${row.id as string}\n${document}\n${problem}\n`);
    }
    films += rows.length;
    if (rows.length < batch) break;
    after = rows[rows.length - 1]!.id as string;
    if (until !== undefined && after >= until) break;
  }
  const cpu = process.cpuUsage(cpu0);
  const pgS = (backendTicks(backendPid) - pg0) / 100;
  return { films, pgUs: (pgS * 1e6) / films, etlUs: (cpu.user + cpu.system) / films, digest: hash.digest("hex").slice(0, 16) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      database: { type: "string" },
      batch: { type: "string" },
      rounds: { type: "string" },
      only: { type: "string" },
      until: { type: "string" },
    },
  });
  const url = withDatabaseName(process.env.DATABASE_URL || DEFAULT_DATABASE_URL, values.database ?? "wt11_bench_100000");
  const batch = Number(values.batch ?? 500);
  const rounds = Number(values.rounds ?? 3);
  const only = values.only?.split(",").map(Number);
  // Only the films whose id (as text) sorts before this, e.g. `1a` for about a tenth of a large catalogue.
  const until = values.until;
  let reference: string | undefined;
  // --only runs the listed variants in that order (the first one's documents are the reference), repeats allowed.
  const order = only ?? VARIANTS.map((_, i) => i);
  for (const index of order) {
    const variant = VARIANTS[index]!;
    const prisma = new PrismaClient({
      adapter: new PrismaPg(
        { connectionString: url, max: 1, options: variant.jit ? "-c jit=on" : "-c jit=off" },
        variant.prepared ? { statementNameGenerator: (query) => `batch_${createHash("sha1").update(query.sql).digest("hex")}` } : {},
      ),
    });
    try {
      const [backend] = await prisma.$queryRaw<Array<{ pid: number }>>`SELECT pg_backend_pid() AS pid`;
      const pid = backend!.pid;
      await pass(prisma, variant, batch, pid, until);
      const results: Array<Awaited<ReturnType<typeof pass>>> = [];
      for (let r = 0; r < rounds; r++) results.push(await pass(prisma, variant, batch, pid, until));
      const median = (key: "pgUs" | "etlUs") => results.map((x) => x[key]).sort((a, b) => a - b)[Math.floor(results.length / 2)]!;
      reference ??= results[0]!.digest;
      const same = results.every((x) => x.digest === reference);
      console.log(
        JSON.stringify({
          variant: index,
          name: variant.name,
          films: results[0]!.films,
          batch,
          pg_us_per_film: Math.round(median("pgUs")),
          etl_us_per_film: Math.round(median("etlUs")),
          rounds: results.map((x) => [Math.round(x.pgUs), Math.round(x.etlUs)]),
          documents: same ? "identical to today's" : `DIFFERENT (${results[0]!.digest})`,
        }),
      );
    } finally {
      await prisma.$disconnect();
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
