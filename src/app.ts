import { secretsOf, type Config } from "./config.ts";
import { createPrisma, type PrismaClient } from "./db/prisma.ts";
import { connectEngine } from "./load/connect.ts";
import type { Engine } from "./load/engine.ts";
import { createLogger, type Logger } from "./log.ts";
import { createGuards, type Guards } from "./resilience/policies.ts";

/** The long-lived parts every command shares. */
export interface App {
  config: Config;
  log: Logger;
  prisma: PrismaClient;
  /** The search engine, with the client of its distribution. */
  engine: Engine;
  guards: Guards;
  close(): Promise<void>;
}

/**
 * Builds the app. Asynchronous because the engine is asked what it is
 * (`GET /`, retried like any call to it) before its client is chosen.
 */
export async function createApp(config: Config, log?: Logger): Promise<App> {
  const logger = log ?? createLogger({ level: config.logLevel, format: config.logFormat, secrets: secretsOf(config) });
  const guards = createGuards(config.retry, logger);
  const prisma = createPrisma(config.databaseUrl, { statementTimeoutMs: config.retry.attemptTimeoutMs });
  let engine: Engine;
  try {
    engine = await connectEngine(config, guards.elasticsearch);
  } catch (error) {
    await prisma.$disconnect().catch(() => {});
    throw error;
  }
  logger.debug("search engine", { ...engine.info });
  return {
    config,
    log: logger,
    prisma,
    engine,
    guards,
    async close() {
      await Promise.allSettled([prisma.$disconnect(), engine.close()]);
    },
  };
}
