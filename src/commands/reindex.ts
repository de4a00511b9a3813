import type { App } from "../app.ts";
import { tryAdvisoryLock } from "../db/advisory-lock.ts";
import { ExitCode, IndexDiffersError } from "../errors.ts";
import {
  countDocuments,
  createIndex,
  putIndexSettings,
  refreshIndex,
  resolveIndex,
  swapAlias,
  versionedIndexName,
} from "../load/index-admin.ts";
import { StateStore } from "../state/state-store.ts";
import { runSyncCycle, type SyncControl } from "../sync/cycle.ts";
import { logSummary } from "./sync.ts";

/**
 * `movies-etl reindex`: fill a new versioned index from scratch, catch it up,
 * check it, then point the alias at it in one atomic call. Readers keep the
 * old index until that call; the old index stays for rollback.
 */
export async function reindexCommand(app: App, control: SyncControl): Promise<ExitCode> {
  const { config, log, guards, elasticsearch: es } = app;
  const alias = config.elasticsearch.index;
  const lock = await waitForLock(app, control, alias);
  if (!lock) return ExitCode.ok;
  try {
    const forgotten = await guards.postgres(() => StateStore.forgetAbandonedReindexes(app.prisma, alias));
    if (forgotten > 0) log.info("reindex: forgot the state of an earlier reindex that did not finish", { rows: forgotten });
    const previous = await guards.elasticsearch((signal) => resolveIndex(es, alias, signal));
    const index = versionedIndexName(alias);
    log.info("reindex: creating a new index", { index, alias, previous: previous?.indices ?? [] });
    // The full load below runs with refresh off and no replicas, and puts
    // the definition's settings back when it is done.
    await guards.elasticsearch((signal) => createIndex(es, index, { signal }));

    const store = new StateStore(app.prisma, index);
    await guards.postgres(() => store.clear());
    const deps = { ...app, store, index };
    const load = await runSyncCycle(deps, control);
    logSummary(app, load);
    if (load.interrupted) {
      log.warn("reindex stopped before the swap; the alias still points at the old index", { abandoned: index });
      return ExitCode.ok;
    }

    const replicas = await previousReplicas(app, previous?.indices[0]);
    if (replicas !== null) {
      await guards.elasticsearch((signal) => putIndexSettings(es, index, { number_of_replicas: replicas }, signal));
    }
    const catchUp = await runSyncCycle(deps, control);
    if (catchUp.interrupted) return ExitCode.ok;
    await guards.elasticsearch((signal) => refreshIndex(es, index, signal));

    const documents = await guards.elasticsearch((signal) => countDocuments(es, index, signal));
    const films = await guards.postgres(() => app.prisma.filmWork.count());
    if (documents !== films) {
      throw new IndexDiffersError(
        `reindex: ${index} holds ${documents} documents but the catalogue has ${films} films; the alias was not moved`,
      );
    }
    await guards.elasticsearch((signal) => swapAlias(es, alias, index, previous, signal));
    await guards.postgres(() => store.copyTo(new StateStore(app.prisma, alias)));
    await guards.postgres(() => store.clear());
    log.info("reindex: the alias now points at the new index", {
      alias,
      index,
      documents,
      keptForRollback: previous?.indices.filter((name) => name !== alias) ?? [],
    });
    return ExitCode.ok;
  } finally {
    await lock.release();
  }
}

/**
 * A reindex is a deliberate, one-off job: rather than give up when a scheduled
 * sync holds the lock, it waits for that run to end. Scheduled syncs started
 * meanwhile find the lock held and exit quietly.
 */
async function waitForLock(app: App, control: SyncControl, alias: string) {
  let waitedS = 0;
  for (;;) {
    const lock = await app.guards.postgres(() => tryAdvisoryLock(app.config.databaseUrl, alias));
    if (lock) return lock;
    if (waitedS % 30 === 0) app.log.info("reindex: another run holds the lock; waiting for it to finish", { index: alias, waitedS });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    waitedS++;
    if (control.stopRequested()) return null;
  }
}

async function previousReplicas(app: App, previous: string | undefined): Promise<number | null> {
  if (!previous) return null;
  const settings = await app.guards.elasticsearch((signal) =>
    app.elasticsearch.indices.getSettings({ index: previous, name: "index.number_of_replicas" }, { signal }),
  );
  const value = Object.values(settings)[0]?.settings?.index?.number_of_replicas;
  return value === undefined ? null : Number(value);
}
