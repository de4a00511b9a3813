import { describe, expect, it } from "vitest";
import { compareOrderedStreams, differingFields, type Difference } from "../../src/verify/compare.ts";

async function* stream(items: Array<[string, unknown]>) {
  for (const [id, document] of items) yield { id, document };
}

async function diff(expected: Array<[string, unknown]>, actual: Array<[string, unknown]>): Promise<Difference[]> {
  const out: Difference[] = [];
  for await (const d of compareOrderedStreams(stream(expected), stream(actual))) out.push(d);
  return out;
}

describe("comparing two id-ordered document streams", () => {
  it("finds missing, extra and different documents in one pass", async () => {
    const result = await diff(
      [
        ["a", { x: 1 }],
        ["b", { x: 1 }],
        ["d", { x: [1, 2], y: null }],
        ["f", {}],
      ],
      [
        ["b", { x: 1 }],
        ["c", {}],
        ["d", { x: [2, 1], y: null }],
        ["e", {}],
      ],
    );
    expect(result).toEqual([
      { kind: "missing", id: "a" },
      { kind: "extra", id: "c" },
      { kind: "different", id: "d", fields: ["x"] },
      { kind: "extra", id: "e" },
      { kind: "missing", id: "f" },
    ]);
  });

  it("reports nothing for equal streams, and treats null and absent as different", async () => {
    expect(await diff([["a", { n: null, l: [] }]], [["a", { n: null, l: [] }]])).toEqual([]);
    expect(differingFields({ n: null }, {})).toEqual(["n"]);
    expect(differingFields({ l: [] }, { l: [null] })).toEqual(["l"]);
  });
});
