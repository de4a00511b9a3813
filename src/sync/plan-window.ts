import type { SourceTable } from "../config.ts";
import type { PrismaClient } from "../db/prisma.ts";
import { changesHeldBack, compareLogCursors, readChangeLog, readCompletedTransactionsBound } from "../extract/change-log.ts";
import { findLargeFanOuts } from "../extract/fan-out.ts";
import { MAX_UUID, readChangedRows } from "../extract/row-cursor.ts";
import type { Cursors, FanOut, SyncWindow } from "../state/sync-state.ts";

export interface PlanOptions {
  tables: SourceTable[];
  changeBatchSize: number;
  commitLagMs: number;
  changeLogInstalled: boolean;
  /** A genre or person linked to more films than this is deferred to a fan-out (0: never). */
  largeFanOutFilms: number;
}

/** A window as planned, with what the plan saw beyond it (not saved with the window). */
export interface PlannedWindow extends SyncWindow {
  /** Committed change-log entries wait behind a transaction still open (see `changesHeldBack`). */
  heldBack?: boolean;
}

const TOUCHED_KEY: Record<SourceTable, keyof SyncWindow["touched"]> = {
  genre: "genreIds",
  person: "personIds",
  film_work: "filmIds",
};

/**
 * Decides the next unit of work. With no cursors yet it is a full load whose
 * cursors start at the moment it was planned; otherwise the next rows changed
 * per table (typed cursor queries) plus the next change-log entries.
 * `queued` are the fan-outs still to rewrite.
 */
export async function planWindow(
  prisma: PrismaClient,
  cursors: Cursors | null,
  options: PlanOptions,
  queued: readonly FanOut[] = [],
): Promise<PlannedWindow> {
  const now = await databaseNow(prisma);
  const watermark = new Date(now.getTime() - options.commitLagMs);
  const bound = options.changeLogInstalled ? await readCompletedTransactionsBound(prisma) : null;

  if (cursors === null) return fullLoadWindow(options, watermark, bound, null, now);

  const touched = { genreIds: new Set<string>(), personIds: new Set<string>(), filmIds: new Set<string>() };
  const next: Cursors = { tables: { ...cursors.tables }, log: null };
  let more = false;
  let reload = false;
  let heldBack = false;

  /** When each genre and person the cursors found was modified. */
  const modifiedMs = new Map<string, number>();
  for (const table of options.tables) {
    const changed = await readChangedRows(prisma, table, cursors.tables[table] ?? null, watermark, options.changeBatchSize);
    for (const id of changed.ids) touched[TOUCHED_KEY[table]].add(id);
    if (table !== "film_work") changed.ids.forEach((id, i) => modifiedMs.set(id, changed.modifiedMs[i]!));
    next.tables[table] = changed.next;
    more ||= changed.more;
  }

  if (bound !== null) {
    const entries = await readChangeLog(prisma, cursors.log ?? { txid: "0", seq: "0" }, bound, options.changeBatchSize);
    for (const id of entries.byEntity.film_work) touched.filmIds.add(id);
    for (const id of entries.byEntity.genre) touched.genreIds.add(id);
    for (const id of entries.byEntity.person) touched.personIds.add(id);
    // Logged: a change of its own, whatever the cursors say.
    for (const id of [...entries.byEntity.genre, ...entries.byEntity.person]) modifiedMs.delete(id);
    next.log = entries.next;
    more ||= entries.more;
    reload = entries.reload;
    heldBack = !entries.more && (await changesHeldBack(prisma, bound));
  }

  // A truncated table: what it held is gone without a trace per row, so this window loads everything.
  // Loading everything also covers every change committed before it was planned: the cursors move to
  // the plan's moment, so a burst of TRUNCATEs costs one reload, not one per batch of log entries.
  if (reload) return fullLoadWindow(options, watermark, bound, cursors, now);
  const window: PlannedWindow = {
    fullLoad: false,
    touched: { genreIds: [...touched.genreIds], personIds: [...touched.personIds], filmIds: [...touched.filmIds] },
    next,
    more,
    plannedAt: now.toISOString(),
    ...(heldBack ? { heldBack } : {}),
  };
  if (options.largeFanOutFilms === 0) return window;
  const covered = bound === null ? new Set<string>() : coveredByQueued(modifiedMs, queued);
  return deferLargeFanOuts(prisma, window, options.largeFanOutFilms, covered);
}

/**
 * Genres and persons that only the cursors found (the change log did not
 * list them in this window) and that a queued fan-out planned after their
 * `modified` already rewrites. With change capture the log lists every
 * change, so the cursors find the same rename again a commit lag after the
 * log did: without this, every large rename would be rewritten twice.
 * A change the log has not listed yet comes with a later window.
 */
function coveredByQueued(modifiedMs: Map<string, number>, queued: readonly FanOut[]): Set<string> {
  const covered = new Set<string>();
  for (const [id, modified] of modifiedMs) {
    const rewrites = queued.some(
      (fanOut) => Date.parse(fanOut.since) >= modified && (fanOut.genreIds.includes(id) || fanOut.personIds.includes(id)),
    );
    if (rewrites) covered.add(id);
  }
  return covered;
}

/**
 * Takes the genres and persons with many films out of the window: a window
 * waits for all its films, and a renamed genre's tens of thousands would hold
 * back every small change behind it. They become a fan-out, rewritten in
 * slices between windows.
 */
async function deferLargeFanOuts(prisma: PrismaClient, window: PlannedWindow, films: number, covered: Set<string>): Promise<PlannedWindow> {
  const large = await findLargeFanOuts(prisma, window.touched, films);
  if (large.genreIds.length === 0 && large.personIds.length === 0) return window;
  const taken = new Set([...large.genreIds, ...large.personIds]);
  const kept = (ids: string[]) => ids.filter((id) => !taken.has(id));
  const deferred = {
    genreIds: large.genreIds.filter((id) => !covered.has(id)),
    personIds: large.personIds.filter((id) => !covered.has(id)),
  };
  return {
    ...window,
    touched: { genreIds: kept(window.touched.genreIds), personIds: kept(window.touched.personIds), filmIds: window.touched.filmIds },
    ...(deferred.genreIds.length + deferred.personIds.length > 0 ? { deferred } : {}),
  };
}

/** A window that loads every film, after which the cursors stand at the moment it was planned (never behind `after`). */
function fullLoadWindow(options: PlanOptions, watermark: Date, bound: string | null, after: Cursors | null, now: Date): SyncWindow {
  const tables: Cursors["tables"] = {};
  for (const table of options.tables) {
    const planned = { modifiedMs: watermark.getTime() - 1, id: MAX_UUID };
    const saved = after?.tables[table];
    tables[table] = saved && saved.modifiedMs > planned.modifiedMs ? saved : planned;
  }
  const caughtUp = bound === null ? null : { txid: bound, seq: "0" };
  const log = after?.log && (caughtUp === null || compareLogCursors(after.log, caughtUp) > 0) ? after.log : caughtUp;
  return {
    fullLoad: true,
    touched: { genreIds: [], personIds: [], filmIds: [] },
    next: { tables, log },
    more: false,
    plannedAt: now.toISOString(),
  };
}

export function windowIsEmpty(window: SyncWindow): boolean {
  const { genreIds, personIds, filmIds } = window.touched;
  return !window.fullLoad && genreIds.length === 0 && personIds.length === 0 && filmIds.length === 0;
}

/**
 * The database's clock. Less the commit lag it is the newest `modified` a
 * cursor may pass (the watermark): rows stamped later wait for the next cycle,
 * which gives transactions that stamped `modified` before committing that long
 * to commit.
 */
async function databaseNow(prisma: PrismaClient): Promise<Date> {
  const rows = await prisma.$queryRaw<Array<{ now: Date }>>`SELECT clock_timestamp() AS now`;
  return rows[0]!.now;
}
