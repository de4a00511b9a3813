import type { App } from "../app.ts";
import { acquireAdvisoryLock } from "../db/advisory-lock.ts";
import { ExitCode, IndexDiffersError } from "../errors.ts";
import { replicasConfigurable } from "../load/engine-quirks.ts";
import {
  countDocuments,
  flatSettings,
  createIndex,
  identifyIndex,
  isVersionedIndexOf,
  putIndexSettings,
  refreshIndex,
  resolveIndex,
  swapAlias,
  versionedIndexName,
} from "../load/index-admin.ts";
import { StateStore } from "../state/state-store.ts";
import { runSyncCycle, type SyncControl } from "../sync/cycle.ts";
import { logSummary } from "../sync/summary.ts";

/**
 * `movies-etl reindex`: fill a new versioned index from scratch, catch it up,
 * check it, then point the alias at it in one atomic call. Readers keep the
 * old index until that call; the old index stays for rollback.
 */
export async function reindexCommand(app: App, control: SyncControl): Promise<ExitCode> {
  const { config, log, guards, engine: es } = app;
  const alias = config.elasticsearch.index;
  const lock = await waitForLock(app, control, alias);
  if (!lock) return ExitCode.ok;
  try {
    const fence = await guards.postgres(() => StateStore.claim(app.prisma, alias));
    const abandoned = (await guards.postgres(() => StateStore.namespaces(app.prisma))).filter((ns) => isVersionedIndexOf(alias, ns));
    const forgotten = await guards.postgres(() => StateStore.forget(app.prisma, abandoned));
    if (forgotten > 0) log.info("reindex: forgot the state of an earlier reindex that did not finish", { rows: forgotten });
    const previous = await guards.elasticsearch((signal) => resolveIndex(es, alias, signal));
    const index = versionedIndexName(alias);
    log.info("reindex: creating a new index", { index, alias, previous: previous?.indices ?? [] });
    // The full load below runs with refresh off and no replicas, and puts
    // the definition's settings back when it is done.
    await guards.elasticsearch((signal) => createIndex(es, index, { signal }));
    const created = await guards.elasticsearch((signal) => identifyIndex(es, index, signal));

    const store = new StateStore(app.prisma, index, fence);
    await guards.postgres(() => store.clear());
    const deps = { ...app, store, index, assertLockHeld: lock.assertHeld, writeVersion: fence.epoch };
    const load = await runSyncCycle(deps, control);
    logSummary(log, load);
    if (load.interrupted) {
      log.warn("reindex stopped before the swap; the alias still points at the old index", { abandoned: index });
      return ExitCode.ok;
    }

    const replicas = replicasConfigurable(es.info) ? await previousReplicas(app, previous?.indices[0]) : null;
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
    const current = await guards.elasticsearch((signal) => identifyIndex(es, index, signal));
    if (current?.uuid !== created?.uuid) {
      throw new IndexDiffersError(`reindex: ${index} was deleted or replaced while it was being filled; the alias was not moved`);
    }
    await lock.assertHeld();
    await guards.elasticsearch((signal) => swapAlias(es, alias, index, previous, signal));
    await guards.postgres(() => store.copyTo(new StateStore(app.prisma, alias, fence)));
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
 * A reindex is a deliberate, one-off job: rather than give up when a sync
 * holds the lock, it queues for it. A watcher releases the lock between two
 * cycles, and the queue hands it to the reindex then; syncs started meanwhile
 * find the lock held and wait for their next turn.
 */
async function waitForLock(app: App, control: SyncControl, alias: string) {
  const immediate = await app.guards.postgres(() => acquireAdvisoryLock(app.config.databaseUrl, alias));
  if (immediate) return immediate;
  app.log.info("reindex: another run holds the lock; waiting for it to end its cycle", { index: alias });
  // Not under the retry policy: its attempt timeout would cut a wait that may rightly last a whole cycle.
  return acquireAdvisoryLock(app.config.databaseUrl, alias, { wait: true, signal: control.stopSignal });
}

async function previousReplicas(app: App, previous: string | undefined): Promise<number | null> {
  if (!previous) return null;
  const settings = await app.guards.elasticsearch((signal) => flatSettings(app.engine, previous, "index.number_of_replicas", signal));
  const value = Object.values(settings)[0]?.["index.number_of_replicas"];
  return value === undefined ? null : Number(value);
}
