// Databases for tests, all named movies_etl_test_* on the local server: a
// migrated template (made once per run by the global setup) and, per test, a
// database of its own cloned from it (CREATE DATABASE … TEMPLATE, a file copy:
// far faster than migrating), optionally seeded, dropped by the test.
//
// Migrations run in-process: scripts/db-schema-engine.ts instantiates the
// schema engine's .wasm by hand, which works inside Vitest (no
// --experimental-wasm-modules needed).
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { databaseExists, quoteIdentifier, withAdminClient } from "../../scripts/db-admin.ts";
import { DEFAULT_DATABASE_URL } from "../../src/config.ts";
import { migrate } from "../../scripts/db-migrate.ts";
import { readMigrationsFolder } from "../../scripts/db-migrations-folder.ts";
import { withDatabaseName } from "../../scripts/db-url.ts";
import { seedCatalogue } from "../../seed/seed-catalogue.ts";

/** Any database on the test server; only its server and credentials are used. */
export const testServerUrl = process.env.TEST_POSTGRES_URL ?? withDatabaseName(DEFAULT_DATABASE_URL, "postgres");
/**
 * The migrated template, named after the migrations it holds: checkouts with
 * different migrations (a branch, a second worktree) each get their own
 * template instead of dropping each other's.
 */
export const templateDatabaseName = `movies_etl_test_template_${migrationsDigest().slice(0, 12)}`;
const testDatabasePrefix = "movies_etl_test_";

export interface TestDatabase {
  url: string;
  name: string;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Seed this many films (seedCatalogue); none when absent or 0. */
  films?: number;
  /** The seed's PRNG seed (default 1). */
  seed?: number;
}

export function testDatabaseUrl(name: string): string {
  return withDatabaseName(testServerUrl, name);
}

/**
 * Vitest global setup: makes sure the template database holds every
 * migration. A template already migrated with exactly the current migration
 * files is kept (so concurrent runs do not pull it from under each other);
 * otherwise it is dropped and migrated anew. Serialised by an advisory lock.
 */
export async function setupTemplateDatabase(): Promise<void> {
  const templateUrl = testDatabaseUrl(templateDatabaseName);
  await withAdminClient(testServerUrl, async (admin) => {
    await admin.query("SELECT pg_advisory_lock(hashtext($1))", [templateDatabaseName]);
    try {
      if ((await databaseExists(admin, templateDatabaseName)) && (await templateIsCurrent(templateUrl))) return;
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(templateDatabaseName)} WITH (FORCE)`);
      await migrate({ databaseUrl: templateUrl });
    } finally {
      await admin.query("SELECT pg_advisory_unlock(hashtext($1))", [templateDatabaseName]);
    }
  });
}

export default setupTemplateDatabase;

function migrationsDigest(): string {
  const folder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../prisma/migrations");
  const hash = createHash("sha256");
  for (const entry of readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()) {
    hash.update(`${entry}\n`).update(readFileSync(path.join(folder, entry, "migration.sql")));
  }
  return hash.digest("hex");
}

/** True when the template's migration history is exactly the migration files (names and checksums). */
async function templateIsCurrent(templateUrl: string): Promise<boolean> {
  const migrations = await readMigrationsFolder();
  const expected = migrations.migrationDirectories.map((migration) => {
    const content = migration.migrationFile.content;
    return `${migration.path} ${content.tag === "ok" ? createHash("sha256").update(content.value).digest("hex") : "?"}`;
  });
  const client = new pg.Client({ connectionString: templateUrl });
  await client.connect();
  try {
    const applied = await client.query<{ line: string }>(
      `SELECT migration_name || ' ' || checksum AS line FROM _prisma_migrations
       WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`,
    );
    return JSON.stringify(applied.rows.map((row) => row.line)) === JSON.stringify(expected);
  } catch {
    return false;
  } finally {
    await client.end();
  }
}

/** A migrated database of the caller's own, cloned from the template, optionally seeded. */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const database = await createDatabaseNamed(uniqueTestDatabaseName(), templateDatabaseName);
  if (options.films) {
    try {
      await seedCatalogue({ databaseUrl: database.url, films: options.films, seed: options.seed ?? 1 });
    } catch (error) {
      await database.drop();
      throw error;
    }
  }
  return database;
}

/** An empty database (no schema content, no migrations), for migration tests. */
export async function createEmptyTestDatabase(): Promise<TestDatabase> {
  return createDatabaseNamed(uniqueTestDatabaseName(), "template0");
}

function uniqueTestDatabaseName(): string {
  return `${testDatabasePrefix}${randomBytes(6).toString("hex")}`;
}

async function createDatabaseNamed(name: string, template: string): Promise<TestDatabase> {
  const sql = `CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE ${quoteIdentifier(template)}`;
  await withAdminClient(testServerUrl, async (admin) => {
    // Cloning fails while anything else is connected to the template; such
    // connections are brief (another run checking it), so try again a little later.
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(sql);
        return;
      } catch (error) {
        const busy = (error as { code?: string }).code === "55006";
        if (!busy || attempt === 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  });
  const url = testDatabaseUrl(name);
  return {
    url,
    name,
    drop: () =>
      withAdminClient(testServerUrl, async (admin) => {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
      }),
  };
}

/**
 * The shape of the `content` schema, for comparisons: columns, indexes,
 * constraints, triggers and functions, each as sorted text.
 */
export async function describeContentSchema(databaseUrl: string): Promise<Record<string, string[]>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const lines = async (sql: string): Promise<string[]> => (await client.query<{ line: string }>(sql)).rows.map((row) => row.line).sort();
    return {
      columns: await lines(
        `SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS line
         FROM information_schema.columns WHERE table_schema = 'content'`,
      ),
      indexes: await lines(`SELECT indexdef AS line FROM pg_indexes WHERE schemaname = 'content'`),
      constraints: await lines(
        `SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS line
         FROM pg_constraint WHERE connamespace = 'content'::regnamespace`,
      ),
      triggers: await lines(
        `SELECT pg_get_triggerdef(t.oid) AS line FROM pg_trigger t
         JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'content'::regnamespace AND NOT t.tgisinternal`,
      ),
      functions: await lines(`SELECT proname || ' ' || md5(prosrc) AS line FROM pg_proc WHERE pronamespace = 'content'::regnamespace`),
    };
  } finally {
    await client.end();
  }
}

/** A connection with a transaction open and its id assigned: changes committed after it began wait for it in the change log. */
export async function openTransaction(databaseUrl: string): Promise<pg.Client & { xid: bigint }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query("BEGIN");
  const xid = BigInt((await client.query<{ xid: string }>("SELECT pg_current_xact_id()::text AS xid")).rows[0]!.xid);
  return Object.assign(client, { xid });
}
