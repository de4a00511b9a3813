import type { Config } from "../config.ts";

/**
 * How long the fan-out lane rests after a slice of `sliceMs`. A slice slowed
 * by a stall (retries while the engine was away, a frozen process) would
 * otherwise buy a rest of three times the stall, with the lock held: a rest
 * is never longer than the one after a slice of the full ETL_FANOUT_SLICE_MS,
 * nor than the poll interval.
 */
export function restAfterSlice(sliceMs: number, config: Pick<Config, "fanOutDutyPct" | "fanOutSliceMs" | "watchIntervalS">): number {
  const share = (100 - config.fanOutDutyPct) / config.fanOutDutyPct;
  return Math.min(sliceMs * share, config.fanOutSliceMs * share, config.watchIntervalS * 1000);
}
