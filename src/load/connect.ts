import type { Config } from "../config.ts";
import { ConfigError } from "../errors.ts";
import type { Guard } from "../resilience/policies.ts";
import { detectEngine } from "./detect.ts";
import { Engine } from "./engine.ts";
import { credentialsProblem } from "./engine-quirks.ts";

/**
 * Detects the engine behind ELASTICSEARCH_URL (one `GET /`, under the retry
 * policy), then loads only that distribution's client.
 */
export async function connectEngine(config: Config, guard: Guard): Promise<Engine> {
  const info = await guard((signal) => detectEngine(config.elasticsearch, signal));
  const problem = credentialsProblem(info, config.elasticsearch);
  if (problem) throw new ConfigError([problem]);
  const transport =
    info.distribution === "opensearch"
      ? (await import("./adapters/opensearch.ts")).createOpenSearchTransport(config)
      : (await import("./adapters/elasticsearch.ts")).createElasticsearchTransport(config);
  return new Engine(info, transport);
}
