import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { definitionHash } from "../src/load/index-admin.ts";
import { Catalogue } from "./support/catalogue.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import {
  concreteIndices,
  countDocuments,
  dropIndices,
  ELASTICSEARCH_URL,
  engineMode,
  engineRequest,
  mappingMeta,
  putMappingMeta,
  putSettings,
  uniqueIndexName,
} from "./support/engine.ts";
import { etlEnv, expectIndexEqualsCatalogue, logEntries, runCli, type EtlTarget } from "./support/etl.ts";

/**
 * What the ETL does the same way on every engine it runs against: CI runs
 * this file on the bridged engine (the Elasticsearch client) and on stock
 * OpenSearch (OpenSearch's client).
 */
describe("the ETL on this engine", () => {
  let db: TestDatabase;
  let target: EtlTarget;
  let catalogue: Catalogue;
  let mode: "bridged" | "opensearch";

  beforeAll(async () => {
    mode = await engineMode();
    db = await createTestDatabase({ films: 80, seed: 61 });
    catalogue = new Catalogue(db.url);
    target = { databaseUrl: db.url, index: uniqueIndexName() };
    const sync = await runCli([], etlEnv(target));
    expect(sync.code, sync.stderr).toBe(0);
  });

  afterAll(async () => {
    await catalogue?.close();
    await dropIndices(target.index);
    await db?.drop();
  });

  const status = async () => {
    const result = await runCli(["status", "--json"], etlEnv(target));
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as { engine: { distribution: string }; definition: { current: boolean }; warnings: string[] };
  };
  const warnings = (stderr: string) =>
    logEntries(stderr)
      .filter((e) => e.level === "warn")
      .map((e) => e.msg);
  const index = async () => (await concreteIndices(target.index))[0]!;
  const refreshInterval = async (name: string) => {
    const { body } = await engineRequest("GET", `/${name}/_settings/index.refresh_interval?flat_settings=true`);
    return (Object.values(body)[0] as { settings: Record<string, string> }).settings["index.refresh_interval"];
  };

  it("detects the distribution from GET / and records the definition the index was built from", async () => {
    const before = await status();
    expect(before.engine.distribution).toBe(mode === "bridged" ? "elasticsearch" : "opensearch");
    expect(before.definition.current).toBe(true);
    expect(before.warnings).toEqual([]);
    expect((await mappingMeta(target.index)).movies_etl_definition).toBe(definitionHash());
  });

  it("ru_en strips the possessive before stemming: john's finds john", async () => {
    const { body } = await engineRequest<{ tokens: Array<{ token: string }> }>("POST", `/${await index()}/_analyze`, {
      analyzer: "ru_en",
      text: "John's cats",
    });
    expect(body.tokens.map((t) => t.token)).toEqual(["john", "cat"]);
  });

  it("a full load keeps the keys an operator put in _meta, and puts the settings back", async () => {
    const name = await index();
    await putMappingMeta(name, { ...(await mappingMeta(name)), owner: "search-team" });
    await putSettings(name, { refresh_interval: "30s" });
    // An empty index and no state: the next run loads it in full (bulk-load settings on, then restored;
    // an index that already holds documents keeps its own settings, readers use it).
    const { body: hits } = await engineRequest("POST", `/${name}/_search`, { size: 1000, _source: false });
    const deletes = hits.hits.hits.map((hit: { _id: string }) => `{"delete":{"_id":${JSON.stringify(hit._id)}}}\n`).join("");
    await fetch(`${ELASTICSEARCH_URL}/${name}/_bulk?refresh=true`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: deletes,
    });
    expect(await countDocuments(name)).toBe(0);
    await catalogue.query("DELETE FROM content.etl_state");
    const full = await runCli([], etlEnv(target));
    expect(full.code, full.stderr).toBe(0);
    expect(full.stderr).toMatch(/"written":80/);
    expect(await mappingMeta(name)).toEqual({ owner: "search-team", movies_etl_definition: definitionHash() });
    expect(await refreshInterval(name)).toBe("30s");
    // Loaded with refresh off, and still searchable when the run ends, not 30 s later at the index's next refresh.
    expect(await countDocuments(name)).toBe(80);
    await putSettings(name, { refresh_interval: "1s" });
  });

  it("a saved-settings marker the engine refuses to restore is reported and dropped: it never wedges a run", async () => {
    const name = await index();
    const meta = await mappingMeta(name);
    await putMappingMeta(name, { ...meta, movies_etl_bulk_load: { refresh_interval: "not-a-time", number_of_replicas: "0" } });
    const refused = await runCli([], etlEnv(target));
    expect(refused.code, refused.stderr).toBe(0);
    expect(warnings(refused.stderr).join("\n")).toMatch(/refused to restore the settings saved before a full load/);
    expect(await mappingMeta(name), refused.stderr).toEqual(meta);
    const next = await runCli([], etlEnv(target));
    expect(next.code, next.stderr).toBe(0);
    expect(warnings(next.stderr)).toEqual([]);

    // A marker it accepts (a run killed during a full load) is restored, then dropped.
    await putMappingMeta(name, { ...meta, movies_etl_bulk_load: { refresh_interval: "2s", number_of_replicas: "0" } });
    const restored = await runCli([], etlEnv(target));
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stderr).toMatch(/restored the index settings an interrupted full load left/);
    expect(await refreshInterval(name)).toBe("2s");
    expect(await mappingMeta(name)).toEqual(meta);
  });

  it("an index built from another definition: status and every sync say so and name reindex; reindex clears it", async () => {
    const name = await index();
    const { movies_etl_definition: _, ...operatorKeys } = await mappingMeta(name);
    await putMappingMeta(name, operatorKeys); // as an index created before the hash was recorded
    const stale = await status();
    expect(stale.definition.current).toBe(false);
    expect(stale.warnings.join("\n")).toMatch(/built before the definition was recorded.*run `reindex`/);
    for (let run = 0; run < 2; run++) {
      const sync = await runCli([], etlEnv(target));
      expect(sync.code, sync.stderr).toBe(0);
      expect(warnings(sync.stderr).join("\n")).toMatch(/not from src\/load\/movies-index\.json.*run `reindex`/);
    }
    const reindex = await runCli(["reindex"], etlEnv(target));
    expect(reindex.code, reindex.stderr).toBe(0);
    const rebuilt = await status();
    expect(rebuilt.definition.current).toBe(true);
    expect(rebuilt.warnings).toEqual([]);
    await expectIndexEqualsCatalogue(target);
  });

  it("runs under Deno against this engine", async () => {
    await catalogue.query(
      "UPDATE content.film_work SET title = title || ' (Deno)', modified = now() WHERE id IN (SELECT id FROM content.film_work ORDER BY id LIMIT 3)",
    );
    const result = await runCli([], etlEnv(target), { runtime: "deno" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/"msg":"sync finished".*"written":3/);
    await expectIndexEqualsCatalogue(target);
  });
});
