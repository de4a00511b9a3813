import type { Config } from "../config.ts";
import type { PrismaClient } from "../db/prisma.ts";
import { Prisma } from "../generated/prisma/client.ts";

/** Which films a batch is drawn from. */
export type FilmSelection = { kind: "all" } | { kind: "touched"; genreIds: string[]; personIds: string[]; filmIds: string[] };

export interface FilmBatchRow {
  id: string;
  /** The index document as JSON text; null when the film no longer exists. */
  document: string | null;
  /** Why this row cannot become a document, if it cannot. */
  problem: string | null;
}

export interface FilmBatchLimits {
  /** At most this many films. */
  films: number;
  /**
   * Stop adding films once their weight (text and people, see TEXT_BYTES)
   * reaches this many bytes (the first film always comes), so a page of long
   * descriptions or huge casts cannot exhaust the heap.
   */
  bytes: number;
  /** A film whose weight, or whose document as JSON, is larger than this comes back as a problem, without its document. */
  documentBytes: number;
}

/** The batch limits of a configuration (sync, reindex and verify alike). */
export function filmBatchLimits(config: Pick<Config, "batchSize" | "batchMaxBytes" | "bulkMaxBytes">): FilmBatchLimits {
  return { films: config.batchSize, bytes: config.batchMaxBytes, documentBytes: config.bulkMaxBytes };
}

export interface FilmBatch {
  rows: FilmBatchRow[];
  /** Films of the selection may follow the last row. */
  more: boolean;
}

/**
 * The next films of the selection after `afterId`, each aggregated with its
 * genres and people into the index's document shape, in one query. The
 * sub-select pages film ids by keyset (no OFFSET) and cuts the page where the
 * films' weight reaches the byte budget; the aggregation runs once per film of
 * the page through the join tables' film indexes.
 */
export async function readFilmBatch(
  prisma: PrismaClient,
  selection: FilmSelection,
  afterId: string | null,
  limits: FilmBatchLimits,
): Promise<FilmBatch> {
  const rows = await prisma.$queryRaw<Array<FilmBatchRow & { pageRows: number }>>`
    WITH ${budgetedPage(selection, afterId, limits)}
    SELECT
      built.id,
      built."pageRows",
      CASE WHEN octet_length(built.document) > ${limits.documentBytes} THEN NULL ELSE built.document END AS document,
      CASE
        WHEN built.problem IS NOT NULL THEN built.problem
        WHEN octet_length(built.document) > ${limits.documentBytes}
          THEN 'the document is ' || octet_length(built.document) || ' bytes of JSON, over the ' || ${limits.documentBytes}::int
            || ' a bulk request may carry (ETL_BULK_MAX_BYTES): shorten the film''s text, or raise ETL_BULK_MAX_BYTES and the heap'
      END AS problem
    FROM (
    SELECT
      page.id AS film_id,
      page.id::text AS id,
      page.page_rows::int AS "pageRows",
      CASE WHEN fw.id IS NULL OR page.text_bytes > ${limits.documentBytes} THEN NULL ELSE json_build_object(
        'id', fw.id,
        'imdb_rating', fw.rating,
        'title', fw.title,
        'description', fw.description,
        'genres', COALESCE(genres.names, '[]'::json),
        'directors_names', COALESCE(people.directors_names, '[]'::json),
        'actors_names', COALESCE(people.actors_names, '[]'::json),
        'writers_names', COALESCE(people.writers_names, '[]'::json),
        'directors', COALESCE(people.directors, '[]'::json),
        'actors', COALESCE(people.actors, '[]'::json),
        'writers', COALESCE(people.writers, '[]'::json)
      )::text END AS document,
      CASE
        WHEN page.text_bytes > ${limits.documentBytes}
          THEN 'the film''s text (title, description, people) is about ' || page.text_bytes || ' bytes, over the ' || ${limits.documentBytes}::int
            || ' a bulk request may carry (ETL_BULK_MAX_BYTES): shorten them, or raise ETL_BULK_MAX_BYTES and the heap'
        WHEN fw.rating IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)
          THEN 'rating ' || fw.rating::text || ' is not a finite number'
        -- imdb_rating is a 32-bit float in the index: a larger double would be refused there.
        WHEN abs(fw.rating) > 3.4028234663852886e38
          THEN 'rating ' || fw.rating::text || ' is beyond what the index''s float field holds'
      END AS problem
    FROM page
    LEFT JOIN content.film_work fw ON fw.id = page.id
    -- The page's genres in one grouped scan: one hash of the genre table per page, not one per film.
    LEFT JOIN (
      SELECT gfw.film_work_id, json_agg(g.name ORDER BY g.name COLLATE "C", g.id) AS names
      FROM page
      JOIN content.genre_film_work gfw ON gfw.film_work_id = page.id
      JOIN content.genre g ON g.id = gfw.genre_id
      GROUP BY gfw.film_work_id
    ) genres ON genres.film_work_id = fw.id
    LEFT JOIN LATERAL (
      SELECT
        json_agg(p.full_name ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'director') AS directors_names,
        json_agg(p.full_name ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'actor') AS actors_names,
        json_agg(p.full_name ORDER BY p.full_name COLLATE "C", p.id) FILTER (WHERE pfw.role = 'writer') AS writers_names,
        json_agg(json_build_object('id', p.id, 'name', p.full_name) ORDER BY p.full_name COLLATE "C", p.id)
          FILTER (WHERE pfw.role = 'director') AS directors,
        json_agg(json_build_object('id', p.id, 'name', p.full_name) ORDER BY p.full_name COLLATE "C", p.id)
          FILTER (WHERE pfw.role = 'actor') AS actors,
        json_agg(json_build_object('id', p.id, 'name', p.full_name) ORDER BY p.full_name COLLATE "C", p.id)
          FILTER (WHERE pfw.role = 'writer') AS writers
      FROM content.person_film_work pfw
      JOIN content.person p ON p.id = pfw.person_id
      WHERE pfw.film_work_id = page.id
    ) people ON fw.id IS NOT NULL
    ) built
    ORDER BY built.film_id`;
  const pageRows = rows[0]?.pageRows ?? 0;
  return {
    rows: rows.map(({ pageRows: _, ...row }) => row),
    more: rows.length < pageRows || pageRows === limits.films,
  };
}

/**
 * Where the batch after `afterId` of the whole catalogue would end, without
 * reading it: verify pages the index by the same id ranges, so both sides of
 * its comparison stay within the byte budget.
 */
export async function readFilmPageEnd(
  prisma: PrismaClient,
  afterId: string | null,
  limits: FilmBatchLimits,
): Promise<{ lastId: string | null; more: boolean }> {
  const [end] = await prisma.$queryRaw<Array<{ lastId: string | null; films: number; pageRows: number | null }>>`
    WITH ${budgetedPage({ kind: "all" }, afterId, limits)}
    SELECT (SELECT id::text FROM page ORDER BY id DESC LIMIT 1) AS "lastId", count(*)::int AS films, max(page_rows)::int AS "pageRows" FROM page`;
  const films = end?.films ?? 0;
  return { lastId: end?.lastId ?? null, more: films > 0 && (films < (end?.pageRows ?? 0) || end?.pageRows === limits.films) };
}

/**
 * CTEs ending in `page (id, text_bytes, page_rows)`: the next ids of the
 * selection, cut where their films' text reaches the byte budget (the first
 * film always comes). `page_rows` counts the ids before the cut.
 */
function budgetedPage(selection: FilmSelection, afterId: string | null, limits: FilmBatchLimits): Prisma.Sql {
  const after = afterId ?? "00000000-0000-0000-0000-000000000000";
  const includeFirst = afterId === null;
  const ids =
    selection.kind === "all" ? allFilms(after, includeFirst, limits.films) : touchedFilms(selection, after, includeFirst, limits.films);
  return Prisma.sql`
    ids AS (${ids}),
    sized AS (
      SELECT id, text_bytes, sum(kept_bytes) OVER (ORDER BY id) - kept_bytes AS bytes_before, count(*) OVER () AS page_rows
      FROM (
        -- A film too large to send comes back without its document: it costs the batch nothing.
        SELECT id, text_bytes, CASE WHEN text_bytes > ${limits.documentBytes} THEN 0 ELSE text_bytes END AS kept_bytes FROM ids
      ) ids
    ),
    page AS (SELECT id, text_bytes, page_rows FROM sized WHERE bytes_before < ${limits.bytes})`;
}

/**
 * What a film weighs in a batch: its own text, and its people (each appears
 * twice in the document, with an id), counted through the join table's film
 * index without reading a name. Genres are a few bytes and not counted.
 */
const TEXT_BYTES = Prisma.sql`octet_length(fw.title) + coalesce(octet_length(fw.description), 0)
  + 128 * (SELECT count(*) FROM content.person_film_work pfw WHERE pfw.film_work_id = fw.id)`;

function idFilter(column: Prisma.Sql, after: string, includeFirst: boolean): Prisma.Sql {
  return includeFirst ? Prisma.sql`${column} >= ${after}::uuid` : Prisma.sql`${column} > ${after}::uuid`;
}

function allFilms(after: string, includeFirst: boolean, limit: number): Prisma.Sql {
  return Prisma.sql`
    SELECT fw.id, ${TEXT_BYTES} AS text_bytes FROM content.film_work fw
    WHERE ${idFilter(Prisma.sql`fw.id`, after, includeFirst)}
    ORDER BY fw.id LIMIT ${limit}`;
}

/**
 * Films touched by the changed rows: their own ids (which may be gone: those
 * become deletions), and the films of changed genres and persons. Each fan-out
 * is cut to `limit` per entity before the union, so a page costs at most
 * limit x changed entities index entries whatever the catalogue size.
 */
function touchedFilms(
  selection: Extract<FilmSelection, { kind: "touched" }>,
  after: string,
  includeFirst: boolean,
  limit: number,
): Prisma.Sql {
  return Prisma.sql`
    SELECT touched.id, coalesce(${TEXT_BYTES}, 0) AS text_bytes FROM (
    SELECT id FROM (
      SELECT f.id FROM unnest(${selection.filmIds}::uuid[]) AS f(id)
      WHERE ${idFilter(Prisma.sql`f.id`, after, includeFirst)}
      UNION
      SELECT gf.film_work_id FROM unnest(${selection.genreIds}::uuid[]) AS g(id)
      CROSS JOIN LATERAL (
        SELECT gfw.film_work_id FROM content.genre_film_work gfw
        WHERE gfw.genre_id = g.id AND ${idFilter(Prisma.sql`gfw.film_work_id`, after, includeFirst)}
        ORDER BY gfw.film_work_id LIMIT ${limit}
      ) gf
      UNION
      SELECT pf.film_work_id FROM unnest(${selection.personIds}::uuid[]) AS p(id)
      CROSS JOIN LATERAL (
        SELECT DISTINCT pfw.film_work_id FROM content.person_film_work pfw
        WHERE pfw.person_id = p.id AND ${idFilter(Prisma.sql`pfw.film_work_id`, after, includeFirst)}
        ORDER BY pfw.film_work_id LIMIT ${limit}
      ) pf
    ) touched_ids
    ORDER BY id LIMIT ${limit}
    ) touched
    LEFT JOIN content.film_work fw ON fw.id = touched.id`;
}

/** Films in the catalogue, for progress reporting. */
export async function countFilms(prisma: PrismaClient): Promise<number> {
  return prisma.filmWork.count();
}
