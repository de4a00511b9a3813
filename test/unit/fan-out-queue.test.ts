import { describe, expect, it } from "vitest";
import { advanceFanOut, completeFanOut, enqueueFanOut, oldestFanOutSince } from "../../src/state/fan-out-queue.ts";

const G1 = "00000000-0000-0000-0000-0000000000a1";
const G2 = "00000000-0000-0000-0000-0000000000b2";
const P1 = "00000000-0000-0000-0000-0000000000c1";
const EARLY = "2026-11-29T10:00:00.000Z";
const LATE = "2026-11-29T11:00:00.000Z";

describe("the queue of large fan-outs", () => {
  it("a window with nothing deferred leaves the queue as it was", () => {
    const queue = enqueueFanOut([], { genreIds: [G1], personIds: [] }, EARLY);
    expect(enqueueFanOut(queue, { genreIds: [], personIds: [] }, LATE)).toEqual(queue);
  });

  it("a burst of renames joins the fan-out that has not started: one pass, dated by its oldest change", () => {
    const first = enqueueFanOut([], { genreIds: [G1], personIds: [] }, LATE);
    const both = enqueueFanOut(first, { genreIds: [G2, G1], personIds: [P1] }, EARLY);
    expect(both).toEqual([{ genreIds: [G1, G2].sort(), personIds: [P1], after: null, since: EARLY }]);
  });

  it("a rename during a fan-out under way queues a new one from the first film, and the one under way keeps its place", () => {
    const started = advanceFanOut(enqueueFanOut([], { genreIds: [G1], personIds: [] }, EARLY), "00000000-0000-0000-0000-000000000500");
    const queue = enqueueFanOut(started, { genreIds: [G1], personIds: [] }, LATE);
    expect(queue).toEqual([
      { genreIds: [G1], personIds: [], after: "00000000-0000-0000-0000-000000000500", since: EARLY },
      { genreIds: [G1], personIds: [], after: null, since: LATE },
    ]);
  });

  it("only the oldest fan-out advances and completes", () => {
    const queue = enqueueFanOut(
      advanceFanOut(enqueueFanOut([], { genreIds: [G1], personIds: [] }, EARLY), "00000000-0000-0000-0000-000000000001"),
      { genreIds: [], personIds: [P1] },
      LATE,
    );
    const advanced = advanceFanOut(queue, "00000000-0000-0000-0000-000000000009");
    expect(advanced.map((fanOut) => fanOut.after)).toEqual(["00000000-0000-0000-0000-000000000009", null]);
    expect(completeFanOut(advanced)).toEqual([{ genreIds: [], personIds: [P1], after: null, since: LATE }]);
    expect(completeFanOut([])).toEqual([]);
  });

  it("the lag counts from the oldest fan-out's changes", () => {
    expect(oldestFanOutSince([])).toBeNull();
    const queue = enqueueFanOut(
      advanceFanOut(enqueueFanOut([], { genreIds: [G1], personIds: [] }, LATE), "00000000-0000-0000-0000-000000000001"),
      { genreIds: [G2], personIds: [] },
      EARLY,
    );
    expect(oldestFanOutSince(queue)).toBe(Date.parse(EARLY));
  });
});
