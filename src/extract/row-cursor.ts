import type { SourceTable } from "../config.ts";
import type { PrismaClient } from "../db/prisma.ts";

/**
 * A position in one table's change stream, ordered by (millisecond of
 * `modified`, id). Everything at or before it has been handled.
 *
 * Prisma returns `modified` as a JS Date, which has millisecond precision while
 * Postgres keeps microseconds; ordering by the millisecond keeps the cursor
 * exact: a whole millisecond group is either behind the cursor, or read in id
 * order from the cursor's id on.
 */
export interface RowCursor {
  modifiedMs: number;
  id: string;
}

export interface ChangedRows {
  ids: string[];
  /** Each row's `modified` (ms), in the order of `ids`. */
  modifiedMs: number[];
  next: RowCursor;
  /** True when rows beyond `next` (and before the watermark) may remain. */
  more: boolean;
}

export const MAX_UUID = "ffffffff-ffff-ffff-ffff-ffffffffffff";

interface ChangedRowsQuery {
  where: { modified: { gte?: Date; lt: Date }; id?: { gt: string } };
  orderBy: Array<{ modified: "asc" } | { id: "asc" }>;
  take: number;
  select: { id: true; modified: true };
}
/** The two typed queries the cursors need, for each table. */
interface ChangedRowsTable {
  find(query: ChangedRowsQuery): Promise<Array<{ id: string; modified: Date | null }>>;
  countModifiedAfter(after: Date): Promise<number>;
  oldestModifiedAfter(after: Date): Promise<Date | null>;
}

const TABLES: Record<SourceTable, (prisma: PrismaClient) => ChangedRowsTable> = {
  genre: (prisma) => ({
    find: (query) => prisma.genre.findMany(query),
    countModifiedAfter: (after) => prisma.genre.count({ where: { modified: { gt: after } } }),
    oldestModifiedAfter: async (after) =>
      (await prisma.genre.aggregate({ _min: { modified: true }, where: { modified: { gt: after } } }))._min.modified,
  }),
  person: (prisma) => ({
    find: (query) => prisma.person.findMany(query),
    countModifiedAfter: (after) => prisma.person.count({ where: { modified: { gt: after } } }),
    oldestModifiedAfter: async (after) =>
      (await prisma.person.aggregate({ _min: { modified: true }, where: { modified: { gt: after } } }))._min.modified,
  }),
  film_work: (prisma) => ({
    find: (query) => prisma.filmWork.findMany(query),
    countModifiedAfter: (after) => prisma.filmWork.count({ where: { modified: { gt: after } } }),
    oldestModifiedAfter: async (after) =>
      (await prisma.filmWork.aggregate({ _min: { modified: true }, where: { modified: { gt: after } } }))._min.modified,
  }),
};

const SELECT = { id: true, modified: true } as const;

/**
 * Reads up to about `limit` rows of `table` changed after `after` and strictly
 * before the `watermark` (a millisecond-aligned instant), with typed queries
 * on the `(modified, id)` index.
 */
export async function readChangedRows(
  prisma: PrismaClient,
  table: SourceTable,
  after: RowCursor | null,
  watermark: Date,
  limit: number,
): Promise<ChangedRows> {
  const { find } = TABLES[table](prisma);
  const ids: string[] = [];
  const modifiedMs: number[] = [];
  const take = (rows: Array<{ id: string; modified: Date | null }>) => {
    for (const row of rows) {
      ids.push(row.id);
      modifiedMs.push(row.modified!.getTime());
    }
  };
  let from: Date | undefined;

  if (after) {
    const groupEnd = new Date(Math.min(after.modifiedMs + 1, watermark.getTime()));
    const restOfGroup = await find({
      where: { modified: { gte: new Date(after.modifiedMs), lt: groupEnd }, id: { gt: after.id } },
      orderBy: [{ id: "asc" }],
      take: limit,
      select: SELECT,
    });
    take(restOfGroup);
    if (restOfGroup.length === limit) {
      return { ids, modifiedMs, next: { modifiedMs: after.modifiedMs, id: ids[ids.length - 1]! }, more: true };
    }
    from = groupEnd;
  }

  const room = limit - ids.length;
  const rows = await find({
    where: { modified: { gte: from, lt: watermark } },
    orderBy: [{ modified: "asc" }, { id: "asc" }],
    take: room,
    select: SELECT,
  });
  if (rows.length < room) {
    take(rows);
    return { ids, modifiedMs, next: { modifiedMs: watermark.getTime() - 1, id: MAX_UUID }, more: false };
  }

  // The last millisecond group may be cut short, and within it rows are in
  // microsecond order rather than id order: keep only the complete groups...
  const lastMs = rows[rows.length - 1]!.modified!.getTime();
  const complete = rows.filter((row) => row.modified!.getTime() < lastMs);
  if (complete.length > 0) {
    take(complete);
    const lastCompleteMs = complete[complete.length - 1]!.modified!.getTime();
    return { ids, modifiedMs, next: { modifiedMs: lastCompleteMs, id: MAX_UUID }, more: true };
  }
  // ...or, when one millisecond holds them all, read that group in id order.
  const group = await find({
    where: { modified: { gte: new Date(lastMs), lt: new Date(lastMs + 1) } },
    orderBy: [{ id: "asc" }],
    take: room,
    select: SELECT,
  });
  take(group);
  const next = group.length < room ? { modifiedMs: lastMs, id: MAX_UUID } : { modifiedMs: lastMs, id: ids[ids.length - 1]! };
  return { ids, modifiedMs, next, more: true };
}

/**
 * Rows changed in a later millisecond than the cursor's, for `status`: an
 * estimate that leaves out the rest of the cursor's own millisecond.
 */
export function countChangedRows(prisma: PrismaClient, table: SourceTable, after: RowCursor | null): Promise<number> {
  return TABLES[table](prisma).countModifiedAfter(new Date(after?.modifiedMs ?? 0));
}

/** The oldest `modified` after the cursor's millisecond, or null when none, for the lag metric. */
export function oldestChangedRow(prisma: PrismaClient, table: SourceTable, after: RowCursor | null): Promise<Date | null> {
  return TABLES[table](prisma).oldestModifiedAfter(new Date(after?.modifiedMs ?? 0));
}
