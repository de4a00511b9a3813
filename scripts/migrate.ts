// `npm run db:migrate [-- --skip-change-capture]`: applies pending migrations to
// DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/movies), creating the
// database if needed. See scripts/db-migrate.ts.
import { parseArgs } from "node:util";
import { migrate } from "./db-migrate.ts";
import { databaseUrlFromEnv } from "./db-url.ts";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { "skip-change-capture": { type: "boolean", default: false } } });
  await migrate({
    databaseUrl: databaseUrlFromEnv(),
    skipChangeCapture: values["skip-change-capture"],
    log: (line) => console.log(line),
  });
}

main().catch((error: unknown) => {
  console.error(`db:migrate failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
