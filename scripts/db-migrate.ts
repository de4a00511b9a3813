// Applies prisma/migrations to a database through the WASM schema engine, the
// way `prisma migrate deploy` would (same `_prisma_migrations` rows), plus two
// things deploy cannot do by itself:
//  - baseline: a catalogue whose content tables were created by someone else (the
//    admin panel) gets the catalogue migration recorded as applied, not run;
//  - --skip-change-capture: the change-capture migration is recorded as applied
//    without creating its table and triggers.
import pg from "pg";
import type { MigrationList } from "@prisma/schema-engine-wasm";
import { ensureDatabase } from "./db-admin.ts";
import { defaultMigrationsDirectory, firstMigrations, migrationNames, readMigrationsFolder } from "./db-migrations-folder.ts";
import { diffDatabaseToSchema, readSchemaFiles } from "./db-schema-diff.ts";
import { noSchemaFilter, withSchemaEngine, type SchemaEngine } from "./db-schema-engine.ts";
import { redactDatabaseUrl } from "./db-url.ts";

export interface MigrateOptions {
  databaseUrl: string;
  /** Record the change-capture migration as applied without running it. */
  skipChangeCapture?: boolean;
  migrationsDirectory?: string;
  /** One line per step; nothing secret is ever passed. Default: silent. */
  log?: (line: string) => void;
}

export interface MigrateResult {
  createdDatabase: boolean;
  /** Recorded as applied without running their SQL, in order. */
  recordedAsApplied: string[];
  /** Run, in order. */
  applied: string[];
  /**
   * After a baseline: the CREATE INDEX statements of the schema that the existing
   * catalogue lacks (the ETL's cursors and fan-out queries want them). Not run:
   * on a live catalogue a DBA should create them CONCURRENTLY.
   */
  missingCatalogueIndexes: string[];
}

/** The tables whose presence means the catalogue exists already (created by the admin panel). */
import { CATALOGUE_SCHEMA as catalogueSchema, CATALOGUE_TABLES as catalogueTables } from "../src/catalogue-tables.ts";

const catalogueMigrationSuffix = "_catalogue";
const changeCaptureMigrationSuffix = "_change_capture";

export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const log = options.log ?? (() => {});
  const where = redactDatabaseUrl(options.databaseUrl);
  const createdDatabase = await ensureDatabase(options.databaseUrl);
  if (createdDatabase) log(`created database ${where}`);

  const migrations = await readMigrationsFolder(options.migrationsDirectory ?? defaultMigrationsDirectory);
  const names = migrationNames(migrations);
  if (names.length === 0) throw new Error(`no migrations in ${migrations.baseDir}`);

  const state = await inspectDatabase(options.databaseUrl);
  const toRecord = new Set<string>();
  const catalogueMigration = findMigration(names, catalogueMigrationSuffix);
  if (!state.appliedMigrations.has(catalogueMigration)) {
    if (state.existingCatalogueTables.length === catalogueTables.length) {
      log(`${where}: content tables exist but not from our migrations: baselining ${catalogueMigration}`);
      toRecord.add(catalogueMigration);
    } else if (state.existingCatalogueTables.length > 0) {
      throw new Error(
        `${where} has only some of the catalogue tables (${state.existingCatalogueTables.join(", ")}); ` +
          `expected all of ${catalogueTables.join(", ")} or none`,
      );
    }
  }
  const changeCaptureMigration = findMigration(names, changeCaptureMigrationSuffix);
  if (options.skipChangeCapture && !state.appliedMigrations.has(changeCaptureMigration)) {
    log(`${where}: skipping change capture: recording ${changeCaptureMigration} as applied without running it`);
    toRecord.add(changeCaptureMigration);
  }

  const result: MigrateResult = { createdDatabase, recordedAsApplied: [], applied: [], missingCatalogueIndexes: [] };
  await withSchemaEngine(
    options.databaseUrl,
    async (engine) => {
      // Keep `_prisma_migrations` in folder order: apply what comes before a migration
      // to record, then record it, then go on.
      for (const [index, name] of names.entries()) {
        if (!toRecord.has(name)) continue;
        result.applied.push(...(await applyPending(engine, firstMigrations(migrations, index), where, log)));
        await engine.markMigrationApplied({ migrationName: name, migrationsList: firstMigrations(migrations, index + 1) });
        result.recordedAsApplied.push(name);
        log(`${where}: recorded ${name} as applied`);
      }
      result.applied.push(...(await applyPending(engine, migrations, where, log)));
    },
    (record) => {
      if (record.level === "WARN" || record.level === "ERROR") log(`schema engine ${record.level.toLowerCase()}: ${record.message}`);
    },
  );
  if (result.applied.length === 0 && result.recordedAsApplied.length === 0) log(`${where}: up to date (${names.length} migrations)`);
  if (result.recordedAsApplied.includes(catalogueMigration)) {
    result.missingCatalogueIndexes = await findMissingIndexes(options.databaseUrl, log);
    if (result.missingCatalogueIndexes.length > 0) {
      log(
        `${where}: the existing catalogue lacks ${result.missingCatalogueIndexes.length} indexes of the schema; the ETL's queries want them (create them CONCURRENTLY on a live catalogue):`,
      );
      for (const statement of result.missingCatalogueIndexes) log(`  ${statement}`);
    }
  }
  return result;
}

async function applyPending(
  engine: SchemaEngine,
  migrations: MigrationList,
  where: string,
  log: (line: string) => void,
): Promise<string[]> {
  if (migrations.migrationDirectories.length === 0) return [];
  const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList: migrations, filters: noSchemaFilter });
  for (const name of appliedMigrationNames) log(`${where}: applied ${name}`);
  return appliedMigrationNames;
}

/** The CREATE INDEX statements of a diff from the database to prisma/schema.prisma. */
async function findMissingIndexes(databaseUrl: string, log: (line: string) => void): Promise<string[]> {
  try {
    const sql = await diffDatabaseToSchema(databaseUrl, await readSchemaFiles());
    return (sql ?? "").split("\n").filter((line) => /^CREATE (UNIQUE )?INDEX /.test(line));
  } catch (error) {
    log(`could not compare the catalogue with the schema: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
}

function findMigration(names: string[], suffix: string): string {
  const found = names.filter((name) => name.endsWith(suffix));
  if (found.length !== 1) throw new Error(`expected exactly one migration named *${suffix}, found ${found.length}`);
  return found[0]!;
}

interface DatabaseState {
  /** Migrations recorded as finished and not rolled back. */
  appliedMigrations: Set<string>;
  existingCatalogueTables: string[];
}

async function inspectDatabase(databaseUrl: string): Promise<DatabaseState> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      `SELECT c.relname AS table_name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = ANY($2) AND c.relkind IN ('r', 'p')`,
      [catalogueSchema, catalogueTables],
    );
    const hasHistory = await client.query<{ present: boolean }>(`SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present`);
    const applied = hasHistory.rows[0]?.present
      ? await client.query<{ migration_name: string }>(
          `SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
        )
      : { rows: [] };
    return {
      appliedMigrations: new Set(applied.rows.map((row) => row.migration_name)),
      existingCatalogueTables: tables.rows.map((row) => row.table_name),
    };
  } finally {
    await client.end();
  }
}
