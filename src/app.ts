import type { Client } from "@elastic/elasticsearch";
import { secretsOf, type Config } from "./config.ts";
import { createPrisma, type PrismaClient } from "./db/prisma.ts";
import { createElasticsearchClient } from "./load/client.ts";
import { createLogger, type Logger } from "./log.ts";
import { createGuards, type Guards } from "./resilience/policies.ts";

/** The long-lived parts every command shares. */
export interface App {
  config: Config;
  log: Logger;
  prisma: PrismaClient;
  elasticsearch: Client;
  guards: Guards;
  close(): Promise<void>;
}

export function createApp(config: Config, log?: Logger): App {
  const logger = log ?? createLogger({ level: config.logLevel, format: config.logFormat, secrets: secretsOf(config) });
  const prisma = createPrisma(config.databaseUrl, { statementTimeoutMs: config.retry.attemptTimeoutMs });
  const elasticsearch = createElasticsearchClient(config);
  return {
    config,
    log: logger,
    prisma,
    elasticsearch,
    guards: createGuards(config.retry, logger),
    async close() {
      await Promise.allSettled([prisma.$disconnect(), elasticsearch.close()]);
    },
  };
}
