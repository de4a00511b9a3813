import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.ts";

export type { PrismaClient };

export interface PrismaOptions {
  /** Server-side bound on one statement, so a hung query cannot hold a batch forever. */
  statementTimeoutMs: number;
}

export function createPrisma(databaseUrl: string, options: PrismaOptions): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    statement_timeout: options.statementTimeoutMs,
    connectionTimeoutMillis: 10_000,
    application_name: "movies-etl",
    // The planner's JIT compiles the film batch's aggregation once its cost
    // estimate passes jit_above_cost (on a large catalogue it does): the
    // compilation costs more CPU than it saves on a page of films.
    options: "-c jit=off",
    max: 4,
  });
  // Minimal errors: one line, no code frame or source path in logs.
  return new PrismaClient({ adapter, errorFormat: "minimal" });
}
