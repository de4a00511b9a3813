import type { SourceTable } from "../config.ts";
import type { LogCursor } from "../extract/change-log.ts";
import type { RowCursor } from "../extract/row-cursor.ts";
import type { IndexIdentity } from "../load/index-admin.ts";

export type { IndexIdentity };

/** How far the index has caught up with each change source. */
export interface Cursors {
  tables: Partial<Record<SourceTable, RowCursor>>;
  /** Null when the change log is not installed. */
  log: LogCursor | null;
}

/**
 * A unit of work fixed before any film of it is written, so an interrupted run
 * finishes exactly this work before it starts new work.
 */
export interface SyncWindow {
  /** A full load pages through every film rather than the touched ones. */
  fullLoad: boolean;
  touched: { genreIds: string[]; personIds: string[]; filmIds: string[] };
  /** The cursors to save once every film of the window is written. */
  next: Cursors;
  /** More changes were left beyond `next`: run another window. */
  more: boolean;
  /**
   * Genres and persons whose films are too many to rewrite in this window (a
   * genre renamed in a large catalogue): recorded as a fan-out, together with
   * `next`, when the window finishes, and rewritten in slices between windows.
   */
  deferred?: FanOutEntities;
  /** When the window was planned (ISO): every change it covers committed before. */
  plannedAt?: string;
}

export interface FanOutEntities {
  genreIds: string[];
  personIds: string[];
}

/**
 * Every film of these genres and persons must be written again: a change of
 * theirs committed before `since` and the cursors have moved past it.
 */
export interface FanOut extends FanOutEntities {
  /** Last film written; films are rewritten in id order. */
  after: string | null;
  /** ISO time before which the changes it stands for committed (for the lag). */
  since: string;
}

export interface SyncState {
  /** Null before the first full load has finished. */
  cursors: Cursors | null;
  window: SyncWindow | null;
  /** Last film written in the current window. */
  filmAfter: string | null;
  /** The concrete index this state describes; null before a run recorded it. */
  index: IndexIdentity | null;
  /** Large fan-outs still to rewrite, oldest first. */
  fanOuts: FanOut[];
}
