import type { Logger } from "../log.ts";
import type { SyncOutcome } from "./cycle.ts";

/** The one line every cycle ends with: what it wrote and how fast. */
export function logSummary(log: Logger, outcome: SyncOutcome): void {
  const seconds = outcome.durationMs / 1000;
  const docs = outcome.written + outcome.deleted;
  log.info(outcome.interrupted ? "sync stopped early; the next run resumes" : "sync finished", {
    written: outcome.written,
    deleted: outcome.deleted,
    windows: outcome.windows,
    fullLoad: outcome.fullLoad,
    ...(outcome.fanOutsLeft
      ? { fanOutsLeft: "changes of genres or persons with many films committed during the cycle: the next cycle rewrites their films" }
      : {}),
    durationS: Math.round(seconds * 100) / 100,
    docsPerS: seconds > 0 ? Math.round(docs / seconds) : 0,
  });
}
