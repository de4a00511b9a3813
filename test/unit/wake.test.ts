import { describe, expect, it } from "vitest";
import { Wake } from "../../src/sync/wake.ts";

const never = new AbortController().signal;

describe("Wake", () => {
  it("a change notified during a cycle makes the next wait return at once", async () => {
    const wake = new Wake(0);
    wake.notify();
    expect(wake.changesPending()).toBe(true);
    expect(await wake.wait(60_000, never)).toBe("change");
    expect(wake.changesPending()).toBe(false);
  });

  it("a change the cycle's plan covered does not start another cycle", async () => {
    const wake = new Wake(0);
    wake.notify();
    wake.covered();
    expect(wake.changesPending()).toBe(false);
    expect(await wake.wait(20, never)).toBe("interval");
  });

  it("a change notified after the plan is pending again", async () => {
    const wake = new Wake(0);
    wake.covered();
    wake.notify();
    expect(wake.changesPending()).toBe(true);
    expect(await wake.wait(60_000, never)).toBe("change");
  });

  it("a stop ends the wait", async () => {
    const wake = new Wake(0);
    const stop = new AbortController();
    const waited = wake.wait(60_000, stop.signal);
    stop.abort();
    expect(await waited).toBe("stop");
  });
});
