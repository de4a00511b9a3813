import type { App } from "../app.ts";
import { acquireAdvisoryLock } from "../db/advisory-lock.ts";
import { listenForChanges, type ChangeListener } from "../db/change-listener.ts";
import { ConfigError, describeError, EtlError, ExitCode, IndexGoneError, LockLostError, RejectedDocumentsError } from "../errors.ts";
import { changeLogInstalled } from "../extract/change-log.ts";
import { ensureIndex, isPlainIndex, plainIndexProblem } from "../load/index-admin.ts";
import type { SyncMetrics } from "../metrics/sync-metrics.ts";
import { StateStore } from "../state/state-store.ts";
import { measureBacklog } from "../sync/backlog.ts";
import { runSyncCycle, type SyncControl, type SyncOutcome } from "../sync/cycle.ts";
import { logSummary } from "../sync/summary.ts";
import { Wake } from "../sync/wake.ts";

export interface SyncOptions {
  watch: boolean;
}

/** Cycles in a row that may end in a lost lock or a vanished index before the run gives up. */
const MAX_RECOVERIES = 3;
/** A watcher is unhealthy when nothing moved for this many poll intervals. */
const HEALTHY_WITHIN_INTERVALS = 3;
/**
 * Committed changes held back by a transaction still open: the first look
 * again after this long, each next one after twice as long, up to the
 * maximum (or the interval): a cycle that finds nothing costs a few queries.
 */
const HELD_BACK_FIRST_LOOK_MS = 250;
const HELD_BACK_MAX_LOOK_MS = 2000;

type CycleResult =
  | { kind: "done"; outcome: SyncOutcome }
  | { kind: "busy" }
  | { kind: "recoverable"; error: LockLostError | IndexGoneError };

/**
 * `movies-etl [--watch]`: one sync cycle, or cycles for as long as it runs.
 * The lock is held for one cycle at a time, so a `reindex` can take its turn
 * between two cycles of a watcher. A watcher wakes when the change-capture
 * triggers notify (gathering a burst into one cycle) and polls at the
 * interval besides; it serves metrics, and it outlives failures a later cycle
 * can overcome (a dependency down, a rejected document) while a one-shot run
 * ends with their exit code.
 */
export async function syncCommand(app: App, control: SyncControl, options: SyncOptions): Promise<ExitCode> {
  const telemetry = await startTelemetry(app, options.watch);
  const wake = new Wake(app.config.watchDebounceMs);
  const listener = options.watch ? await listenIfCaptured(app, wake) : null;
  let succeeded = false;
  try {
    const watched = listener ? { ...control, changes: wake } : control;
    const code = await syncLoop(app, watched, options, wake, telemetry?.metrics ?? null);
    succeeded = code === ExitCode.ok;
    return code;
  } finally {
    await listener?.close();
    await telemetry?.finish(succeeded);
  }
}

async function syncLoop(app: App, control: SyncControl, options: SyncOptions, wake: Wake, metrics: SyncMetrics | null): Promise<ExitCode> {
  const { config, log } = app;
  const stop = control.stopSignal ?? new AbortController().signal;
  let recoveries = 0;
  let heldBackLookMs = HELD_BACK_FIRST_LOOK_MS;
  for (;;) {
    let result: CycleResult | null = null;
    try {
      result = await cycleUnderLock(app, control, metrics);
    } catch (error) {
      metrics?.cycleFailed();
      if (error instanceof RejectedDocumentsError) metrics?.documentsRejected(error.rejected.length);
      if (!options.watch || !outlivable(error)) throw error;
      log.error(`${describeError(error)}; trying again at the next wake-up`, { exitCode: (error as EtlError).exitCode });
    }
    if (result?.kind === "busy") {
      metrics?.alive();
      if (!options.watch) {
        log.info("another run holds the lock; nothing to do", { index: config.elasticsearch.index });
        return ExitCode.ok;
      }
      log.info("another run holds the lock; trying again after the interval", { index: config.elasticsearch.index });
    } else if (result?.kind === "recoverable") {
      if (++recoveries > MAX_RECOVERIES) throw result.error;
      log.warn(`${result.error.message}; starting the cycle over`);
      continue;
    } else if (result?.kind === "done") {
      recoveries = 0;
      metrics?.cycleFinished(result.outcome);
      logSummary(log, result.outcome);
      if (result.outcome.interrupted || !options.watch) return ExitCode.ok;
      // Work was left for the next cycle on purpose (it releases the lock between): start it now.
      if (result.outcome.fanOutsLeft && !control.stopRequested()) continue;
    }
    if (control.stopRequested()) return ExitCode.ok;
    const intervalMs = config.watchIntervalS * 1000;
    let waitMs = intervalMs;
    if (result?.kind === "done" && result.outcome.changesHeldBack) {
      // Nothing notifies when the transaction holding them back ends without a change of its own.
      waitMs = Math.min(heldBackLookMs, intervalMs);
      heldBackLookMs = Math.min(heldBackLookMs * 2, HELD_BACK_MAX_LOOK_MS);
    } else {
      heldBackLookMs = HELD_BACK_FIRST_LOOK_MS;
    }
    // Busy or failing: wait for the interval, not for the next notification.
    const woke = result?.kind === "done" ? await wake.wait(waitMs, stop) : await pause(intervalMs, stop);
    if (woke === "stop" || control.stopRequested()) return ExitCode.ok;
  }
}

async function cycleUnderLock(app: App, control: SyncControl, metrics: SyncMetrics | null): Promise<CycleResult> {
  const alias = app.config.elasticsearch.index;
  const lock = await app.guards.postgres(() => acquireAdvisoryLock(app.config.databaseUrl, alias));
  if (!lock) return { kind: "busy" };
  try {
    const fence = await app.guards.postgres(() => StateStore.claim(app.prisma, alias));
    const target = await app.guards.elasticsearch((signal) => ensureIndex(app.engine, alias, signal));
    if (isPlainIndex(target)) throw new ConfigError([plainIndexProblem(alias, target)]);
    const store = new StateStore(app.prisma, alias, fence);
    const outcome = await runSyncCycle(
      {
        ...app,
        store,
        index: alias,
        assertLockHeld: lock.assertHeld,
        writeVersion: fence.epoch,
        onBatchWritten: metrics ? (written, deleted) => metrics.batchWritten(written, deleted) : undefined,
      },
      control,
    );
    return { kind: "done", outcome };
  } catch (error) {
    if (error instanceof LockLostError || error instanceof IndexGoneError) return { kind: "recoverable", error };
    throw error;
  } finally {
    await lock.release();
  }
}

/** Failures a watcher waits out: a dependency down, a write block, a rejected document. Not a configuration or internal error. */
function outlivable(error: unknown): boolean {
  return error instanceof EtlError && (error.exitCode === ExitCode.unavailable || error.exitCode === ExitCode.rejected);
}

async function listenIfCaptured(app: App, wake: Wake): Promise<ChangeListener | null> {
  if (!(await app.guards.postgres(() => changeLogInstalled(app.prisma)))) {
    app.log.info("no change capture: polling every interval", { intervalS: app.config.watchIntervalS });
    return null;
  }
  return listenForChanges(app.config.databaseUrl, () => wake.notify(), app.log);
}

function pause(ms: number, stop: AbortSignal): Promise<"interval" | "stop"> {
  return new Promise((resolve) => {
    if (stop.aborted) return resolve("stop");
    const timer = setTimeout(() => resolve("interval"), ms);
    stop.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve("stop");
      },
      { once: true },
    );
  });
}

interface Telemetry {
  metrics: SyncMetrics;
  finish(succeeded: boolean): Promise<void>;
}

/**
 * Metrics for a watcher (served on METRICS_PORT) or for a one-shot run that
 * pushes to PUSHGATEWAY_URL; none otherwise. prom-client is loaded only then.
 */
async function startTelemetry(app: App, watch: boolean): Promise<Telemetry | null> {
  const { config, log } = app;
  const serve = watch && config.metricsPort > 0;
  const push = !watch && config.pushgatewayUrl !== undefined;
  if (!serve && !push) return null;
  const { SyncMetrics } = await import("../metrics/sync-metrics.ts");
  const logInstalled = await app.guards.postgres(() => changeLogInstalled(app.prisma));
  const store = new StateStore(app.prisma, config.elasticsearch.index);
  const metrics = new SyncMetrics(config.elasticsearch.index, async () => {
    try {
      return await measureBacklog(app.prisma, await store.load(), { tables: config.tables, changeLogInstalled: logInstalled });
    } catch {
      return { pending: {}, lagSeconds: null };
    }
  });
  app.guards.observe(metrics);
  if (serve) {
    const { serveMetrics } = await import("../metrics/http-endpoint.ts");
    const endpoint = await serveMetrics(metrics, {
      port: config.metricsPort,
      healthyWithinMs: HEALTHY_WITHIN_INTERVALS * config.watchIntervalS * 1000,
    });
    log.info("serving /metrics and /healthz", { port: endpoint.port });
    return { metrics, finish: () => endpoint.close() };
  }
  const { pushMetrics } = await import("../metrics/push.ts");
  return {
    metrics,
    async finish(succeeded) {
      await pushMetrics(metrics, config.pushgatewayUrl!, succeeded).catch((error: unknown) =>
        log.warn("could not push the metrics to the Pushgateway", { reason: describeError(error) }),
      );
    },
  };
}
