import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../src/errors.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import {
  deleteDocument,
  dropIndices,
  engineRequest,
  indexDocument,
  putSettings,
  uniqueIndexName,
  updateDocument,
} from "./support/engine.ts";
import { etlEnv, expectIndexEqualsCatalogue, logEntries, logMessages, runCli, syncOnce, type EtlTarget } from "./support/etl.ts";
import { Catalogue } from "./support/catalogue.ts";

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
    expect(verify.stderr).toMatch(/"checked":500,"missing":0,"extra":0,"different":0,"unindexable":0/);

    const again = await runCli([], etlEnv(target));
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/"written":0,"deleted":0/);
  });

  it("verify lists what is missing, extra or different, with ids, and exits non-zero", async () => {
    await syncOnce(target);
    const ids = [...(await expectIndexEqualsCatalogue(target)).keys()].sort();
    const [missing, different] = [ids[10]!, ids[20]!];
    const extra = "00000000-0000-4000-8000-000000000000";
    await deleteDocument(target.index, missing);
    await updateDocument(target.index, different, { title: "tampered", genres: [] });
    await indexDocument(target.index, extra, {
      id: extra,
      title: "not in the catalogue",
      imdb_rating: null,
      description: null,
      genres: [],
    });

    const verify = await runCli(["verify"], etlEnv(target));
    expect(verify.code).toBe(ExitCode.differs);
    expect(verify.stdout).toContain(`missing    ${missing}`);
    expect(verify.stdout).toContain(`extra      ${extra}`);
    expect(verify.stdout).toContain(`different  ${different}  genres,title`);
    expect(verify.stderr).toMatch(/"missing":1,"extra":1,"different":1/);
  });

  it("with pages of a few films (a tiny byte budget), extras between pages and after the last film are still found", async () => {
    const own: EtlTarget = { ...target, index: uniqueIndexName() };
    await syncOnce(own);
    const ids = [...(await expectIndexEqualsCatalogue(own)).keys()].sort();
    // Ids that sort right after two films, and one after every film: each falls in a different page's range.
    const between = [ids[100]!, ids[300]!]
      .map((id) => `${id.slice(0, -1)}${id.endsWith("f") ? "e" : "f"}`)
      .filter((id) => !ids.includes(id));
    const after = "ffffffff-ffff-4fff-bfff-ffffffffffff";
    for (const id of [...between, after]) {
      await indexDocument(own.index, id, { id, title: "not in the catalogue", imdb_rating: null, description: null, genres: [] });
    }
    const missing = ids[200]!;
    await deleteDocument(own.index, missing);

    const verify = await runCli(["verify"], etlEnv(own, { ETL_BATCH_MAX_BYTES: "1024" }));
    expect(verify.code, verify.stderr).toBe(ExitCode.differs);
    for (const id of [...between, after]) expect(verify.stdout).toContain(`extra      ${id}`);
    expect(verify.stdout).toContain(`missing    ${missing}`);
    expect(verify.stderr).toMatch(new RegExp(`"checked":500,"missing":1,"extra":${between.length + 1},"different":0`));
    await dropIndices(own.index);
  });
});

describe("verify and sync facing odd answers", () => {
  let db: TestDatabase;
  let target: EtlTarget;

  beforeAll(async () => {
    db = await createTestDatabase({ films: 60, seed: 9 });
    target = { databaseUrl: db.url, index: uniqueIndexName() };
    expect((await runCli([], etlEnv(target))).code).toBe(0);
  });

  afterAll(async () => {
    await dropIndices(target.index);
    await db?.drop();
  });

  it("a row that cannot become a document is reported as a difference, and the comparison goes on", async () => {
    const catalogue = new Catalogue(db.url);
    const [nan, renamed, huge] = (await catalogue.query<{ id: string }>("SELECT id FROM content.film_work ORDER BY id LIMIT 3")).map(
      (r) => r.id,
    );
    // The NaN row comes first in id order: everything after it must still be compared.
    await catalogue.query("UPDATE content.film_work SET rating = 'NaN'::float8 WHERE id = $1", [nan]);
    // Finite, but beyond the index's 32-bit float: the engine would refuse the document.
    await catalogue.query("UPDATE content.film_work SET rating = 1e39 WHERE id = $1", [huge]);
    await catalogue.query("UPDATE content.film_work SET title = 'renamed, not synced' WHERE id = $1", [renamed]);
    await catalogue.close();

    const verify = await runCli(["verify"], etlEnv(target));
    expect(verify.code, verify.stderr).toBe(ExitCode.differs);
    expect(verify.stdout).toMatch(new RegExp(`unindexable ${nan}  rating NaN is not a finite number`));
    expect(verify.stdout).toMatch(new RegExp(`unindexable ${huge}  rating 1e\\+39 is beyond what the index's float field holds`));
    expect(verify.stdout).toContain(`different  ${renamed}  title`);
    expect(verify.stderr).toMatch(/"checked":60,"missing":0,"extra":0,"different":1,"unindexable":2/);
  });

  it("verify with the index missing says so in one line and exits 5", async () => {
    const verify = await runCli(["verify"], etlEnv({ ...target, index: uniqueIndexName("never_created") }));
    expect(verify.code).toBe(ExitCode.differs);
    const errors = logEntries(verify.stderr).filter((entry) => entry.level === "error");
    expect(errors.map((entry) => entry.msg)).toEqual([expect.stringMatching(/^the index never_created_\w+ does not exist: run a sync/)]);
  });

  it("a write block is reported as what it is, not as rejected documents; the run after the block converges", async () => {
    const catalogue = new Catalogue(db.url);
    await catalogue.query("UPDATE content.film_work SET rating = 5 WHERE rating = 'NaN'::float8 OR rating > 1e38");
    await catalogue.query(
      "UPDATE content.film_work SET title = 'while blocked', modified = now() WHERE id = (SELECT id FROM content.film_work ORDER BY id DESC LIMIT 1)",
    );
    await catalogue.close();
    await putSettings(target.index, { "index.blocks.write": true });
    try {
      const blocked = await runCli([], etlEnv(target, { ETL_RETRY_MAX_ATTEMPTS: "1" }));
      expect(blocked.code).toBe(ExitCode.unavailable);
      const message = logEntries(blocked.stderr).find((entry) => entry.level === "error")!.msg;
      expect(message).toMatch(/refuses writes: cluster_block_exception/);
      expect(message).not.toMatch(/rejected/);
    } finally {
      await putSettings(target.index, { "index.blocks.write": false });
    }
    expect((await runCli([], etlEnv(target))).code).toBe(0);
    await expectIndexEqualsCatalogue(target);
  });

  it("a read block and an alias of two indices are one plain line each, not an internal error", async () => {
    await putSettings(target.index, { "index.blocks.read": true });
    try {
      const verify = await runCli(["verify"], etlEnv(target, { ETL_RETRY_MAX_ATTEMPTS: "1" }));
      expect(verify.code).toBe(ExitCode.unavailable);
      const errors = logEntries(verify.stderr).filter((entry) => entry.level === "error");
      expect(errors.map((entry) => entry.msg)).toEqual([expect.stringMatching(/refused .*cluster_block_exception|blocked/)]);
      expect(verify.stderr).not.toMatch(/"stack"/);
    } finally {
      await putSettings(target.index, { "index.blocks.read": false });
    }

    const second = `${target.index}_second`;
    await engineRequest("PUT", `/${second}`, { aliases: { [target.index]: {} } });
    try {
      const sync = await runCli([], etlEnv(target));
      expect(sync.code).toBe(ExitCode.config);
      expect(logMessages(sync.stderr)).toMatch(/is an alias of 2 indices .* point the alias at one/);
      expect(sync.stderr).not.toMatch(/"stack"/);
    } finally {
      await engineRequest("DELETE", `/${second}`);
    }
  });
});
