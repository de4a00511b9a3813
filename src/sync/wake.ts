/**
 * What a watcher waits for between cycles: a change notification (gathered
 * for `debounceMs`, so a burst becomes one cycle), the poll interval, or a
 * stop. A notification that arrives while a cycle runs is kept, and the next
 * wait returns at once, unless a plan of that cycle covered it. Inside a
 * cycle it tells a fan-out when to yield, and ends the fan-out lane's rest.
 */
export class Wake {
  private pending = false;
  private wakeUp: (() => void) | null = null;
  private readonly debounceMs: number;

  constructor(debounceMs: number) {
    this.debounceMs = debounceMs;
  }

  /** A change was committed. */
  notify(): void {
    this.pending = true;
    this.wakeUp?.();
  }

  /** A change was committed since the last wait or `covered`. */
  changesPending(): boolean {
    return this.pending;
  }

  /** A cycle is about to read the changes: what was notified so far is covered by that read. */
  covered(): void {
    this.pending = false;
  }

  async wait(intervalMs: number, stop: AbortSignal): Promise<"change" | "interval" | "stop"> {
    const reason = await this.until(intervalMs, stop);
    if (reason === "change" && this.debounceMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.debounceMs));
    }
    if (reason !== "stop") this.pending = false;
    return stop.aborted ? "stop" : reason;
  }

  /** Waits up to `ms` inside a cycle: returns at once when a change is notified (without debounce) or a stop is asked for. */
  async rest(ms: number, stop: AbortSignal): Promise<void> {
    await this.until(ms, stop);
  }

  private until(ms: number, stop: AbortSignal): Promise<"change" | "interval" | "stop"> {
    return new Promise((resolve) => {
      if (stop.aborted) return resolve("stop");
      if (this.pending) return resolve("change");
      const timer = setTimeout(() => finish("interval"), ms);
      const onStop = () => finish("stop");
      const finish = (why: "change" | "interval" | "stop") => {
        clearTimeout(timer);
        stop.removeEventListener("abort", onStop);
        this.wakeUp = null;
        resolve(why);
      };
      this.wakeUp = () => finish("change");
      stop.addEventListener("abort", onStop, { once: true });
    });
  }
}
