import type { Logger } from "../log.ts";

/** Periodic progress lines for long runs: done/total, docs/s, ETA. */
export class Progress {
  private done = 0;
  private readonly started = Date.now();
  private lastReport = Date.now();

  private readonly log: Logger;
  private readonly label: string;
  private readonly total: number | null;
  private readonly everyMs: number;

  constructor(log: Logger, label: string, total: number | null, everyMs = 5_000) {
    this.log = log;
    this.label = label;
    this.total = total;
    this.everyMs = everyMs;
  }

  add(count: number): void {
    this.done += count;
    const now = Date.now();
    if (now - this.lastReport < this.everyMs) return;
    this.lastReport = now;
    this.log.info(this.label, this.figures(now));
  }

  figures(now = Date.now()): Record<string, unknown> {
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = this.done / seconds;
    const fields: Record<string, unknown> = { done: this.done, docsPerS: Math.round(rate) };
    if (this.total !== null) {
      fields.total = this.total;
      fields.percent = this.total > 0 ? Math.min(100, Math.round((this.done / this.total) * 1000) / 10) : 100;
      const remaining = Math.max(this.total - this.done, 0);
      fields.etaS = rate > 0 ? Math.round(remaining / rate) : null;
    }
    return fields;
  }
}
