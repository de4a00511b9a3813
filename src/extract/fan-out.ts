import type { PrismaClient } from "../db/prisma.ts";
import { Prisma } from "../generated/prisma/client.ts";

export interface FanOutIds {
  genreIds: string[];
  personIds: string[];
}

/**
 * Which of these genres and persons are linked to more than `films` films
 * (counted through the join tables' entity indexes, never past `films + 1`
 * per entity, so the check costs the same at any size).
 */
export async function findLargeFanOuts(prisma: PrismaClient, entities: FanOutIds, films: number): Promise<FanOutIds> {
  if (entities.genreIds.length === 0 && entities.personIds.length === 0) return { genreIds: [], personIds: [] };
  const rows = await prisma.$queryRaw<Array<{ kind: "genre" | "person"; id: string }>>`
    SELECT 'genre' AS kind, g.id::text AS id FROM unnest(${entities.genreIds}::uuid[]) AS g(id)
    WHERE (SELECT count(*) FROM (
      SELECT 1 FROM content.genre_film_work gfw WHERE gfw.genre_id = g.id LIMIT ${films + 1}
    ) links) > ${films}
    UNION ALL
    SELECT 'person', p.id::text FROM unnest(${entities.personIds}::uuid[]) AS p(id)
    WHERE (SELECT count(*) FROM (
      SELECT DISTINCT pfw.film_work_id FROM content.person_film_work pfw WHERE pfw.person_id = p.id LIMIT ${films + 1}
    ) links) > ${films}`;
  return {
    genreIds: rows.filter((row) => row.kind === "genre").map((row) => row.id),
    personIds: rows.filter((row) => row.kind === "person").map((row) => row.id),
  };
}

/** How many films of these genres and persons come after film `after` (those a fan-out still has to write). */
export async function countFanOutFilms(prisma: PrismaClient, entities: FanOutIds, after: string | null): Promise<number> {
  const notYet = after === null ? Prisma.sql`TRUE` : Prisma.sql`film_work_id > ${after}::uuid`;
  const rows = await prisma.$queryRaw<Array<{ films: number }>>`
    SELECT count(*)::int AS films FROM (
      SELECT film_work_id FROM content.genre_film_work WHERE genre_id = ANY(${entities.genreIds}::uuid[]) AND ${notYet}
      UNION
      SELECT film_work_id FROM content.person_film_work WHERE person_id = ANY(${entities.personIds}::uuid[]) AND ${notYet}
    ) films`;
  return rows[0]?.films ?? 0;
}
