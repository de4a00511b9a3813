import type { FanOut, FanOutEntities } from "./sync-state.ts";

/**
 * Adds the entities of a finished window to the fan-outs still to rewrite.
 * They join the newest fan-out if it has not started (one pass for a burst of
 * renames); otherwise they make a new one, so a fan-out already under way is
 * not restarted from the top.
 */
export function enqueueFanOut(queue: readonly FanOut[], entities: FanOutEntities, since: string): FanOut[] {
  if (entities.genreIds.length === 0 && entities.personIds.length === 0) return [...queue];
  const newest = queue.at(-1);
  if (newest && newest.after === null) {
    return [
      ...queue.slice(0, -1),
      {
        genreIds: union(newest.genreIds, entities.genreIds),
        personIds: union(newest.personIds, entities.personIds),
        after: null,
        since: newest.since < since ? newest.since : since,
      },
    ];
  }
  return [...queue, { genreIds: [...entities.genreIds], personIds: [...entities.personIds], after: null, since }];
}

/** The oldest fan-out has been written up to film `after`. */
export function advanceFanOut(queue: readonly FanOut[], after: string): FanOut[] {
  const [oldest, ...rest] = queue;
  if (!oldest) return [];
  return [{ ...oldest, after }, ...rest];
}

/** The oldest fan-out is written in full. */
export function completeFanOut(queue: readonly FanOut[]): FanOut[] {
  return queue.slice(1);
}

/** The changes the oldest fan-out stands for committed before this moment (ms), or null with none left. */
export function oldestFanOutSince(queue: readonly FanOut[]): number | null {
  if (queue.length === 0) return null;
  return Math.min(...queue.map((fanOut) => Date.parse(fanOut.since)));
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}
