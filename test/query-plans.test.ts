import { terminationTolerated, testPool } from "./support/clients.ts";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changesHeldBack } from "../src/extract/change-log.ts";
import { countFanOutFilms, findLargeFanOuts } from "../src/extract/fan-out.ts";
import { readFilmBatch } from "../src/extract/film-batch.ts";
import { PrismaClient } from "../src/generated/prisma/client.ts";
import { planWindow } from "../src/sync/plan-window.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";

const LIMITS = { films: 100, bytes: 4 * 1024 * 1024, documentBytes: 10 * 1024 * 1024 };
const BIG_TABLES = ["film_work", "person", "genre_film_work", "person_film_work", "etl_change"];

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  Plans?: PlanNode[];
}

function seqScans(node: PlanNode): string[] {
  const own = node["Node Type"] === "Seq Scan" && node["Relation Name"] ? [node["Relation Name"]] : [];
  return [...own, ...(node.Plans ?? []).flatMap(seqScans)];
}

/**
 * Incremental work must not scan the big tables. Every query an incremental
 * cycle sends (Prisma's typed cursor queries and the film batch) is captured
 * and EXPLAINed with sequential scans disabled: a Seq Scan that remains on a
 * big table means no index can serve that query.
 */
describe("query plans of an incremental cycle", () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase({ films: 2000, seed: 5 });
    pool = testPool(db.url);
    await pool.query("ANALYZE");
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it("use indexes, never a full scan of a big table", async () => {
    const prisma = new PrismaClient({
      adapter: new PrismaPg({ connectionString: db.url }, terminationTolerated),
      log: [{ emit: "event", level: "query" }],
    });
    const queries: Array<{ query: string; params: unknown[] }> = [];
    prisma.$on("query", (event) => queries.push({ query: event.query, params: JSON.parse(event.params) }));
    try {
      const now = Date.now();
      const cursor = { modifiedMs: now - 86_400_000, id: "80000000-0000-0000-0000-000000000000" };
      const window = await planWindow(
        prisma,
        { tables: { genre: cursor, person: cursor, film_work: cursor }, log: { txid: "1", seq: "0" } },
        { tables: ["genre", "person", "film_work"], changeBatchSize: 100, commitLagMs: 0, changeLogInstalled: true, largeFanOutFilms: 10 },
      );
      const sample = await pool.query<{ g: string; p: string; f: string }>(
        `SELECT (SELECT genre_id FROM content.genre_film_work LIMIT 1) AS g,
                (SELECT person_id FROM content.person_film_work LIMIT 1) AS p,
                (SELECT id FROM content.film_work LIMIT 1) AS f`,
      );
      const { g, p, f } = sample.rows[0]!;
      await readFilmBatch(
        prisma,
        { kind: "touched", genreIds: [g], personIds: [p], filmIds: [f, ...window.touched.filmIds] },
        null,
        LIMITS,
      );
      await readFilmBatch(prisma, { kind: "touched", genreIds: [g], personIds: [p], filmIds: [f] }, f, LIMITS);
      await findLargeFanOuts(prisma, { genreIds: [g], personIds: [p] }, 10);
      await countFanOutFilms(prisma, { genreIds: [g], personIds: [p] }, f);
      await changesHeldBack(prisma, "1");
    } finally {
      await prisma.$disconnect();
    }

    const relevant = queries.filter((q) => /content/.test(q.query) && !/to_regclass|pg_snapshot|clock_timestamp/.test(q.query));
    expect(relevant.length).toBeGreaterThanOrEqual(7);
    const client = await pool.connect();
    try {
      await client.query("SET enable_seqscan = off");
      for (const { query, params } of relevant) {
        const result = await client.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${query}`, params);
        const scans = seqScans(result.rows[0]!["QUERY PLAN"][0]!.Plan).filter((t) => BIG_TABLES.includes(t));
        expect(scans, query).toEqual([]);
      }
    } finally {
      client.release();
    }
  });
});
