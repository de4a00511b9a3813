import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../src/errors.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { dropIndices, engineClient, uniqueIndexName } from "./support/engine.ts";
import { etlEnv, expectIndexEqualsCatalogue, runCli, type EtlTarget } from "./support/etl.ts";

describe("full sync and verify", () => {
  let db: TestDatabase;
  let target: EtlTarget;

  beforeAll(async () => {
    db = await createTestDatabase({ films: 500, seed: 3 });
    target = { databaseUrl: db.url, index: uniqueIndexName() };
  });

  afterAll(async () => {
    await dropIndices(target.index);
    await db?.drop();
  });

  it("a full sync equals the catalogue document by document, and verify agrees", async () => {
    const sync = await runCli([], etlEnv(target, { ETL_BATCH_SIZE: "70" }));
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stderr).toMatch(/"msg":"sync finished".*"written":500/);
    const documents = await expectIndexEqualsCatalogue(target);
    expect(documents.size).toBe(500);

    const verify = await runCli(["verify"], etlEnv(target));
    expect(verify.code, verify.stderr).toBe(ExitCode.ok);
    expect(verify.stderr).toMatch(/"checked":500,"missing":0,"extra":0,"different":0/);

    const again = await runCli([], etlEnv(target));
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/"written":0,"deleted":0/);
  });

  it("verify lists what is missing, extra or different, with ids, and exits non-zero", async () => {
    const client = engineClient();
    const ids = [...(await expectIndexEqualsCatalogue(target)).keys()].sort();
    const [missing, different] = [ids[10]!, ids[20]!];
    const extra = "00000000-0000-4000-8000-000000000000";
    await client.delete({ index: target.index, id: missing, refresh: true });
    await client.update({ index: target.index, id: different, doc: { title: "tampered", genres: [] }, refresh: true });
    await client.index({
      index: target.index,
      id: extra,
      refresh: true,
      document: { id: extra, title: "not in the catalogue", imdb_rating: null, description: null, genres: [] },
    });
    await client.close();

    const verify = await runCli(["verify"], etlEnv(target));
    expect(verify.code).toBe(ExitCode.differs);
    expect(verify.stdout).toContain(`missing    ${missing}`);
    expect(verify.stdout).toContain(`extra      ${extra}`);
    expect(verify.stdout).toContain(`different  ${different}  genres,title`);
    expect(verify.stderr).toMatch(/"missing":1,"extra":1,"different":1/);
  });
});
