import type { App } from "../app.ts";
import { acquireAdvisoryLock, type HeldLock } from "../db/advisory-lock.ts";
import { ConfigError, DependencyUnavailableError, describeError, ExitCode, IndexDiffersError } from "../errors.ts";
import { isTransientPostgresError } from "../resilience/transient.ts";
import {
  adoptReplicas,
  countDocuments,
  createIndex,
  deleteIndex,
  identifyIndex,
  isVersionedIndexOf,
  plainIndexProblem,
  refreshIndex,
  resolveIndex,
  swapAlias,
  versionedIndexName,
  type IndexIdentity,
  type IndexTarget,
} from "../load/index-admin.ts";
import { StateStore, type OwnerFence } from "../state/state-store.ts";
import { checkCompleteness } from "../sync/completeness.ts";
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
    const previous = await guards.elasticsearch((signal) => resolveIndex(es, alias, signal));
    // Moving a plain index behind an alias deletes it in the swap: never one that an alias (readers) points at.
    if (previous?.aliasesOfIndex?.length) throw new ConfigError([plainIndexProblem(alias, previous)]);
    await cleanUpUnfinished(app, alias, previous);
    const index = versionedIndexName(alias);
    log.info("reindex: creating a new index", { index, alias, previous: previous?.indices ?? [] });
    // The full load below runs with refresh off and no replicas, and puts
    // the definition's settings back when it is done.
    await guards.elasticsearch((signal) => createIndex(es, index, { signal }));
    const created = await guards.elasticsearch((signal) => identifyIndex(es, index, signal));

    const store = new StateStore(app.prisma, index, fence);
    const run: ReindexRun = { app, control, index, alias, previous, created, store, fence, lock };
    let swapped = false;
    try {
      swapped = await fillCheckAndSwap(run);
    } finally {
      if (!swapped) await discard(run);
    }
    return ExitCode.ok;
  } finally {
    await lock.release();
  }
}

interface ReindexRun {
  app: App;
  control: SyncControl;
  index: string;
  alias: string;
  previous: IndexTarget | null;
  created: IndexIdentity | null;
  store: StateStore;
  fence: OwnerFence;
  lock: HeldLock;
}

/** Attempts to catch up before giving up on a catalogue that keeps moving under the check. */
const CATCH_UP_ATTEMPTS = 3;

/**
 * Fills the new index, catches it up until its ids match the catalogue's (but
 * for films with changes still pending), swaps the alias. False when stopped
 * first; throws (and the caller cleans up) when the index is not complete.
 */
async function fillCheckAndSwap(run: ReindexRun): Promise<boolean> {
  const { app, control, index, alias, previous, store, fence, lock } = run;
  const { log, guards, engine: es } = app;
  {
    const deps = { ...app, store, index, assertLockHeld: lock.assertHeld, writeVersion: fence.epoch };
    const load = await runSyncCycle(deps, control);
    logSummary(log, load);
    if (load.interrupted) return false;

    const from = previous?.indices[0];
    if (from) await guards.elasticsearch((signal) => adoptReplicas(es, from, index, signal));
    for (let attempt = 1; ; attempt++) {
      const catchUp = await runSyncCycle(deps, control);
      if (catchUp.interrupted) return false;
      await guards.elasticsearch((signal) => refreshIndex(es, index, signal));
      const state = await guards.postgres(() => store.load());
      const check = await checkCompleteness(app, index, state.cursors);
      if (check.unexplained.length === 0) {
        if (check.pending > 0)
          log.info("reindex: changes committed meanwhile are still pending; the next sync applies them", { films: check.pending });
        break;
      }
      if (attempt === CATCH_UP_ATTEMPTS) {
        throw new IndexDiffersError(
          `reindex: ${index} and the catalogue differ in ${check.unexplained.length} films no pending change explains ` +
            `(e.g. ${check.unexplained.slice(0, 3).join(", ")}); the alias was not moved`,
        );
      }
      log.info("reindex: the catalogue moved during the check; catching up again", { attempt, differences: check.unexplained.length });
    }
    const current = await guards.elasticsearch((signal) => identifyIndex(es, index, signal));
    if (current?.uuid !== run.created?.uuid) {
      throw new IndexDiffersError(`reindex: ${index} was deleted or replaced while it was being filled; the alias was not moved`);
    }
    // The state moves to the alias before the alias moves: a reindex killed between the two leaves
    // no state of its own that the next reindex would take for an unfinished one (and remove its
    // index, perhaps live by then), only an alias whose state names the new index, which the next
    // sync sees and answers with a full load.
    await guards.postgres(() => store.handOverTo(new StateStore(app.prisma, alias, fence)));
    await lock.assertHeld();
    await guards.elasticsearch((signal) => swapAlias(es, alias, index, previous, signal));
  }
  const documents = await guards.elasticsearch((signal) => countDocuments(es, index, signal));
  log.info("reindex: the alias now points at the new index", {
    alias,
    index,
    documents,
    keptForRollback: previous?.indices.filter((name) => name !== alias) ?? [],
  });
  return true;
}

/**
 * Nothing of a reindex that stopped or failed before its swap is worth
 * keeping: its index is orphaned, and its state would hold the change log back.
 */
async function discard(run: ReindexRun): Promise<void> {
  const { app, index } = run;
  await app.guards.elasticsearch((signal) => deleteIndex(app.engine, index, signal)).catch(() => {});
  await app.guards.postgres(() => StateStore.forget(app.prisma, [index])).catch(() => {});
  app.log.warn("reindex stopped before the swap: removed its unfinished index; the alias still points at the old one", { removed: index });
}

/**
 * A reindex killed before its swap (it could not clean up) leaves its state
 * and its half-filled index: the state is how it is recognised, and neither
 * is ever of use again. An index the alias points at is never touched.
 */
async function cleanUpUnfinished(app: App, alias: string, previous: IndexTarget | null): Promise<void> {
  const { guards, log, engine } = app;
  const abandoned = (await guards.postgres(() => StateStore.namespaces(app.prisma))).filter((ns) => isVersionedIndexOf(alias, ns));
  const behind = new Set(previous?.indices ?? []);
  const unfinished = abandoned.filter((index) => !behind.has(index));
  for (const index of unfinished) await guards.elasticsearch((signal) => deleteIndex(engine, index, signal));
  const forgotten = await guards.postgres(() => StateStore.forget(app.prisma, abandoned));
  if (forgotten > 0 || unfinished.length > 0) {
    log.info("reindex: removed what an earlier reindex that did not finish left", { rows: forgotten, indices: unfinished });
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
  // A wait whose session ends (terminated, a restart) queues again on a new one, as often as the policy retries.
  const { maxAttempts, initialDelayMs } = app.config.retry;
  for (let attempt = 1; ; attempt++) {
    try {
      return await acquireAdvisoryLock(app.config.databaseUrl, alias, { wait: true, signal: control.stopSignal });
    } catch (error) {
      if (!isTransientPostgresError(error)) throw error;
      if (attempt > maxAttempts) throw new DependencyUnavailableError("postgres", error);
      app.log.warn("reindex: the session waiting for the lock ended; queueing again", { attempt, reason: describeError(error) });
      await new Promise((resolve) => setTimeout(resolve, initialDelayMs * attempt));
    }
  }
}
