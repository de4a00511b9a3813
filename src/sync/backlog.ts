import type { SourceTable } from "../config.ts";
import type { PrismaClient } from "../db/prisma.ts";
import { countLogEntriesAfter, oldestLogEntryAgeSeconds } from "../extract/change-log.ts";
import { countFanOutFilms } from "../extract/fan-out.ts";
import { countChangedRows, oldestChangedRow } from "../extract/row-cursor.ts";
import { oldestFanOutSince } from "../state/fan-out-queue.ts";
import type { SyncState } from "../state/sync-state.ts";

/** What is not in the index yet, for `status` and the metrics. */
export interface Backlog {
  /**
   * Changed rows after each table's cursor, change-log entries after the log
   * cursor (`change_log`), and films large fan-outs still have to rewrite (`fan_out`).
   */
  pending: Partial<Record<SourceTable | "change_log" | "fan_out", number>>;
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
  pending.fan_out = 0;
  for (const fanOut of state.fanOuts) pending.fan_out += await countFanOutFilms(prisma, fanOut, fanOut.after);
  if (state.cursors === null) return { pending, lagSeconds: null };

  // A fan-out's changes are behind the cursors but not yet in the index.
  const fanOutSince = oldestFanOutSince(state.fanOuts);
  const fanOutLag = fanOutSince === null ? 0 : (Date.now() - fanOutSince) / 1000;
  if (options.changeLogInstalled) {
    const logLag = (await oldestLogEntryAgeSeconds(prisma, state.cursors.log)) ?? 0;
    return { pending, lagSeconds: Math.max(0, logLag, fanOutLag) };
  }
  let oldest = Infinity;
  for (const table of options.tables) {
    const row = await oldestChangedRow(prisma, table, state.cursors.tables[table] ?? null);
    if (row) oldest = Math.min(oldest, row.getTime());
  }
  return { pending, lagSeconds: Math.max(0, fanOutLag, oldest === Infinity ? 0 : (Date.now() - oldest) / 1000) };
}
