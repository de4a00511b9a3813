import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/log.ts";
import { Progress } from "../../src/sync/progress.ts";

describe("progress lines", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("one line per interval with done, total, rate, percent and ETA; none in between", () => {
    vi.useFakeTimers();
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({ level: "info", format: "json", secrets: [], write: (line) => lines.push(JSON.parse(line)) });
    const progress = new Progress(log, "full load", 1000, 5_000);
    vi.advanceTimersByTime(1_000);
    progress.add(100);
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(4_000);
    progress.add(150);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: "full load", done: 250, total: 1000, docsPerS: 50, percent: 25, etaS: 15 });
    vi.advanceTimersByTime(1_000);
    progress.add(10);
    expect(lines).toHaveLength(1);
  });

  it("without a total: done and rate only", () => {
    vi.useFakeTimers();
    const progress = new Progress(createLogger({ level: "error", format: "json", secrets: [], write: () => {} }), "catching up", null);
    vi.advanceTimersByTime(2_000);
    progress.add(10);
    expect(progress.figures()).toEqual({ done: 10, docsPerS: 5 });
  });
});
