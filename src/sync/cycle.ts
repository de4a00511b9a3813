import type { Config } from "../config.ts";
import type { PrismaClient } from "../db/prisma.ts";
import { describeError, IndexGoneError, RejectedDocumentsError } from "../errors.ts";
import { changeLogInstalled, compareLogCursors, pruneChangeLog } from "../extract/change-log.ts";
import {
  countFilms,
  filmBatchLimits,
  readFilmBatch,
  type FilmBatchLimits,
  type FilmBatchRow,
  type FilmSelection,
} from "../extract/film-batch.ts";
import type { Logger } from "../log.ts";
import type { Guards } from "../resilience/policies.ts";
import { StateStore } from "../state/state-store.ts";
import type { FanOut, SyncWindow } from "../state/sync-state.ts";
import { restAfterSlice } from "./fan-out-duty.ts";
import { planWindow, windowIsEmpty } from "./plan-window.ts";
import { beginBulkLoad, endBulkLoad } from "../load/bulk-load-settings.ts";
import { isIndexNotFound, type Engine } from "../load/engine.ts";
import { checkDefinition, countDocuments, definitionWarning, identifyIndex, refreshIndex } from "../load/index-admin.ts";
import { OrderedWrites } from "./ordered-writes.ts";
import { Progress } from "./progress.ts";
import { removeDocumentsNotInCatalogue } from "./remove-extras.ts";
import { writeFilmBatch, type BatchResult, type WriteTarget } from "../load/write-batch.ts";

export interface SyncDependencies {
  prisma: PrismaClient;
  engine: Engine;
  guards: Guards;
  store: StateStore;
  log: Logger;
  config: Config;
  /** The index or alias documents are written to. */
  index: string;
  /** Throws unless this run still holds its lock; checked before every write to the index. */
  assertLockHeld(): Promise<void>;
  /** The lock's fencing token, written as every document's external version; absent when no lock is held. */
  writeVersion?: number;
  /** Told about every acknowledged batch (metrics, health). */
  onBatchWritten?(written: number, deleted: number): void;
}

export interface SyncControl {
  /** Polled before every batch: true once a stop was asked for. */
  stopRequested(): boolean;
  /** Aborted when a stop is asked for, for waits that cannot poll. */
  stopSignal?: AbortSignal;
  /**
   * A watcher's change notifications: a fan-out slice yields as soon as a
   * change is committed, and the fan-out lane rests for its duty cycle.
   */
  changes?: ChangeNotifications;
}

export interface ChangeNotifications {
  /** A change was committed since the cycle last planned. */
  changesPending(): boolean;
  /** Called as the cycle plans: the plan reads every change notified so far, or finds it held back. */
  covered(): void;
  /** Waits up to `ms`, less if a change is notified or a stop asked for. */
  rest(ms: number, stop: AbortSignal): Promise<void>;
}

export interface SyncOutcome {
  written: number;
  deleted: number;
  windows: number;
  fullLoad: boolean;
  /** Stopped on request before the work was done; the state says where. */
  interrupted: boolean;
  /** Fan-outs planned after the cycle caught up were left for the next cycle. */
  fanOutsLeft: boolean;
  /** The last plan found committed changes waiting behind a transaction still open: look again soon. */
  changesHeldBack: boolean;
  durationMs: number;
}

/**
 * One sync cycle: finish the window an earlier run left, then plan and work
 * through windows until no change is left, and through the large fan-outs in
 * slices between them. A window's cursors move only after every film of it is
 * acknowledged by the index (with its fan-out recorded); the film and fan-out
 * cursors move after each acknowledged batch.
 */
export async function runSyncCycle(deps: SyncDependencies, control: SyncControl): Promise<SyncOutcome> {
  const { prisma, guards, store, log, config } = deps;
  const started = Date.now();
  const outcome: SyncOutcome = {
    written: 0,
    deleted: 0,
    windows: 0,
    fullLoad: false,
    interrupted: false,
    fanOutsLeft: false,
    changesHeldBack: false,
    durationMs: 0,
  };

  const logInstalled = await guards.postgres(() => changeLogInstalled(prisma));
  if (!logInstalled) {
    log.warn("change capture is not installed: deletions and join-table changes will not reach the index", {
      fix: "npm run db:migrate (migration change_capture), or run `verify` and `reindex` periodically",
    });
  }
  const writesThroughAlias = await checkStateBelongsToIndex(deps);
  const definition = await onIndex(deps, (signal) => checkDefinition(deps.engine, deps.index, signal));
  if (!definition.current) log.warn(definitionWarning(deps.index, definition), { index: deps.index, fix: "reindex" });
  // A killed full load could not put back the settings it changed; its marker says what they were.
  const restored = await onIndex(deps, (signal) => endBulkLoad(deps.engine, deps.index, signal));
  if (restored.kind === "applied") log.info("restored the index settings an interrupted full load left", { index: deps.index });
  if (restored.kind === "refused") logRefusedRestore(log, deps.index, restored.reason);

  const planOptions = { ...config, changeLogInstalled: logInstalled };
  const fanOutProgress = new Progress(log, "fan-out", null);
  /**
   * When this cycle first caught up with every change source. The fan-outs
   * planned by then are its work; later ones are left for the next cycle, so
   * a genre renamed again and again cannot keep one cycle (and the lock) forever.
   */
  let caughtUpAt: number | null = null;
  /**
   * Under a watcher with change capture, where a fresh change should be
   * searchable within a second or two, the fan-out lane writes for
   * `fanOutDutyPct` of the time and rests until this moment (on the
   * monotonic clock, which a clock set back does not move). A one-shot run
   * (the CronJob) writes its fan-outs without rest, to finish.
   */
  let laneRestsUntil = 0;
  for (;;) {
    if (control.stopRequested()) return finish(true);
    const state = await guards.postgres(() => store.load());
    if (state.window) {
      // A resumed window was planned by an earlier run: what changed since is still ahead, so plan again after it.
      log.info("resuming the window an earlier run left unfinished", { fullLoad: state.window.fullLoad, after: state.filmAfter });
      if (!(await runWindow(state.window, state.filmAfter))) return finish(true);
      continue;
    }
    control.changes?.covered();
    const { heldBack, ...planned } = await guards.postgres(() => planWindow(prisma, state.cursors, planOptions, state.fanOuts));
    outcome.changesHeldBack = heldBack === true;
    if (windowIsEmpty(planned)) {
      // Written even when nothing moved: the row's age is how pruning tells a live index from an abandoned one.
      await guards.postgres(() => store.finishWindow(planned));
    } else {
      await guards.postgres(() => store.beginWindow(planned));
      if (!(await runWindow(planned, null))) return finish(true);
    }
    if (planned.more) continue;
    caughtUpAt ??= Date.parse(planned.plannedAt ?? new Date().toISOString());

    // Small changes first: a fan-out moves on by one slice, then the cycle looks for changes again.
    const fanOut = planned.deferred || planned.fullLoad ? (await guards.postgres(() => store.load())).fanOuts[0] : state.fanOuts[0];
    if (!fanOut) break;
    if (Date.parse(fanOut.since) > caughtUpAt) {
      outcome.fanOutsLeft = true;
      break;
    }
    const restMs = laneRestsUntil - performance.now();
    if (restMs > 0 && control.changes) {
      // A change committed meanwhile ends the rest, and the plan that follows takes it first.
      await control.changes.rest(restMs, control.stopSignal ?? new AbortController().signal);
      continue;
    }
    const sliceStarted = performance.now();
    if (!(await writeFanOutSlice(deps, fanOut, writesThroughAlias, control, outcome, fanOutProgress))) return finish(true);
    laneRestsUntil = performance.now() + restAfterSlice(performance.now() - sliceStarted, config);
  }
  if (logInstalled) await pruneConsumedChanges(deps);
  return finish(false);

  async function runWindow(window: SyncWindow, filmAfter: string | null): Promise<boolean> {
    outcome.windows++;
    outcome.fullLoad ||= window.fullLoad;
    if (!(await processWindow(deps, window, filmAfter, writesThroughAlias, control, outcome))) return false;
    await guards.postgres(() => store.finishWindow(window));
    return true;
  }

  function finish(interrupted: boolean): SyncOutcome {
    return { ...outcome, interrupted, durationMs: Date.now() - started };
  }
}

/**
 * Deletes the change-log entries every consumer has read. A consumer (an
 * index's state) idle for longer than ETL_CONSUMER_RETENTION_H no longer holds
 * that back; the pruned position is recorded, and should it come back it loads
 * in full (see `checkStateBelongsToIndex`).
 */
async function pruneConsumedChanges(deps: SyncDependencies): Promise<void> {
  const { prisma, guards, log, config } = deps;
  const { position, abandoned } = await guards.postgres(() => StateStore.oldestLogPosition(prisma, config.consumerRetentionH * 3_600_000));
  if (!position) return;
  if (abandoned.length > 0) {
    log.warn(
      "indices idle for longer than ETL_CONSUMER_RETENTION_H no longer hold the change log back; each loads in full should it sync again",
      {
        idle: abandoned,
      },
    );
  }
  await guards.postgres(() => StateStore.recordPruned(prisma, position));
  await guards.postgres(() => pruneChangeLog(prisma, position));
}

/**
 * The state must describe the index it is about to extend. An index that was
 * deleted and recreated (or an alias pointed elsewhere) is empty or foreign:
 * continuing from the saved cursors would leave it holding only new changes.
 * Returns whether `deps.index` is an alias (writes then require it to stay one).
 */
async function checkStateBelongsToIndex(deps: SyncDependencies): Promise<boolean> {
  const { guards, store, log } = deps;
  const found = await guards.elasticsearch((signal) => identifyIndex(deps.engine, deps.index, signal));
  if (!found) throw new IndexGoneError(deps.index, "no such index or alias");
  const state = await guards.postgres(() => store.load());
  const pruned = state.cursors?.log ? await guards.postgres(() => StateStore.prunedUpTo(deps.prisma)) : null;
  if (state.index !== null && state.index.uuid !== found.uuid) {
    log.warn(`${deps.index} is not the index the saved state belongs to (deleted or replaced since): loading it in full`, {
      saved: state.index,
      found,
    });
    await guards.postgres(() => store.startOver(found));
  } else if (state.cursors?.log && pruned && compareLogCursors(state.cursors.log, pruned) < 0) {
    log.warn(`${deps.index} was idle for longer than ETL_CONSUMER_RETENTION_H and the change log was pruned past it: loading it in full`, {
      cursor: state.cursors.log,
      pruned,
    });
    await guards.postgres(() => store.startOver(found));
  } else if (state.index === null) {
    await guards.postgres(() => store.recordIndex(found));
  }
  return found.name !== deps.index;
}

/**
 * Writes every film of the window from `filmAfter` on; false if stopped. A full
 * load runs with refresh off and no replicas, restored after (or, if this run
 * is killed, at the start of the next).
 */
async function processWindow(
  deps: SyncDependencies,
  window: SyncWindow,
  filmAfter: string | null,
  requireAlias: boolean,
  control: SyncControl,
  outcome: SyncOutcome,
): Promise<boolean> {
  const { guards, log } = deps;
  const target = writeTargetOf(deps, requireAlias);
  if (!window.fullLoad) return writeWindow(deps, window, filmAfter, target, control, outcome);
  const load = async () => {
    if (!(await writeWindow(deps, window, filmAfter, target, control, outcome))) return false;
    const removed = await removeDocumentsNotInCatalogue({ prisma: deps.prisma, guard: guards.postgres }, target, deps.config.batchSize);
    if (removed > 0) log.info("removed documents of films the catalogue no longer has", { index: deps.index, removed });
    outcome.deleted += removed;
    return true;
  };
  // Refresh off and no replicas only for an index nobody reads yet: a reload of
  // a live index (after a TRUNCATE, a pruned log) keeps serving fresh results from every copy.
  const empty = (await onIndex(deps, (signal) => countDocuments(deps.engine, deps.index, signal))) === 0;
  return empty ? withBulkLoadSettings(deps, load) : load();
}

/**
 * Runs `work` (a full load) with refresh off and no replicas, and puts the
 * index's own settings back after it, whatever happens; a run killed meanwhile
 * leaves a marker the next cycle restores from.
 */
async function withBulkLoadSettings<T>(deps: SyncDependencies, work: () => Promise<T>): Promise<T> {
  const { log } = deps;
  await deps.assertLockHeld();
  const begun = await onIndex(deps, (signal) => beginBulkLoad(deps.engine, deps.index, signal));
  if (begun.kind === "refused") {
    log.warn("the engine refused the bulk-load settings (refresh off, no replicas); loading with the index's own", {
      index: deps.index,
      reason: begun.reason,
    });
  }
  let result: T;
  try {
    result = await work();
  } finally {
    await onIndex(deps, (signal) => endBulkLoad(deps.engine, deps.index, signal))
      .then((restored) => restored.kind === "refused" && logRefusedRestore(log, deps.index, restored.reason))
      .catch((error: unknown) => {
        // A vanished index has no settings to restore; the write that met it says so.
        if (!(error instanceof IndexGoneError)) {
          log.warn("could not restore the index settings after the full load; the next run will", { reason: describeError(error) });
        }
      });
  }
  // Loaded with refresh off, the documents are searchable only after a refresh: make that happen
  // before the run ends (a search right after the run found none), not at the index's next tick.
  await onIndex(deps, (signal) => refreshIndex(deps.engine, deps.index, signal));
  return result;
}

/** A call on the index under the engine's policy; an index that vanished meanwhile becomes IndexGoneError. */
async function onIndex<T>(deps: SyncDependencies, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  try {
    return await deps.guards.elasticsearch(call);
  } catch (error) {
    if (isIndexNotFound(error)) throw new IndexGoneError(deps.index, describeError(error));
    throw error;
  }
}

function logRefusedRestore(log: Logger, index: string, reason: string): void {
  log.warn(
    "the engine refused to restore the settings saved before a full load; dropped them, check the index's refresh_interval and number_of_replicas",
    {
      index,
      reason,
    },
  );
}

function writeTargetOf(deps: SyncDependencies, requireAlias: boolean): WriteTarget {
  return {
    engine: deps.engine,
    index: deps.index,
    maxBytes: deps.config.bulkMaxBytes,
    requireAlias,
    guard: deps.guards.elasticsearch,
    beforeWrite: deps.assertLockHeld,
    version: deps.writeVersion,
  };
}

const FAN_OUT_BATCH_FILMS = 100;

/** Films to write, from where an earlier run stopped, and where to record how far it got. */
interface FilmRun {
  selection: FilmSelection;
  limits: FilmBatchLimits;
  after: string | null;
  saveCursor(after: string): Promise<void>;
  progress: Progress;
  /**
   * When given, no batch is read after this moment (`performance.now()`), nor
   * after a change was committed: the rest waits for the next slice.
   */
  deadline?: number;
}

async function writeWindow(
  deps: SyncDependencies,
  window: SyncWindow,
  filmAfter: string | null,
  target: WriteTarget,
  control: SyncControl,
  outcome: SyncOutcome,
): Promise<boolean> {
  const { prisma, guards, store, log } = deps;
  const total = window.fullLoad ? await guards.postgres(() => countFilms(prisma)) : null;
  const run: FilmRun = {
    selection: window.fullLoad ? { kind: "all" } : { kind: "touched", ...window.touched },
    limits: filmBatchLimits(deps.config),
    after: filmAfter,
    saveCursor: (after) => store.saveFilmCursor(after),
    progress: new Progress(log, window.fullLoad ? "full load" : "catching up", total),
  };
  return (await writeFilms(deps, run, target, control, outcome)) === "done";
}

/**
 * Writes the next slice of the oldest fan-out: films of its genres and
 * persons, for about `fanOutSliceMs`; records it done once its last film is
 * written. False if stopped.
 */
async function writeFanOutSlice(
  deps: SyncDependencies,
  fanOut: FanOut,
  requireAlias: boolean,
  control: SyncControl,
  outcome: SyncOutcome,
  progress: Progress,
): Promise<boolean> {
  const { guards, store, log, config } = deps;
  if (fanOut.after === null) {
    log.info("rewriting the films of changed genres and persons with many films, between smaller changes", {
      genres: fanOut.genreIds.length,
      persons: fanOut.personIds.length,
    });
  }
  const run: FilmRun = {
    selection: { kind: "touched", genreIds: fanOut.genreIds, personIds: fanOut.personIds, filmIds: [] },
    // Small batches: a slice ends only after a whole batch is read and written.
    limits: { ...filmBatchLimits(config), films: Math.min(config.batchSize, FAN_OUT_BATCH_FILMS) },
    after: fanOut.after,
    saveCursor: (after) => store.saveFanOutCursor(after),
    progress,
    deadline: performance.now() + config.fanOutSliceMs,
  };
  const ended = await writeFilms(deps, run, writeTargetOf(deps, requireAlias), control, outcome);
  if (ended === "stopped") return false;
  if (ended === "done") await guards.postgres(() => store.finishFanOut());
  return true;
}

async function writeFilms(
  deps: SyncDependencies,
  run: FilmRun,
  target: WriteTarget,
  control: SyncControl,
  outcome: SyncOutcome,
): Promise<"done" | "stopped" | "paused"> {
  const { prisma, guards, config } = deps;

  // While the index digests up to `bulkConcurrency` batches, Postgres already
  // prepares the next; the cursor only moves past acknowledged batches.
  const read = (after: string | null) => settleLater(guards.postgres(() => readFilmBatch(prisma, run.selection, after, run.limits)));
  const writes = new OrderedWrites<FilmBatchRow[], BatchResult>(config.bulkConcurrency, async (rows, result) => {
    outcome.written += result.written;
    outcome.deleted += result.deleted;
    run.progress.add(result.written + result.deleted);
    if (result.failed.length > 0) {
      // Keep the cursor before the first film that did not reach the index.
      const firstFailed = result.failed[0]!.id;
      const safe = rows.filter((row) => row.id < firstFailed).pop()?.id;
      if (safe) await guards.postgres(() => run.saveCursor(safe));
      throw new RejectedDocumentsError(result.failed);
    }
    await guards.postgres(() => run.saveCursor(rows[rows.length - 1]!.id));
    deps.onBatchWritten?.(result.written, result.deleted);
  });

  let next = read(run.after);
  for (;;) {
    if (control.stopRequested()) {
      await writes.drain();
      return "stopped";
    }
    const { rows, more } = await next();
    if (rows.length === 0) break;
    const pause = more && run.deadline !== undefined && (performance.now() >= run.deadline || control.changes?.changesPending() === true);
    next = more && !pause ? read(rows[rows.length - 1]!.id) : async () => ({ rows: [], more: false });
    await writes.push(rows, writeFilmBatch(rows, target));
    if (pause) {
      await writes.drain();
      return "paused";
    }
    if (!more) break;
  }
  await writes.drain();
  return "done";
}

/** Starts a promise now, delivers its result (or error) when asked, never as an unhandled rejection. */
function settleLater<T>(promise: Promise<T>): () => Promise<T> {
  promise.catch(() => {});
  return () => promise;
}
