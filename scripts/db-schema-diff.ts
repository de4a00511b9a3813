// Schema diffs through the WASM engine: what a database (or the migrations
// history, replayed on a scratch database) lacks to match the Prisma schema.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import type { SchemasContainer } from "@prisma/schema-engine-wasm";
import { createDatabase, dropDatabase } from "./db-admin.ts";
import { defaultMigrationsDirectory, defaultSchemaPath, projectRoot, readMigrationsFolder } from "./db-migrations-folder.ts";
import { noSchemaFilter, withSchemaEngine } from "./db-schema-engine.ts";
import { withDatabaseName } from "./db-url.ts";

export async function readSchemaFiles(schemaPath = defaultSchemaPath): Promise<SchemasContainer> {
  return { files: [{ path: relative(projectRoot, schemaPath), content: await readFile(schemaPath, "utf8") }] };
}

/**
 * The SQL that would bring the database at `databaseUrl` to the schema, or null
 * when they agree. Prisma does not model functions and triggers: those are not seen.
 */
export async function diffDatabaseToSchema(databaseUrl: string, schema: SchemasContainer): Promise<string | null> {
  const result = await withSchemaEngine(databaseUrl, (engine) =>
    engine.diff({
      from: { tag: "schemaDatasource", ...schema, configDir: projectRoot },
      to: { tag: "schemaDatamodel", ...schema },
      script: true,
      exitCode: true,
      filters: noSchemaFilter,
    }),
  );
  return result.exitCode === 2 ? (result.stdout ?? "") : null;
}

export interface DiffMigrationsOptions {
  /** Server to create the scratch database on (its database name is not used). */
  databaseUrl: string;
  migrationsDirectory?: string;
  schema: SchemasContainer;
}

/**
 * Replays the migrations on a scratch database (created and dropped here) and
 * returns the SQL of the next migration, or null when the schema adds nothing.
 */
export async function diffMigrationsToSchema(options: DiffMigrationsOptions): Promise<string | null> {
  const scratchUrl = withDatabaseName(options.databaseUrl, `movies_etl_diff_${randomBytes(6).toString("hex")}`);
  const migrations = await readMigrationsFolder(options.migrationsDirectory ?? defaultMigrationsDirectory);
  await createDatabase(scratchUrl);
  try {
    await withSchemaEngine(scratchUrl, (engine) => engine.applyMigrations({ migrationsList: migrations, filters: noSchemaFilter }));
    return await diffDatabaseToSchema(scratchUrl, options.schema);
  } finally {
    await dropDatabase(scratchUrl);
  }
}
