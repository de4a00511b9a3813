import type { PrismaClient } from "../db/prisma.ts";
import { filmsWithPendingChanges } from "../extract/change-log.ts";
import { filmIds } from "../extract/film-ids.ts";
import type { Engine } from "../load/engine.ts";
import { indexedIds } from "../load/indexed-ids.ts";
import type { Guards } from "../resilience/policies.ts";
import type { Cursors } from "../state/sync-state.ts";

const PAGE = 5000;
/** Differences kept for the check; more than this is a broken load, not a busy catalogue. */
const MAX_DIFFERENCES = 10_000;

export interface Completeness {
  /** Films missing from the index, or documents of films the catalogue does not have, that no pending change explains. */
  unexplained: string[];
  /** Differences a change not yet synced accounts for (the catalogue moved on). */
  pending: number;
}

/**
 * Whether an index holds exactly the catalogue's films, as far as the changes
 * it has seen go: ids of both, merged in order; a difference is fine when the
 * change log holds a change of that film after the index's cursor, since the
 * next cycle brings it. Counting both sides at two moments instead fails
 * whenever writers are busy.
 */
export async function checkCompleteness(
  deps: { prisma: PrismaClient; engine: Engine; guards: Guards },
  index: string,
  cursors: Cursors | null,
): Promise<Completeness> {
  const differences: string[] = [];
  const catalogue = filmIds(deps.prisma, PAGE, (call) => deps.guards.postgres(() => call()))[Symbol.asyncIterator]();
  let film = await catalogue.next();
  for await (const id of indexedIds(deps.engine, index, deps.guards.elasticsearch, PAGE)) {
    while (!film.done && film.value < id) {
      differences.push(film.value);
      film = await catalogue.next();
    }
    if (!film.done && film.value === id) film = await catalogue.next();
    else differences.push(id);
    if (differences.length > MAX_DIFFERENCES) return { unexplained: differences, pending: 0 };
  }
  for (; !film.done; film = await catalogue.next()) {
    differences.push(film.value);
    if (differences.length > MAX_DIFFERENCES) return { unexplained: differences, pending: 0 };
  }
  const explained = cursors?.log
    ? await deps.guards.postgres(() => filmsWithPendingChanges(deps.prisma, cursors.log, differences))
    : new Set<string>();
  return { unexplained: differences.filter((id) => !explained.has(id)), pending: explained.size };
}
