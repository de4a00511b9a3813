import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrisma, type PrismaClient } from "../src/db/prisma.ts";
import { ExitCode } from "../src/errors.ts";
import { readFilmBatch, type FilmBatchLimits } from "../src/extract/film-batch.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";
import { dropIndices, uniqueIndexName } from "./support/engine.ts";
import { etlEnv, expectIndexEqualsCatalogue, logEntries, runCli, type EtlTarget } from "./support/etl.ts";

const MiB = 1024 * 1024;
const BIG_FILMS = 40;

/** About 1.8 MB of UTF-8 per description: Cyrillic (2 bytes a character), a quote, an emoji. */
function longDescription(n: number): string {
  return `${n} «Привет, "мир"» 🎬 `.repeat(48_000);
}

describe("films with long descriptions", () => {
  let db: TestDatabase;
  let target: EtlTarget;
  let prisma: PrismaClient;

  beforeAll(async () => {
    db = await createTestDatabase({ films: 200, seed: 11 });
    target = { databaseUrl: db.url, index: uniqueIndexName() };
    prisma = createPrisma(db.url, { statementTimeoutMs: 60_000 });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      // Spread among the seeded films by id, so pages hold both kinds.
      await client.query(
        `UPDATE content.film_work SET description = $1 || id::text
         WHERE id IN (SELECT id FROM content.film_work ORDER BY md5(id::text) LIMIT $2)`,
        [longDescription(1), BIG_FILMS],
      );
    } finally {
      await client.end();
    }
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await dropIndices(target.index);
    await db?.drop();
  });

  it("a batch stops where its films' text reaches the byte budget, and the pages still cover every film once", async () => {
    const limits: FilmBatchLimits = { films: 50, bytes: 4 * MiB, documentBytes: 10 * MiB };
    const seen: string[] = [];
    let cutByBytes = 0;
    let after: string | null = null;
    for (;;) {
      const from: string | null = after;
      const { rows, more } = await readFilmBatch(prisma, { kind: "all" }, from, limits);
      if (rows.length === 0) break;
      const textBytes = rows.map((row) => Buffer.byteLength(row.document ?? ""));
      const beforeLast = textBytes.slice(0, -1).reduce((a, b) => a + b, 0);
      // Every film but the last started below the budget (documents carry a little more than title and description).
      expect(beforeLast).toBeLessThan(limits.bytes + rows.length * 4096);
      if (rows.length < limits.films && more) cutByBytes++;
      seen.push(...rows.map((row) => row.id));
      after = rows[rows.length - 1]!.id;
      if (!more) break;
    }
    expect(cutByBytes).toBeGreaterThan(3);
    expect(seen).toEqual([...new Set(seen)].sort());
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const all = (await client.query<{ id: string }>(`SELECT id::text AS id FROM content.film_work ORDER BY id`)).rows.map((r) => r.id);
    await client.end();
    expect(seen).toEqual(all);
  });

  it("films heavy with people count too: a page of them is cut by the same budget", async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      // Every person an actor of 30 films that have short descriptions.
      await client.query(
        `WITH films AS (
           SELECT id FROM content.film_work WHERE octet_length(coalesce(description, '')) < 10000 ORDER BY id LIMIT 30
         )
         INSERT INTO content.person_film_work (id, film_work_id, person_id, role, created)
         SELECT gen_random_uuid(), films.id, p.id, 'actor', now() FROM films CROSS JOIN content.person p
         ON CONFLICT DO NOTHING`,
      );
      const heavy = (
        await client.query<{ id: string }>(
          `SELECT film_work_id::text AS id FROM content.person_film_work GROUP BY film_work_id HAVING count(*) > 500 ORDER BY 1`,
        )
      ).rows.map((r) => r.id);
      expect(heavy).toHaveLength(30);
      const limits: FilmBatchLimits = { films: 50, bytes: MiB, documentBytes: 10 * MiB };
      const selection = { kind: "touched" as const, filmIds: heavy, genreIds: [], personIds: [] };
      const { rows: page, more } = await readFilmBatch(prisma, selection, null, limits);
      expect(more).toBe(true);
      expect(page.length).toBeLessThan(heavy.length);
      const bytes = page.map((row) => Buffer.byteLength(row.document ?? "")).reduce((a, b) => a + b, 0);
      expect(bytes).toBeLessThan(2 * MiB);
    } finally {
      await client.end();
    }
  });

  it("a sync and verify under the process's own heap limit index them exactly", async () => {
    const sync = await runCli([], etlEnv(target), { timeoutMs: 180_000 });
    expect(sync.code, sync.stderr.slice(-2000)).toBe(ExitCode.ok);
    await expectIndexEqualsCatalogue(target);

    const verify = await runCli(["verify"], etlEnv(target), { timeoutMs: 180_000 });
    expect(verify.code, verify.stderr.slice(-2000)).toBe(ExitCode.ok);
    expect(verify.stderr).toMatch(/"checked":200,"missing":0,"extra":0,"different":0,"unindexable":0/);
  });

  it("a film larger than a bulk request may be is reported with the setting to change, and the others are indexed", async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { id } = (
      await client.query<{ id: string }>(
        `UPDATE content.film_work SET description = repeat('x', 3 * 1024 * 1024), modified = now()
         WHERE id = (SELECT id FROM content.film_work ORDER BY id OFFSET 100 LIMIT 1) RETURNING id::text AS id`,
      )
    ).rows[0]!;
    // Small in the catalogue, large as JSON: a control character takes six bytes there (\u0001).
    const escaped = (
      await client.query<{ id: string }>(
        `UPDATE content.film_work SET description = repeat(chr(1), 400000), modified = now()
         WHERE id = (SELECT id FROM content.film_work ORDER BY id OFFSET 120 LIMIT 1) RETURNING id::text AS id`,
      )
    ).rows[0]!.id;
    const other = (
      await client.query<{ id: string }>(
        `UPDATE content.film_work SET title = 'renamed beside the big one', modified = now()
         WHERE id = (SELECT id FROM content.film_work ORDER BY id OFFSET 150 LIMIT 1) RETURNING id::text AS id`,
      )
    ).rows[0]!.id;
    await client.end();
    const env = etlEnv(target, { ETL_BULK_MAX_BYTES: String(2 * MiB), ETL_COMMIT_LAG_MS: "0" });

    const sync = await runCli([], env, { timeoutMs: 180_000 });
    expect(sync.code, sync.stderr.slice(-2000)).toBe(ExitCode.rejected);
    const rejected = JSON.stringify(logEntries(sync.stderr).filter((entry) => entry.level === "error"));
    expect(rejected).toContain(id);
    expect(rejected).toContain(escaped);
    expect(rejected).toMatch(/ETL_BULK_MAX_BYTES/);

    const verify = await runCli(["verify"], env, { timeoutMs: 180_000 });
    expect(verify.code).toBe(ExitCode.differs);
    expect(verify.stdout).toContain(`unindexable ${id}`);
    expect(verify.stdout).toMatch(new RegExp(`unindexable ${escaped}  the document is \\d+ bytes of JSON`));
    expect(verify.stdout).not.toContain(other);
  });
});
