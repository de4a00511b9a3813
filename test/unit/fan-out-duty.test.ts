import { describe, expect, it } from "vitest";
import { restAfterSlice } from "../../src/sync/fan-out-duty.ts";

const defaults = { fanOutDutyPct: 25, fanOutSliceMs: 100, watchIntervalS: 60 };

describe("the fan-out lane's rest", () => {
  it("keeps the lane to its share of the time", () => {
    expect(restAfterSlice(40, defaults)).toBe(120);
    expect(restAfterSlice(40, { ...defaults, fanOutDutyPct: 50 })).toBe(40);
  });

  it("is none at 100 %", () => {
    expect(restAfterSlice(5000, { ...defaults, fanOutDutyPct: 100 })).toBe(0);
  });

  it("after a slice stalled for 30 s, is no longer than after a full slice", () => {
    expect(restAfterSlice(30_000, defaults)).toBe(300);
  });

  it("is never longer than the poll interval", () => {
    expect(restAfterSlice(600_000, { fanOutDutyPct: 1, fanOutSliceMs: 600_000, watchIntervalS: 60 })).toBe(60_000);
  });
});
