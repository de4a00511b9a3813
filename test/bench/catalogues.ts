// Bench catalogues: one database per size (<prefix><films>, the prefix from
// BENCH_DATABASE_PREFIX, default movies_bench_), migrated with
// scripts/migrate.ts and seeded once. A marker row in bench.catalogue records
// the size and seed, so later runs reuse the database instead of reseeding.
import { execFileSync } from "node:child_process";
import pg from "pg";
import { withDatabaseName } from "../../scripts/db-url.ts";
import { seedCatalogue } from "../../seed/seed-catalogue.ts";
import { ROOT } from "./paths.ts";

export const BENCH_SEED = 1;

/** Several checkouts can bench on one server, each with its own databases. */
export function benchDatabaseName(films: number): string {
  const prefix = process.env.BENCH_DATABASE_PREFIX || "movies_bench_";
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new Error(`BENCH_DATABASE_PREFIX must be a lower-case SQL identifier, not ${prefix}`);
  return `${prefix}${films}`;
}

export function benchDatabaseUrl(baseUrl: string, films: number): string {
  return withDatabaseName(baseUrl, benchDatabaseName(films));
}

/** Creates, migrates and seeds the catalogue unless a matching one is there; returns its URL. */
export async function ensureCatalogue(baseUrl: string, films: number, log: (line: string) => void): Promise<string> {
  const databaseUrl = benchDatabaseUrl(baseUrl, films);
  execFileSync(process.execPath, ["--experimental-wasm-modules", "--import", "tsx", "scripts/migrate.ts"], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (await markerMatches(databaseUrl, films)) {
    log(`catalogue of ${films} films: reusing ${benchDatabaseName(films)}`);
    return databaseUrl;
  }
  log(`catalogue of ${films} films: seeding ${benchDatabaseName(films)} (seed ${BENCH_SEED})`);
  const result = await seedCatalogue({ databaseUrl, films, seed: BENCH_SEED, reset: true, log: (line) => log(`  seed ${line}`) });
  await writeMarker(databaseUrl, films);
  log(`catalogue of ${films} films: seeded in ${result.seconds} s`);
  return databaseUrl;
}

async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "movies-etl bench" });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * The marker must name this size and seed, and the film count must still be
 * within 1% of it (incremental rounds add and delete a few films each run).
 */
async function markerMatches(databaseUrl: string, films: number): Promise<boolean> {
  return withClient(databaseUrl, async (client) => {
    const marker = await client
      .query<{ films: number; seed: number }>(`SELECT films, seed FROM bench.catalogue WHERE films = $1 AND seed = $2`, [films, BENCH_SEED])
      .catch(() => ({ rows: [] as Array<{ films: number; seed: number }> }));
    if (marker.rows.length === 0) return false;
    const count = await client.query<{ n: string }>(`SELECT count(*) AS n FROM content.film_work`);
    return Math.abs(Number(count.rows[0]!.n) - films) <= Math.max(100, films / 100);
  });
}

async function writeMarker(databaseUrl: string, films: number): Promise<void> {
  await withClient(databaseUrl, async (client) => {
    await client.query(`CREATE SCHEMA IF NOT EXISTS bench`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS bench.catalogue (films integer NOT NULL, seed integer NOT NULL, seeded_at timestamptz NOT NULL DEFAULT now())`,
    );
    await client.query(`TRUNCATE bench.catalogue`);
    await client.query(`INSERT INTO bench.catalogue (films, seed) VALUES ($1, $2)`, [films, BENCH_SEED]);
  });
}
