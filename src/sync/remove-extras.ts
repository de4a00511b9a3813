import type { PrismaClient } from "../db/prisma.ts";
import type { Guard } from "../resilience/policies.ts";
import { filmIds } from "../extract/film-ids.ts";
import { countDocuments } from "../load/index-admin.ts";
import { indexedIds } from "../load/indexed-ids.ts";
import { writeFilmBatch, type WriteTarget } from "../load/write-batch.ts";

const PAGE = 5000;

/**
 * A full load writes every film the catalogue has, but deletes nothing: an
 * index that held documents before (an alias pointed back at an older index,
 * a state that started over) would keep those of films deleted since. This
 * pass deletes them: index ids and catalogue ids, both in id order, merged.
 * An index that held nothing when searched is skipped. Returns how many went.
 */
export async function removeDocumentsNotInCatalogue(
  catalogueDb: { prisma: PrismaClient; guard: Guard },
  target: WriteTarget,
  batchSize: number,
): Promise<number> {
  if ((await target.guard((signal) => countDocuments(target.engine, target.index, signal))) === 0) return 0;
  const catalogue = filmIds(catalogueDb.prisma, PAGE, (call) => catalogueDb.guard(() => call()))[Symbol.asyncIterator]();
  let film = await catalogue.next();
  let extras: string[] = [];
  let deleted = 0;
  const flush = async () => {
    const result = await writeFilmBatch(
      extras.map((id) => ({ id, document: null, problem: null })),
      target,
    );
    deleted += result.deleted;
    extras = [];
  };
  for await (const id of indexedIds(target.engine, target.index, target.guard, PAGE)) {
    while (!film.done && film.value < id) film = await catalogue.next();
    if (film.done || film.value !== id) extras.push(id);
    if (extras.length >= batchSize) await flush();
  }
  if (extras.length > 0) await flush();
  return deleted;
}
