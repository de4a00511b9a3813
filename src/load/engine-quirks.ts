import type { Config } from "../config.ts";
import type { EngineInfo } from "./engine.ts";

/**
 * Everything that differs between the engines the ETL supports, in one place.
 * The requests themselves are the same REST calls on Elasticsearch 8/9,
 * serverless and OpenSearch 2; what differs is which settings each accepts
 * and how it takes credentials.
 *
 * Elastic Cloud serverless manages shards and replicas itself: it refuses any
 * `number_of_replicas`, and a `refresh_interval` under 5s (`-1` is allowed);
 * it keeps to a subset of index settings, which `gc_deletes` is not part of.
 */
const SERVERLESS_MIN_REFRESH_MS = 5_000;

/** The index settings to send at creation: the definition's, less what this engine refuses. */
export function creationSettings(info: EngineInfo, settings: Record<string, unknown>): Record<string, unknown> {
  if (!info.serverless) return settings;
  const sent: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    const name = key.replace(/^index\./, "");
    // gc_deletes is not among the index settings serverless lets users set.
    if (name === "number_of_replicas" || name === "auto_expand_replicas" || name === "gc_deletes") continue;
    if (name === "index" && value && typeof value === "object") {
      sent[key] = creationSettings(info, value as Record<string, unknown>);
      continue;
    }
    if (name === "refresh_interval") {
      const ms = timeValueMs(value);
      if (ms !== null && ms >= 0 && ms < SERVERLESS_MIN_REFRESH_MS) {
        sent[key] = "5s";
        continue;
      }
    }
    sent[key] = value;
  }
  return sent;
}

/**
 * The settings a full load runs with (refresh off, no replicas), or null where
 * the engine manages them itself and they are left alone (serverless).
 */
export function bulkLoadSettings(info: EngineInfo): { refresh_interval: string; number_of_replicas: number } | null {
  return info.serverless ? null : { refresh_interval: "-1", number_of_replicas: 0 };
}

/** Whether `number_of_replicas` may be set at all (reindex copies the old index's count). */
export function replicasConfigurable(info: EngineInfo): boolean {
  return !info.serverless;
}

/** A credential this engine cannot take, as a problem to report; null when fine. */
export function credentialsProblem(info: EngineInfo, settings: Config["elasticsearch"]): string | null {
  if (info.distribution === "opensearch" && settings.apiKey) {
    return "ELASTICSEARCH_API_KEY: OpenSearch has no Elasticsearch API keys; use ELASTICSEARCH_USERNAME/PASSWORD";
  }
  if (info.serverless && (settings.username || new URL(settings.url).username)) {
    return "ELASTICSEARCH_USERNAME: Elastic Cloud serverless has no basic auth; create an API key and set ELASTICSEARCH_API_KEY";
  }
  return null;
}

/** `"1s"`, `"500ms"`, `"-1"`, `2000` → milliseconds; null when not a time value. */
export function timeValueMs(value: unknown): number | null {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return null;
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*(nanos|micros|ms|s|m|h|d)?\s*$/.exec(value);
  if (!match) return null;
  const units: Record<string, number> = { nanos: 1e-6, micros: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Number(match[1]) * units[match[2] ?? "ms"]!;
}
