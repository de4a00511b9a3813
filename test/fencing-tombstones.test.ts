import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Catalogue } from "./support/catalogue.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { concreteIndices, dropIndices, engineRequest, uniqueIndexName } from "./support/engine.ts";
import { etlEnv, runCli, type EtlTarget } from "./support/etl.ts";

/**
 * The external versions that fence a run which lost its lock rest on the
 * engine remembering a deleted document's version. Elasticsearch and
 * OpenSearch forget it after `index.gc_deletes` (60 s by default): a write
 * from the earlier run arriving later (a process frozen between its lock check
 * and its request, a request held up in the network) would bring the deleted
 * film back, for good.
 */
describe("fencing outlives the engine's default memory of deletes", () => {
  let db: TestDatabase;
  let target: EtlTarget;

  beforeAll(async () => {
    db = await createTestDatabase({ films: 20, seed: 71 });
    target = { databaseUrl: db.url, index: uniqueIndexName() };
  });

  afterAll(async () => {
    await dropIndices(target.index);
    await db?.drop();
  });

  it("a write from an earlier run, arriving more than a minute after a later run deleted the film, is refused", {
    timeout: 180_000,
  }, async () => {
    expect((await runCli([], etlEnv(target))).code).toBe(0);
    const [index] = await concreteIndices(target.index);
    const catalogue = new Catalogue(db.url);
    const [film] = await catalogue.query<{ id: string }>("SELECT id::text AS id FROM content.film_work ORDER BY id LIMIT 1");
    const earlier = await engineRequest<{ _version: number; _source: Record<string, unknown> }>("GET", `/${index}/_doc/${film!.id}`);

    await catalogue.query("DELETE FROM content.film_work WHERE id = $1", [film!.id]);
    await catalogue.close();
    expect((await runCli([], etlEnv(target))).code).toBe(0);
    expect((await engineRequest("GET", `/${index}/_doc/${film!.id}`, undefined, { allow: [404] })).status).toBe(404);

    // Past the engine's default gc_deletes, with the refresh and flush that prune its memory of deletes.
    await new Promise((resolve) => setTimeout(resolve, 65_000));
    await engineRequest("POST", `/${index}/_refresh`);
    await engineRequest("POST", `/${index}/_flush`);

    const zombie = await engineRequest(
      "PUT",
      `/${index}/_doc/${film!.id}?version=${earlier.body._version}&version_type=external_gte`,
      earlier.body._source,
      { allow: [409] },
    );
    expect(zombie.status).toBe(409);
    expect((await engineRequest("GET", `/${index}/_doc/${film!.id}`, undefined, { allow: [404] })).status).toBe(404);
  });
});
