// `npm run db:diff -- <name> [--schema <file>]`: writes prisma/migrations/<timestamp>_<name>/migration.sql
// with what the schema adds to the existing migrations (like `prisma migrate dev
// --create-only`, offline), or prints "no changes".
import { mkdir, writeFile, access } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  defaultMigrationsDirectory,
  defaultSchemaPath,
  migrationLockContent,
  migrationLockFile,
  migrationNames,
  migrationScriptFile,
  projectRoot,
  readMigrationsFolder,
} from "./db-migrations-folder.ts";
import { diffMigrationsToSchema, readSchemaFiles } from "./db-schema-diff.ts";
import { databaseUrlFromEnv } from "./db-url.ts";

const usage = "usage: npm run db:diff -- <migration_name> [--schema prisma/schema.prisma]";

/** Prisma's rule for migration folder names: lower case, words joined by `_`. */
function migrationSlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

/** `YYYYMMDDHHMMSS` in UTC, as Prisma names migrations, later than every existing one. */
function nextMigrationTimestamp(existingNames: string[], now = new Date()): string {
  let timestamp = now.toISOString().replace(/\D/g, "").slice(0, 14);
  const latest = existingNames
    .map((name) => name.slice(0, 14))
    .sort()
    .at(-1);
  if (latest && timestamp <= latest) timestamp = (BigInt(latest) + 1n).toString();
  return timestamp;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { schema: { type: "string", default: defaultSchemaPath } },
  });
  const slug = migrationSlug(positionals[0] ?? "");
  if (!slug || positionals.length > 1) throw new Error(usage);

  const schema = await readSchemaFiles(resolve(values.schema));
  const sql = await diffMigrationsToSchema({ databaseUrl: databaseUrlFromEnv(), schema });
  if (sql === null) {
    console.log("no changes");
    return;
  }
  const existing = migrationNames(await readMigrationsFolder());
  const folder = join(defaultMigrationsDirectory, `${nextMigrationTimestamp(existing)}_${slug}`);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, migrationScriptFile), sql);
  const lockFile = join(defaultMigrationsDirectory, migrationLockFile);
  if (!(await exists(lockFile))) await writeFile(lockFile, migrationLockContent);
  console.log(`wrote ${relative(projectRoot, join(folder, migrationScriptFile))}`);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

main().catch((error: unknown) => {
  console.error(`db:diff failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
