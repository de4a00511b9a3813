import { Client } from "@elastic/elasticsearch";
import type { Config } from "../config.ts";

/**
 * The Elasticsearch client. Retries are ours (cockatiel policies), so the
 * client's own are off; its timeout is above the per-attempt timeout.
 */
export function createElasticsearchClient(config: Config): Client {
  const { url, apiKey, username, password } = config.elasticsearch;
  return new Client({
    node: url,
    auth: apiKey ? { apiKey } : username && password ? { username, password } : undefined,
    maxRetries: 0,
    requestTimeout: config.retry.attemptTimeoutMs + 5_000,
    compression: false,
  });
}

export type { Client as ElasticsearchClient };
