import type { App } from "../app.ts";
import type { SourceTable } from "../config.ts";
import { ExitCode } from "../errors.ts";
import { changeLogInstalled, transactionsHoldingTheLog, type HoldingTransaction } from "../extract/change-log.ts";
import {
  checkDefinition,
  countDocuments,
  definitionWarning,
  identifyIndex,
  isPlainIndex,
  type IndexTarget,
  plainIndexProblem,
  resolveIndex,
  versionedIndices,
  type DefinitionCheck,
} from "../load/index-admin.ts";
import { StateStore } from "../state/state-store.ts";
import { measureBacklog } from "../sync/backlog.ts";

interface TableStatus {
  table: SourceTable;
  cursor: { modified: string; id: string } | null;
  pending: number;
}

/** A writing transaction open this long is named: it holds the change log back. */
const HOLDING_AFTER_S = 10;
/** Another index's state idle this long is named: it holds the change log's pruning back. */
const IDLE_AFTER_MS = 24 * 3_600_000;

/** `movies-etl status`: cursors, pending changes, index and catalogue counts. */
export async function statusCommand(app: App, options: { json: boolean; print(line: string): void }): Promise<ExitCode> {
  const { prisma, guards, config } = app;
  const alias = config.elasticsearch.index;
  const state = await guards.postgres(() => new StateStore(prisma, alias).load());
  const logInstalled = await guards.postgres(() => changeLogInstalled(prisma));
  const backlog = await guards.postgres(() => measureBacklog(prisma, state, { tables: config.tables, changeLogInstalled: logInstalled }));
  const tables: TableStatus[] = config.tables.map((table) => {
    const cursor = state.cursors?.tables[table] ?? null;
    return {
      table,
      cursor: cursor && { modified: new Date(cursor.modifiedMs).toISOString(), id: cursor.id },
      pending: backlog.pending[table] ?? 0,
    };
  });
  const logPending = backlog.pending.change_log ?? null;
  const films = await guards.postgres(() => prisma.filmWork.count());
  const { engine } = app;
  const target = await guards.elasticsearch((signal) => resolveIndex(engine, alias, signal));
  const behind = new Set(target?.indices ?? []);
  const notBehind = (await guards.elasticsearch((signal) => versionedIndices(engine, alias, signal))).filter((name) => !behind.has(name));
  const documents = target ? await guards.elasticsearch((signal) => countDocuments(engine, alias, signal)) : null;
  const identity = target ? await guards.elasticsearch((signal) => identifyIndex(engine, alias, signal)) : null;
  const definition = identity ? await guards.elasticsearch((signal) => checkDefinition(engine, alias, signal)) : null;
  const holders = logInstalled ? await guards.postgres(() => transactionsHoldingTheLog(prisma, HOLDING_AFTER_S)) : [];
  const activity = await guards.postgres(() => StateStore.lastActivity(prisma));
  // An index with state of its own is a reindex that did not finish: never a copy to roll back to.
  const unfinished = notBehind.filter((name) => activity.has(name));
  const earlier = notBehind.filter((name) => !activity.has(name));
  const idleIndices = [...activity]
    .filter(([namespace, at]) => namespace !== alias && Date.now() - at > IDLE_AFTER_MS)
    .map(([namespace, at]) => ({ namespace, idleH: Math.round((Date.now() - at) / 3_600_000) }));
  const warnings = statusWarnings({
    alias,
    synced: state.cursors !== null,
    inProgress: state.window !== null,
    documents,
    films,
    saved: state.index,
    identity,
    definition,
    plainIndex: target !== null && isPlainIndex(target) ? target : null,
    holders,
    idleIndices,
    retentionH: config.consumerRetentionH,
  });

  const status = {
    engine: engine.info,
    index: alias,
    indices: target?.indices ?? [],
    /** Indices reindex built for this alias that it no longer points at: kept for rollback. */
    earlierIndices: earlier,
    /** Indices of a reindex that stopped before its swap: incomplete; the next reindex removes them. */
    unfinishedIndices: unfinished,
    documents,
    films,
    synced: state.cursors !== null,
    lagSeconds: backlog.lagSeconds,
    windowInProgress: state.window ? { fullLoad: state.window.fullLoad, filmAfter: state.filmAfter } : null,
    tables,
    changeLog: logInstalled ? { installed: true, pending: logPending } : { installed: false },
    /** Genres and persons with many films whose films are still being rewritten, oldest first. */
    fanOuts: state.fanOuts,
    fanOutFilmsPending: backlog.pending.fan_out ?? 0,
    definition,
    warnings,
  };
  if (options.json) {
    options.print(JSON.stringify(status));
    return ExitCode.ok;
  }
  options.print(`engine      ${engine.info.distribution} ${engine.info.version}${engine.info.serverless ? " (serverless)" : ""}`);
  options.print(`index       ${alias} -> ${status.indices.join(", ") || "(missing)"}  documents: ${documents ?? "-"}`);
  if (earlier.length > 0) {
    options.print(`earlier     ${earlier.join(", ")}  (no longer behind ${alias}, kept for rollback: delete those you no longer need)`);
  }
  if (unfinished.length > 0) {
    options.print(
      `unfinished  ${unfinished.join(", ")}  (a reindex that stopped before its swap: incomplete, not for rollback; the next reindex removes it)`,
    );
  }
  options.print(`catalogue   films: ${films}`);
  options.print(
    `state       ${status.synced ? `synced before; lag ${formatLag(backlog.lagSeconds)}` : "never synced (next run is a full load)"}`,
  );
  if (status.windowInProgress) {
    options.print(`in progress ${status.windowInProgress.fullLoad ? "full load" : "window"} after film ${state.filmAfter ?? "(start)"}`);
  }
  for (const t of tables) {
    options.print(
      `cursor      ${t.table.padEnd(10)} ${t.cursor ? `${t.cursor.modified} ${t.cursor.id}` : "(none)"}  pending: ${t.pending}`,
    );
  }
  options.print(
    `change log  ${logInstalled ? `installed, pending entries: ${logPending}` : "not installed (deletions and join-table changes are not seen)"}`,
  );
  if (state.fanOuts.length > 0) {
    const genres = new Set(state.fanOuts.flatMap((fanOut) => fanOut.genreIds)).size;
    const persons = new Set(state.fanOuts.flatMap((fanOut) => fanOut.personIds)).size;
    options.print(
      `fan-out     ${count(status.fanOutFilmsPending, "film")} of ${count(genres, "genre")} and ${count(persons, "person")} still to rewrite, for changes committed by ${state.fanOuts[0]!.since}`,
    );
  }
  for (const warning of warnings) options.print(`WARNING     ${warning}`);
  for (const warning of warnings) app.log.warn(warning, { index: alias });
  return ExitCode.ok;
}

function statusWarnings(facts: {
  alias: string;
  synced: boolean;
  inProgress: boolean;
  documents: number | null;
  films: number;
  definition: DefinitionCheck | null;
  saved: { name: string; uuid: string } | null;
  identity: { name: string; uuid: string } | null;
  /** The index itself, where the configured name is a concrete index and not an alias. */
  plainIndex: IndexTarget | null;
  holders: HoldingTransaction[];
  idleIndices: Array<{ namespace: string; idleH: number }>;
  retentionH: number;
}): string[] {
  const warnings: string[] = [];
  if (facts.plainIndex) warnings.push(plainIndexProblem(facts.alias, facts.plainIndex));
  if (facts.definition && !facts.definition.current) warnings.push(definitionWarning(facts.alias, facts.definition));
  for (const holder of facts.holders) {
    const who = [holder.applicationName, holder.state].filter(Boolean).join(", ");
    const age = holder.ageS === null ? "for a while" : `for ${Math.round(holder.ageS)} s`;
    warnings.push(
      `a transaction open ${age} holds the change log back (pid ${holder.pid}${who ? `, ${who}` : ""}): changes committed after it wait until it ends`,
    );
  }
  for (const idle of facts.idleIndices) {
    warnings.push(
      `the state of ${idle.namespace} has not moved for ${idle.idleH} h: it holds the change log's pruning back until ETL_CONSUMER_RETENTION_H (${facts.retentionH} h)`,
    );
  }
  if (facts.saved && facts.identity && facts.saved.uuid !== facts.identity.uuid) {
    warnings.push(
      `the index behind the alias (${facts.identity.name}) is not the one the saved state belongs to; the next sync loads it in full`,
    );
  }
  if (facts.synced && facts.documents === null)
    warnings.push("the state says synced, but the index does not exist; the next sync recreates and fills it");
  if (facts.synced && !facts.inProgress && facts.documents !== null && facts.documents !== facts.films) {
    warnings.push(
      `the index holds ${facts.documents} documents but the catalogue has ${facts.films} films: run a sync (changes may be pending), then \`verify\`; \`reindex\` rebuilds it`,
    );
  }
  return warnings;
}

function formatLag(seconds: number | null): string {
  if (seconds === null) return "-";
  if (seconds === 0) return "0 s (nothing pending)";
  return seconds < 120 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds / 60)} min`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
