import type { App } from "../app.ts";
import type { SourceTable } from "../config.ts";
import { changeLogInstalled } from "../extract/change-log.ts";
import { countChangedRows } from "../extract/row-cursor.ts";
import { countDocuments, resolveIndex } from "../load/index-admin.ts";
import { StateStore } from "../state/state-store.ts";
import { ExitCode } from "../errors.ts";

interface TableStatus {
  table: SourceTable;
  cursor: { modified: string; id: string } | null;
  pending: number;
}

/** `movies-etl status`: cursors, pending changes, index and catalogue counts. */
export async function statusCommand(app: App, options: { json: boolean; print(line: string): void }): Promise<ExitCode> {
  const { prisma, guards, config } = app;
  const alias = config.elasticsearch.index;
  const state = await guards.postgres(() => new StateStore(prisma, alias).load());
  const tables: TableStatus[] = [];
  for (const table of config.tables) {
    const cursor = state.cursors?.tables[table] ?? null;
    const pending = await guards.postgres(() => countChangedRows(prisma, table, cursor));
    tables.push({ table, cursor: cursor && { modified: new Date(cursor.modifiedMs).toISOString(), id: cursor.id }, pending });
  }
  const logInstalled = await guards.postgres(() => changeLogInstalled(prisma));
  const logPending = logInstalled ? await guards.postgres(() => countLogPending(app, state.cursors?.log ?? null)) : null;
  const films = await guards.postgres(() => prisma.filmWork.count());
  const target = await guards.elasticsearch((signal) => resolveIndex(app.elasticsearch, alias, signal));
  const documents = target ? await guards.elasticsearch((signal) => countDocuments(app.elasticsearch, alias, signal)) : null;

  const status = {
    index: alias,
    indices: target?.indices ?? [],
    documents,
    films,
    synced: state.cursors !== null,
    windowInProgress: state.window ? { fullLoad: state.window.fullLoad, filmAfter: state.filmAfter } : null,
    tables,
    changeLog: logInstalled ? { installed: true, pending: logPending } : { installed: false },
  };
  if (options.json) {
    options.print(JSON.stringify(status));
    return ExitCode.ok;
  }
  options.print(`index       ${alias} -> ${status.indices.join(", ") || "(missing)"}  documents: ${documents ?? "-"}`);
  options.print(`catalogue   films: ${films}`);
  options.print(`state       ${status.synced ? "synced before" : "never synced (next run is a full load)"}`);
  if (status.windowInProgress) {
    options.print(`in progress ${status.windowInProgress.fullLoad ? "full load" : "window"} after film ${state.filmAfter ?? "(start)"}`);
  }
  for (const t of tables) {
    options.print(`cursor      ${t.table.padEnd(10)} ${t.cursor ? `${t.cursor.modified} ${t.cursor.id}` : "(none)"}  pending: ${t.pending}`);
  }
  options.print(
    `change log  ${logInstalled ? `installed, pending entries: ${logPending}` : "not installed (deletions and join-table changes are not seen)"}`,
  );
  return ExitCode.ok;
}

async function countLogPending(app: App, cursor: { txid: string; seq: string } | null): Promise<number> {
  const from = cursor ?? { txid: "0", seq: "0" };
  const rows = await app.prisma.$queryRaw<Array<{ pending: bigint }>>`
    SELECT count(*) AS pending FROM content.etl_change WHERE (txid, seq) > (${from.txid}::xid8, ${from.seq}::bigint)`;
  return Number(rows[0]?.pending ?? 0);
}
