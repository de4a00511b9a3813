import type { App } from "../app.ts";
import { acquireAdvisoryLock } from "../db/advisory-lock.ts";
import { ExitCode, IndexGoneError, LockLostError } from "../errors.ts";
import { ensureIndex } from "../load/index-admin.ts";
import { StateStore } from "../state/state-store.ts";
import { runSyncCycle, type SyncControl, type SyncOutcome } from "../sync/cycle.ts";
import { logSummary } from "../sync/summary.ts";

export interface SyncOptions {
  watch: boolean;
  /** Resolves early when a stop is requested. */
  sleep(ms: number): Promise<void>;
}

/** Cycles in a row that may end in a lost lock or a vanished index before the run gives up. */
const MAX_RECOVERIES = 3;

type CycleResult =
  | { kind: "done"; outcome: SyncOutcome }
  | { kind: "busy" }
  | { kind: "recoverable"; error: LockLostError | IndexGoneError };

/**
 * `movies-etl [--watch]`: one sync cycle, or cycles at an interval. The lock
 * is held for one cycle at a time, so a `reindex` can take its turn between
 * two cycles of a watcher.
 */
export async function syncCommand(app: App, control: SyncControl, options: SyncOptions): Promise<ExitCode> {
  const { config, log } = app;
  let recoveries = 0;
  for (;;) {
    const result = await cycleUnderLock(app, control);
    if (result.kind === "busy") {
      if (!options.watch) {
        log.info("another run holds the lock; nothing to do", { index: config.elasticsearch.index });
        return ExitCode.ok;
      }
      log.info("another run holds the lock; trying again after the interval", { index: config.elasticsearch.index });
    } else if (result.kind === "recoverable") {
      if (++recoveries > MAX_RECOVERIES) throw result.error;
      log.warn(`${result.error.message}; starting the cycle over`);
      continue;
    } else {
      recoveries = 0;
      logSummary(log, result.outcome);
      if (result.outcome.interrupted || !options.watch) return ExitCode.ok;
    }
    if (control.stopRequested()) return ExitCode.ok;
    await options.sleep(config.watchIntervalS * 1000);
    if (control.stopRequested()) return ExitCode.ok;
  }
}

async function cycleUnderLock(app: App, control: SyncControl): Promise<CycleResult> {
  const alias = app.config.elasticsearch.index;
  const lock = await app.guards.postgres(() => acquireAdvisoryLock(app.config.databaseUrl, alias));
  if (!lock) return { kind: "busy" };
  try {
    await app.guards.elasticsearch((signal) => ensureIndex(app.engine, alias, signal));
    const store = new StateStore(app.prisma, alias, lock.assertHeld);
    const outcome = await runSyncCycle({ ...app, store, index: alias, assertLockHeld: lock.assertHeld }, control);
    return { kind: "done", outcome };
  } catch (error) {
    if (error instanceof LockLostError || error instanceof IndexGoneError) return { kind: "recoverable", error };
    throw error;
  } finally {
    await lock.release();
  }
}
