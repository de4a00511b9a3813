import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../../src/generated/prisma/client.ts";

/**
 * A test's own connections to its database. Its teardown drops the database
 * WITH (FORCE), which terminates any connection a pool still keeps idle
 * (57P01): expected then, so not an uncaught error. Any other error of an idle
 * connection is still thrown.
 */
function ignoreTermination(error: Error): void {
  if ((error as { code?: string }).code === "57P01") return;
  throw error;
}

/** For a PrismaPg a test builds itself. */
export const terminationTolerated = { onPoolError: ignoreTermination, onConnectionError: ignoreTermination };

export function testPool(databaseUrl: string, max?: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, ...(max ? { max } : {}) });
  pool.on("error", ignoreTermination);
  return pool;
}

export function testPrisma(databaseUrl: string): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl }, terminationTolerated);
  return new PrismaClient({ adapter });
}
