import { describe, expect, it } from "vitest";
import { BodyMemory, type IndexAction, writeBulk } from "../../src/load/bulk-writer.ts";
import { Engine, EngineConnectionError, type EngineRequest } from "../../src/load/engine.ts";

const index = (id: string, document: string): IndexAction => ({ kind: "index", id, document });

/** An engine that records each bulk body (the Buffer it was given, and its text at that moment) and answers as told. */
function recordingEngine(answers: Array<"ok" | "fail">) {
  const sent: Array<{ body: Buffer; text: string }> = [];
  const engine = new Engine(
    { distribution: "elasticsearch", version: "8.19.0", serverless: false },
    {
      async request<T>(request: EngineRequest) {
        const body = request.ndjson!;
        sent.push({ body, text: body.toString("utf8") });
        const lines = body.toString("utf8").trim().split("\n").length;
        if (answers.shift() === "fail") throw new EngineConnectionError("socket hang up");
        return { status: 200, body: { items: Array.from({ length: lines / 2 }, () => ({ index: { status: 201 } })) } as T };
      },
      async close() {},
    },
  );
  return { engine, sent };
}

const batch = (tag: string) => Array.from({ length: 20 }, (_, i) => index(`${tag}-${i}`, JSON.stringify({ title: `«${tag}» ${i}`, n: i })));
const ndjson = (actions: IndexAction[]) =>
  actions.map((a) => `{"index":{"_id":${JSON.stringify(a.id)}}}\n${a.kind === "index" ? a.document : ""}\n`).join("");

describe("bulk body memory", () => {
  it("a body whose request succeeded is reused for the next body, which is sent exactly", async () => {
    const { engine, sent } = recordingEngine(["ok", "ok"]);
    await writeBulk(engine, "movies", batch("first"), { maxBytes: 1 << 20 });
    await writeBulk(engine, "movies", batch("second"), { maxBytes: 1 << 20 });
    expect(sent.map((s) => s.text)).toEqual([ndjson(batch("first")), ndjson(batch("second"))]);
    expect(sent[1]!.body.buffer).toBe(sent[0]!.body.buffer);
  });

  it("a body whose request failed is never written again (a socket may still be sending it)", async () => {
    const { engine, sent } = recordingEngine(["ok", "fail", "ok", "ok"]);
    await writeBulk(engine, "movies", batch("a"), { maxBytes: 1 << 20 });
    await expect(writeBulk(engine, "movies", batch("b"), { maxBytes: 1 << 20 })).rejects.toThrow("socket hang up");
    await writeBulk(engine, "movies", batch("c"), { maxBytes: 1 << 20 });
    await writeBulk(engine, "movies", batch("d"), { maxBytes: 1 << 20 });
    const failed = sent[1]!;
    expect(failed.body.toString("utf8")).toBe(failed.text);
    expect(failed.text).toBe(ndjson(batch("b")));
    expect(sent[2]!.body.buffer).not.toBe(failed.body.buffer);
    expect(sent[3]!.body.buffer).not.toBe(failed.body.buffer);
  });

  it("keeps at most maxKept bodies of at most maxBytes, and hands out the smallest that fits", () => {
    const memory = new BodyMemory(2, 4 << 20);
    const small = memory.take(10);
    const large = memory.take((2 << 20) + 1);
    const huge = memory.take(5 << 20);
    expect([small.length, large.length, huge.length]).toEqual([1 << 20, 3 << 20, 5 << 20]);
    memory.giveBack(huge);
    memory.giveBack(large);
    memory.giveBack(small);
    memory.giveBack(memory.take(1 << 20));
    expect(memory.kept).toBe(2);
    expect(memory.take(100)).toBe(small);
    expect(memory.take(100)).toBe(large);
    expect(memory.take(100)).not.toBe(huge);
  });
});
