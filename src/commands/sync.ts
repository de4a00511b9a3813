import type { App } from "../app.ts";
import { tryAdvisoryLock } from "../db/advisory-lock.ts";
import { ExitCode } from "../errors.ts";
import { ensureIndex } from "../load/index-admin.ts";
import { StateStore } from "../state/state-store.ts";
import { runSyncCycle, type SyncControl, type SyncOutcome } from "../sync/cycle.ts";

export interface SyncOptions {
  watch: boolean;
  /** Resolves early when a stop is requested. */
  sleep(ms: number): Promise<void>;
}

/** `movies-etl [--watch]`: one sync cycle, or cycles at an interval. */
export async function syncCommand(app: App, control: SyncControl, options: SyncOptions): Promise<ExitCode> {
  const { config, log } = app;
  const alias = config.elasticsearch.index;
  const lock = await app.guards.postgres(() => tryAdvisoryLock(config.databaseUrl, alias));
  if (!lock) {
    log.info("another run holds the lock; nothing to do", { index: alias });
    return ExitCode.ok;
  }
  try {
    await app.guards.elasticsearch((signal) => ensureIndex(app.elasticsearch, alias, signal));
    const store = new StateStore(app.prisma, alias);
    const deps = { ...app, store, index: alias };
    for (;;) {
      const outcome = await runSyncCycle(deps, control);
      logSummary(app, outcome);
      if (outcome.interrupted || !options.watch || control.stopRequested()) return ExitCode.ok;
      await options.sleep(config.watchIntervalS * 1000);
      if (control.stopRequested()) return ExitCode.ok;
    }
  } finally {
    await lock.release();
  }
}

export function logSummary(app: App, outcome: SyncOutcome): void {
  const seconds = outcome.durationMs / 1000;
  const docs = outcome.written + outcome.deleted;
  app.log.info(outcome.interrupted ? "sync stopped early; the next run resumes" : "sync finished", {
    written: outcome.written,
    deleted: outcome.deleted,
    windows: outcome.windows,
    fullLoad: outcome.fullLoad,
    durationS: Math.round(seconds * 100) / 100,
    docsPerS: seconds > 0 ? Math.round(docs / seconds) : 0,
  });
}
