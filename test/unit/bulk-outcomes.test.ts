import { describe, expect, it } from "vitest";
import { chunkByBytes, encodeNdjson, outcomesOf, type IndexAction } from "../../src/load/bulk-writer.ts";

const index = (id: string, document: string): IndexAction => ({ kind: "index", id, document });
const remove = (id: string): IndexAction => ({ kind: "delete", id });

describe("bulk outcomes", () => {
  it("a delete of a document that is not there is done; a 404 that names a missing index is not", () => {
    const actions = [remove("gone-already"), remove("no-index")];
    const [gone, noIndex] = outcomesOf(actions, {
      items: [
        { delete: { status: 404 } },
        { delete: { status: 404, error: { type: "index_not_found_exception", reason: "no such index [movies]" } } },
      ],
    });
    expect(gone).toMatchObject({ ok: true, status: 404, transient: false });
    expect(noIndex).toMatchObject({ ok: false, status: 404, transient: false, errorType: "index_not_found_exception" });
    expect(noIndex!.reason).toBe("index_not_found_exception: no such index [movies]");
  });

  it("an item the answer does not mention (status 0) is sent again, never counted as written", () => {
    const actions = [index("a", "{}"), index("b", "{}")];
    const [a, b] = outcomesOf(actions, { items: [{ index: { status: 201 } }] });
    expect(a).toMatchObject({ ok: true, status: 201 });
    expect(b).toMatchObject({ ok: false, status: 0, transient: true, reason: "no result for this item" });
    expect(outcomesOf(actions, {}).every((o) => !o.ok && o.transient)).toBe(true);
  });

  it("429 and 503 are worth sending again; a mapping error or a version conflict is not", () => {
    const actions = ["busy", "unavailable", "bad", "overtaken"].map((id) => index(id, "{}"));
    const outcomes = outcomesOf(actions, {
      items: [
        { index: { status: 429, error: { type: "es_rejected_execution_exception" } } },
        { index: { status: 503, error: { type: "unavailable_shards_exception" } } },
        { index: { status: 400, error: { type: "mapper_parsing_exception", reason: "failed to parse [imdb_rating]" } } },
        { index: { status: 409, error: { type: "version_conflict_engine_exception" } } },
      ],
    });
    expect(outcomes.map((o) => [o.action.id, o.ok, o.transient])).toEqual([
      ["busy", false, true],
      ["unavailable", false, true],
      ["bad", false, false],
      ["overtaken", false, false],
    ]);
  });
});

describe("chunking by bytes", () => {
  const documents = Array.from({ length: 60 }, (_, i) =>
    index(`film-${i}`, JSON.stringify({ title: `«Фильм» ${i} 🎬`, description: "x".repeat((i * 37) % 500) })),
  );

  it("every request stays within maxBytes, carries every action once and in order, and says its exact size", () => {
    for (const version of [undefined, 1_764_400_000_000]) {
      const actions = [...documents.slice(0, 30), remove("gone"), ...documents.slice(30)];
      const chunks = [...chunkByBytes(actions, 2048, version)];
      expect(chunks.length).toBeGreaterThan(5);
      expect(chunks.flatMap((c) => c.actions)).toEqual(actions);
      for (const chunk of chunks) {
        const body = encodeNdjson(chunk);
        expect(body.length).toBe(chunk.bytes);
        expect(body.length).toBeLessThanOrEqual(2048);
        const lines = body.toString("utf8").trimEnd().split("\n");
        const header = JSON.parse(lines[0]!) as Record<string, { _id: string; version?: number; version_type?: string }>;
        const first = Object.values(header)[0]!;
        expect(first._id).toBe(chunk.actions[0]!.id);
        expect(first.version).toBe(version);
        expect(first.version_type).toBe(version === undefined ? undefined : "external_gte");
      }
    }
  });

  it("an action larger than maxBytes travels alone rather than being dropped", () => {
    const big = index("big", JSON.stringify({ description: "y".repeat(5000) }));
    const chunks = [...chunkByBytes([documents[0]!, big, documents[1]!], 2048, undefined)];
    expect(chunks.map((c) => c.actions.map((a) => a.id))).toEqual([["film-0"], ["big"], ["film-1"]]);
    expect(encodeNdjson(chunks[1]!).length).toBeGreaterThan(5000);
  });
});
