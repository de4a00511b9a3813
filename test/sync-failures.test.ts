import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../src/errors.ts";
import { Catalogue } from "./support/catalogue.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { ELASTICSEARCH_URL, dropIndices, indexedDocuments, uniqueIndexName } from "./support/engine.ts";
import { etlEnv, expectIndexEqualsCatalogue, logMessages, runCli, startCli, syncOnce, type EtlTarget } from "./support/etl.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import { waitFor } from "./support/wait.ts";

describe("failures", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  async function freshTarget(films: number, seed: number): Promise<{ db: TestDatabase; target: EtlTarget; catalogue: Catalogue }> {
    const db = await createTestDatabase({ films, seed });
    const catalogue = new Catalogue(db.url);
    const target = { databaseUrl: db.url, index: uniqueIndexName() };
    cleanups.push(
      () => db.drop(),
      () => dropIndices(target.index),
      () => catalogue.close(),
    );
    return { db, target, catalogue };
  }

  async function proxyTo(engineUrl: string): Promise<TcpProxy & { url: string }> {
    const upstream = new URL(engineUrl);
    const proxy = new TcpProxy(upstream.hostname, Number(upstream.port || 9200));
    await proxy.start();
    cleanups.push(() => proxy.cut());
    return Object.assign(proxy, { url: `http://127.0.0.1:${proxy.port}` });
  }

  it("the engine going away mid-run: retries, a clear failure, state intact, and the rerun converges", async () => {
    const { target, catalogue } = await freshTarget(600, 21);
    const proxy = await proxyTo(ELASTICSEARCH_URL);
    const viaProxy = { ...target, elasticsearchUrl: proxy.url };

    const run = runCli(
      [],
      etlEnv(viaProxy, {
        ETL_BATCH_SIZE: "50",
        ETL_RETRY_MAX_ATTEMPTS: "3",
        ETL_RETRY_INITIAL_DELAY_MS: "50",
        ETL_RETRY_MAX_DELAY_MS: "300",
      }),
    );
    await proxy.whenRequests(3);
    await proxy.cut();
    const result = await run;

    expect(result.code).toBe(ExitCode.unavailable);
    expect(result.stderr).toMatch(/transient failure, retrying/);
    expect(result.stderr).toMatch(/elasticsearch is unavailable/);
    const state = await catalogue.query<{ name: string; value: { after?: string } }>(
      "SELECT name, value FROM content.etl_state WHERE name LIKE $1",
      [`${target.index}:%`],
    );
    const film = state.find((row) => row.name.endsWith(":film"));
    expect(state.some((row) => row.name.endsWith(":window"))).toBe(true);
    expect(film?.value.after).toMatch(/^[0-9a-f-]{36}$/);
    // Every film up to the saved cursor is in the index: the cursor never ran ahead of a write.
    const written = await indexedDocuments(target.index);
    const upToCursor = await catalogue.query<{ id: string }>("SELECT id FROM content.film_work WHERE id <= $1", [film!.value.after]);
    for (const { id } of upToCursor) expect(written.has(id), id).toBe(true);

    await proxy.restore();
    const rerun = await runCli([], etlEnv(viaProxy));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/resuming the window/);
    await expectIndexEqualsCatalogue(target);
  });

  // Bulk bodies of the default batch size (500 films, ~1 MB) and the process's own heap settings: a
  // failed request's error must not cost the heap in proportion to its body (it did: the Elasticsearch
  // client's redaction copied the body into an object of one property per byte, ~110 bytes of heap each,
  // and the run died with "JavaScript heap out of memory" before logging a retry).
  it("the engine going away under full-size bulk bodies: retries and exit 3, not a heap exhausted by the failed requests", async () => {
    const { target } = await freshTarget(1500, 25);
    const proxy = await proxyTo(ELASTICSEARCH_URL);
    const run = runCli(
      [],
      etlEnv(
        { ...target, elasticsearchUrl: proxy.url },
        { ETL_RETRY_MAX_ATTEMPTS: "3", ETL_RETRY_INITIAL_DELAY_MS: "50", ETL_RETRY_MAX_DELAY_MS: "300" },
      ),
    );
    await proxy.whenRequests(1);
    await proxy.cut();
    const result = await run;

    expect(result.stderr).not.toMatch(/heap out of memory/);
    expect(result.code, result.stderr.slice(-2000)).toBe(ExitCode.unavailable);
    expect(result.stderr).toMatch(/transient failure, retrying/);
    expect(result.stderr).toMatch(/elasticsearch is unavailable/);
  });

  it("--watch under the same failure logs it and waits for the next wake-up", async () => {
    const { target } = await freshTarget(1500, 26);
    const proxy = await proxyTo(ELASTICSEARCH_URL);
    const watcher = startCli(
      ["--watch"],
      etlEnv(
        { ...target, elasticsearchUrl: proxy.url },
        { METRICS_PORT: "0", ETL_RETRY_MAX_ATTEMPTS: "3", ETL_RETRY_INITIAL_DELAY_MS: "50", ETL_RETRY_MAX_DELAY_MS: "300" },
      ),
    );
    cleanups.push(async () => watcher.signal("SIGKILL"));
    await proxy.whenRequests(1);
    await proxy.cut();
    const failed = () => /elasticsearch is unavailable.*trying again at the next wake-up/.test(logMessages(watcher.stderr()));
    await Promise.race([
      waitFor(failed, 60_000, "the failed cycle logged"),
      watcher.result.then((r) => {
        throw new Error(`the watcher ended (code ${r.code}, signal ${r.signal}): ${r.stderr.slice(-1500)}`);
      }),
    ]);
    watcher.signal("SIGTERM");
    expect((await watcher.result).code).toBe(143);
  });

  it("Postgres unreachable: exit code 3 with a one-line reason and no password in it", async () => {
    const result = await runCli([], {
      ...etlEnv({ databaseUrl: "postgresql://etl:s3cr3t-pa55@127.0.0.1:1/movies", index: uniqueIndexName() }),
      ETL_RETRY_MAX_ATTEMPTS: "1",
      ETL_RETRY_INITIAL_DELAY_MS: "10",
    });
    expect(result.code).toBe(ExitCode.unavailable);
    expect(result.stderr).toMatch(/postgres is unavailable/);
    expect(result.stderr + result.stdout).not.toContain("s3cr3t-pa55");
  });

  it("a document the index rejects: reported with its id and reason, exit 4, no cursor past it", async () => {
    const { target, catalogue } = await freshTarget(30, 22);
    const films = (await catalogue.query<{ id: string }>("SELECT id FROM content.film_work ORDER BY id")).map((r) => r.id);
    const bad = films[12]!;
    // A keyword term over Lucene's 32766-byte limit: the engine refuses the document.
    await catalogue.query("UPDATE content.film_work SET title = repeat('Ж', 20000) WHERE id = $1", [bad]);
    const result = await runCli([], etlEnv(target, { ETL_BATCH_SIZE: "5" }));
    expect(result.code).toBe(ExitCode.rejected);
    expect(result.stderr).toContain(bad);
    expect(result.stderr).toMatch(/rejected 1 document/);
    const film = await catalogue.one<{ value: { after: string } }>("SELECT value FROM content.etl_state WHERE name = $1", [
      `${target.index}:film`,
    ]);
    expect(film.value.after < bad).toBe(true);
    expect(film.value.after).toBe(films[11]);

    await catalogue.query("UPDATE content.film_work SET title = 'Fixed', modified = now() WHERE id = $1", [bad]);
    const rerun = await runCli([], etlEnv(target, { ETL_BATCH_SIZE: "5" }));
    expect(rerun.code, rerun.stderr).toBe(0);
    await expectIndexEqualsCatalogue(target);
  });

  it("a film with awkward data round-trips exactly", async () => {
    const { target, catalogue } = await freshTarget(0, 23);
    const bigDescription = "Очень длинное описание 🎬 with emoji ".repeat(3000).slice(0, 100_000);
    const bare = await catalogue.addFilm({ title: "Без людей и описания", description: null, rating: null });
    const big = await catalogue.addFilm({ title: 'Ёлки 🎄 «кавычки» "quotes" \\ back\\slash', description: bigDescription, rating: 0 });
    const person = await catalogue.addPerson("Λάμπρος 🎭 O'Neil");
    await catalogue.linkPerson(big, person, "actor");
    await catalogue.linkPerson(big, person, "director");
    await syncOnce(target);
    const documents = await expectIndexEqualsCatalogue(target);
    expect(documents.get(bare)).toEqual({
      id: bare,
      imdb_rating: null,
      title: "Без людей и описания",
      description: null,
      genres: [],
      directors_names: [],
      actors_names: [],
      writers_names: [],
      directors: [],
      actors: [],
      writers: [],
    });
    const doc = documents.get(big) as { description: string; directors_names: string[]; imdb_rating: number };
    expect(doc.description).toBe(bigDescription);
    expect(doc.description.length).toBe(100_000);
    expect(doc.imdb_rating).toBe(0);
    expect(doc.directors_names).toEqual(["Λάμπρος 🎭 O'Neil"]);
  });

  it("a rating that is not a finite number is reported, not skipped", async () => {
    const { target, catalogue } = await freshTarget(5, 24);
    const film = await catalogue.addFilm({ title: "NaN rating" });
    await catalogue.query("UPDATE content.film_work SET rating = 'NaN'::float8 WHERE id = $1", [film]);
    const result = await runCli([], etlEnv(target));
    expect(result.code).toBe(ExitCode.rejected);
    expect(result.stderr).toContain(film);
    expect(result.stderr).toMatch(/not a finite number/);
  });
});
