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

/**
 * The next `limit` films of the selection after `afterId`, each aggregated
 * with its genres and people into the index's document shape, in one query.
 * The sub-select pages film ids by keyset (no OFFSET); the aggregation runs
 * once per film of the page through the join tables' film indexes.
 */
export async function readFilmBatch(
  prisma: PrismaClient,
  selection: FilmSelection,
  afterId: string | null,
  limit: number,
): Promise<FilmBatchRow[]> {
  const after = afterId ?? "00000000-0000-0000-0000-000000000000";
  const includeFirst = afterId === null;
  const page = selection.kind === "all" ? allFilms(after, includeFirst, limit) : touchedFilms(selection, after, includeFirst, limit);
  return prisma.$queryRaw<FilmBatchRow[]>`
    WITH page AS (${page})
    SELECT
      page.id::text AS id,
      CASE WHEN fw.id IS NULL THEN NULL ELSE json_build_object(
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
      CASE WHEN fw.rating IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)
        THEN 'rating ' || fw.rating::text || ' is not a finite number' END AS problem
    FROM page
    LEFT JOIN content.film_work fw ON fw.id = page.id
    LEFT JOIN LATERAL (
      SELECT json_agg(g.name ORDER BY g.name COLLATE "C", g.id) AS names
      FROM content.genre_film_work gfw
      JOIN content.genre g ON g.id = gfw.genre_id
      WHERE gfw.film_work_id = page.id
    ) genres ON fw.id IS NOT NULL
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
    ORDER BY page.id`;
}

function idFilter(column: Prisma.Sql, after: string, includeFirst: boolean): Prisma.Sql {
  return includeFirst ? Prisma.sql`${column} >= ${after}::uuid` : Prisma.sql`${column} > ${after}::uuid`;
}

function allFilms(after: string, includeFirst: boolean, limit: number): Prisma.Sql {
  return Prisma.sql`
    SELECT fw.id FROM content.film_work fw
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
    ) touched
    ORDER BY id LIMIT ${limit}`;
}

/** Films in the catalogue, for progress reporting. */
export async function countFilms(prisma: PrismaClient): Promise<number> {
  return prisma.filmWork.count();
}
