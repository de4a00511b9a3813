import type { App } from "./app.ts";
import { ConfigError, describeError } from "./errors.ts";

/**
 * Checks, before any command creates or writes anything, that the database
 * answers and carries the ETL's migrations (the engine answered already:
 * `createApp` asked it what it is). What the user must fix becomes a
 * ConfigError (exit 2) naming the fix; a service that stays down surfaces
 * from the retry policy (exit 3).
 */
export async function preflight(app: App): Promise<void> {
  await checkCatalogue(app);
}

const FIXABLE_CONNECTION_ERRORS: Record<string, string> = {
  DatabaseDoesNotExist: "create it, then apply the migrations: npm run db:migrate",
  DatabaseAccessDenied: "check the role in DATABASE_URL and its CONNECT privilege",
  AuthenticationFailed: "check the user and password in DATABASE_URL",
};

async function checkCatalogue(app: App): Promise<void> {
  let tables: { catalogue: boolean; state: boolean };
  try {
    const rows = await app.guards.postgres(
      () =>
        app.prisma.$queryRaw<Array<{ catalogue: boolean; state: boolean }>>`
        SELECT to_regclass('content.film_work') IS NOT NULL AS catalogue, to_regclass('content.etl_state') IS NOT NULL AS state`,
    );
    tables = rows[0]!;
  } catch (error) {
    const kind = driverErrorKind(error);
    if (kind && kind in FIXABLE_CONNECTION_ERRORS) {
      throw new ConfigError([`DATABASE_URL: ${describeError(error)}: ${FIXABLE_CONNECTION_ERRORS[kind]}`]);
    }
    throw error;
  }
  if (!tables.catalogue) {
    throw new ConfigError([
      "DATABASE_URL: this database has no catalogue (table content.film_work): point it at the catalogue, or create one with npm run db:migrate",
    ]);
  }
  if (!tables.state) {
    throw new ConfigError([
      "DATABASE_URL: the catalogue lacks the ETL's tables (content.etl_state): apply the migrations with npm run db:migrate",
    ]);
  }
}

function driverErrorKind(error: unknown): string | undefined {
  const kind = (error as { meta?: { driverAdapterError?: { cause?: { kind?: unknown } } } }).meta?.driverAdapterError?.cause?.kind;
  return typeof kind === "string" ? kind : undefined;
}
