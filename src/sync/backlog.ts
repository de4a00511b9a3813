import type { SourceTable } from "../config.ts";
import type { PrismaClient } from "../db/prisma.ts";
import { countLogEntriesAfter, oldestLogEntryAgeSeconds } from "../extract/change-log.ts";
import { countChangedRows, oldestChangedRow } from "../extract/row-cursor.ts";
import type { SyncState } from "../state/sync-state.ts";

/** What is not in the index yet, for `status` and the metrics. */
export interface Backlog {
  /** Changed rows after each table's cursor, and change-log entries after the log cursor (`change_log`). */
  pending: Partial<Record<SourceTable | "change_log", number>>;
  /**
   * Age in seconds of the oldest change not yet in the index (0 when none is
   * pending); null before the first full load has finished.
   */
  lagSeconds: number | null;
}

/**
 * With change capture the log sees every change, so the lag is its oldest
 * unread entry's age; the table cursors trail it by the commit lag on purpose
 * and would overstate it. Without capture the cursors are all there is.
 */
export async function measureBacklog(
  prisma: PrismaClient,
  state: SyncState,
  options: { tables: SourceTable[]; changeLogInstalled: boolean },
): Promise<Backlog> {
  const pending: Backlog["pending"] = {};
  for (const table of options.tables) pending[table] = await countChangedRows(prisma, table, state.cursors?.tables[table] ?? null);
  if (options.changeLogInstalled) pending.change_log = await countLogEntriesAfter(prisma, state.cursors?.log ?? null);
  if (state.cursors === null) return { pending, lagSeconds: null };

  if (options.changeLogInstalled) {
    return { pending, lagSeconds: Math.max(0, (await oldestLogEntryAgeSeconds(prisma, state.cursors.log)) ?? 0) };
  }
  let oldest = Infinity;
  for (const table of options.tables) {
    const row = await oldestChangedRow(prisma, table, state.cursors.tables[table] ?? null);
    if (row) oldest = Math.min(oldest, row.getTime());
  }
  return { pending, lagSeconds: oldest === Infinity ? 0 : Math.max(0, (Date.now() - oldest) / 1000) };
}
