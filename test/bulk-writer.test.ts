import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeBulk } from "../src/load/bulk-writer.ts";
import { createIndex } from "../src/load/index-admin.ts";
import type { Engine } from "../src/load/engine.ts";
import {
  ELASTICSEARCH_URL,
  countDocuments,
  dropIndices,
  engineRequest,
  indexExists,
  openEngine,
  uniqueIndexName,
} from "./support/engine.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";

/** The bulk writer against the real engine: per-item outcomes, never a throw for an item. */
describe("bulk writes", () => {
  let client: Engine;
  const alias = uniqueIndexName("bulk_test");
  beforeAll(async () => {
    client = await openEngine();
  });
  afterAll(async () => {
    await client?.close();
    await dropIndices(alias);
  });

  it("through an alias that is gone: every item fails as index_not_found and no index appears", async () => {
    const outcomes = await writeBulk(
      client,
      alias,
      [
        { kind: "index", id: "a", document: JSON.stringify({ id: "a", title: "x" }) },
        { kind: "delete", id: "b" },
      ],
      { maxBytes: 1 << 20, requireAlias: true },
    );
    expect(outcomes.map((o) => [o.ok, o.status, o.errorType])).toEqual([
      [false, 404, "index_not_found_exception"],
      [false, 404, "index_not_found_exception"],
    ]);
    expect(await indexExists(alias)).toBe(false);
  });

  it("a delete of a document that is not there is done; a document the mapping refuses is a terminal failure", async () => {
    const index = `${alias}_1`;
    await createIndex(client, index, { alias });
    const outcomes = await writeBulk(
      client,
      alias,
      [
        { kind: "delete", id: "never-written" },
        { kind: "index", id: "ok", document: JSON.stringify({ id: "ok", title: "fine" }) },
        { kind: "index", id: "bad", document: JSON.stringify({ id: "bad", no_such_field: 1 }) },
      ],
      { maxBytes: 1 << 20, requireAlias: true },
    );
    expect(outcomes.map((o) => [o.action.id, o.ok, o.transient])).toEqual([
      ["never-written", true, false],
      ["ok", true, false],
      ["bad", false, false],
    ]);
    expect(outcomes[2]!.errorType).toBe("strict_dynamic_mapping_exception");
  });

  it("splits a batch into requests no larger than maxBytes, and every item arrives", async () => {
    const index = `${alias}_2`;
    await createIndex(client, index);
    const actions = Array.from({ length: 40 }, (_, i) => ({
      kind: "index" as const,
      id: `d${i}`,
      document: JSON.stringify({ id: `d${i}`, description: "ж".repeat(1000) }),
    }));
    // About 2 KB per document: 8 KB requests hold at most 4 of them.
    const upstream = new URL(ELASTICSEARCH_URL);
    const proxy = new TcpProxy(upstream.hostname, Number(upstream.port || 9200));
    await proxy.start();
    const viaProxy = await openEngine(`http://127.0.0.1:${proxy.port}`);
    try {
      const outcomes = await writeBulk(viaProxy, index, actions, { maxBytes: 8 * 1024 });
      expect(outcomes.every((o) => o.ok)).toBe(true);
      expect(proxy.bulkRequests).toBeGreaterThanOrEqual(10);
    } finally {
      await viaProxy.close();
      await proxy.cut();
    }
    await engineRequest("POST", `/${index}/_refresh`);
    expect(await countDocuments(index)).toBe(40);
  });
});
