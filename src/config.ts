import { ConfigError } from "./errors.ts";

import { SOURCE_TABLES, type SourceTable } from "./catalogue-tables.ts";

export { SOURCE_TABLES, type SourceTable };

export type LogFormat = "auto" | "json" | "pretty";
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface RetryConfig {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  attemptTimeoutMs: number;
  breakerThreshold: number;
  breakerHalfOpenAfterMs: number;
}

export interface Config {
  databaseUrl: string;
  elasticsearch: {
    url: string;
    index: string;
    apiKey?: string;
    username?: string;
    password?: string;
  };
  tables: SourceTable[];
  /** Films per batch: one SQL query and one bulk request each. */
  batchSize: number;
  /** A batch ends early once its films' text reaches this many bytes. */
  batchMaxBytes: number;
  /** Changed rows read per table (and per change-log read) for one window. */
  changeBatchSize: number;
  /** Rows whose `modified` is younger than this are left for the next cycle. */
  commitLagMs: number;
  /** Largest bulk request body before a batch is split. */
  bulkMaxBytes: number;
  /** Film batches written at once; the film cursor only moves past a prefix of acknowledged ones. */
  bulkConcurrency: number;
  /**
   * A changed genre or person linked to more films than this is rewritten as a
   * fan-out, in slices between windows, so small changes do not wait behind
   * it; 0 keeps every change in its window.
   */
  largeFanOutFilms: number;
  /** How long a fan-out slice writes before the cycle looks for new changes again. */
  fanOutSliceMs: number;
  /**
   * The share of the time (percent) a watcher's fan-outs may write: after a
   * slice the lane rests, so the engine's refreshes keep up and fresh changes
   * stay fast. One-shot runs do not rest.
   */
  fanOutDutyPct: number;
  retry: RetryConfig;
  watchIntervalS: number;
  /** How long a watcher gathers change notifications into one cycle. */
  watchDebounceMs: number;
  /**
   * An index whose state has not moved for this long no longer holds the
   * change log's pruning back; should it come back, it loads in full.
   */
  consumerRetentionH: number;
  /** Prometheus endpoint of `--watch` (`/metrics`, `/healthz`); 0 turns it off. */
  metricsPort: number;
  /** Where a one-shot run pushes its metrics, if anywhere. */
  pushgatewayUrl?: string;
  shutdownTimeoutS: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

export const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/movies";
export const DEFAULT_ELASTICSEARCH_URL = "http://127.0.0.1:9200";

type Env = Record<string, string | undefined>;

/** Names of every variable the service reads, for docs and manifests. */
export const ENV_VARIABLES = [
  "DATABASE_URL",
  "ELASTICSEARCH_URL",
  "ELASTICSEARCH_INDEX",
  "ELASTICSEARCH_API_KEY",
  "ELASTICSEARCH_USERNAME",
  "ELASTICSEARCH_PASSWORD",
  "ETL_TABLES",
  "ETL_BATCH_SIZE",
  "ETL_BATCH_MAX_BYTES",
  "ETL_CHANGE_BATCH_SIZE",
  "ETL_COMMIT_LAG_MS",
  "ETL_BULK_MAX_BYTES",
  "ETL_BULK_CONCURRENCY",
  "ETL_LARGE_FANOUT_FILMS",
  "ETL_FANOUT_SLICE_MS",
  "ETL_FANOUT_DUTY_PCT",
  "ETL_RETRY_MAX_ATTEMPTS",
  "ETL_RETRY_INITIAL_DELAY_MS",
  "ETL_RETRY_MAX_DELAY_MS",
  "ETL_ATTEMPT_TIMEOUT_MS",
  "ETL_WATCH_INTERVAL_S",
  "ETL_WATCH_DEBOUNCE_MS",
  "METRICS_PORT",
  "ETL_CONSUMER_RETENTION_H",
  "PUSHGATEWAY_URL",
  "ETL_SHUTDOWN_TIMEOUT_S",
  "ETL_LOG_LEVEL",
  "ETL_LOG_FORMAT",
] as const;

/** The variables whose values are secrets: in a Kubernetes Secret, never in a ConfigMap or a log line. */
export const SECRET_ENV_VARIABLES = ["DATABASE_URL", "ELASTICSEARCH_API_KEY", "ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD"] as const;

/** Reads and validates the configuration, reporting every problem at once. */
export function loadConfig(env: Env = readProcessEnv(), overrides: Env = {}): Config {
  const source: Env = { ...env, ...definedOnly(overrides) };
  const problems: string[] = [];
  const read = new Reader(source, problems);

  const databaseUrl = read.url("DATABASE_URL", DEFAULT_DATABASE_URL, ["postgres:", "postgresql:"]);
  const esUrl = read.url("ELASTICSEARCH_URL", DEFAULT_ELASTICSEARCH_URL, ["http:", "https:"]);
  const index = read.string("ELASTICSEARCH_INDEX", "movies");
  if (!/^[a-z0-9][a-z0-9_.-]{0,200}$/.test(index)) {
    problems.push(`ELASTICSEARCH_INDEX="${index}": use lowercase letters, digits, '_', '-', '.', starting with a letter or digit`);
  }
  const apiKey = source.ELASTICSEARCH_API_KEY || undefined;
  const username = source.ELASTICSEARCH_USERNAME || undefined;
  const password = source.ELASTICSEARCH_PASSWORD || undefined;
  if (Boolean(username) !== Boolean(password)) {
    problems.push("ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD must be set together");
  }
  if (apiKey && username) {
    problems.push("set either ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/PASSWORD, not both");
  }

  const tables = read.list("ETL_TABLES", [...SOURCE_TABLES], SOURCE_TABLES);

  const config: Config = {
    databaseUrl,
    elasticsearch: { url: esUrl, index, apiKey, username, password },
    tables,
    batchSize: read.integer("ETL_BATCH_SIZE", 500, 1, 10_000),
    batchMaxBytes: read.integer("ETL_BATCH_MAX_BYTES", 2 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    changeBatchSize: read.integer("ETL_CHANGE_BATCH_SIZE", 1000, 1, 100_000),
    commitLagMs: read.integer("ETL_COMMIT_LAG_MS", 2000, 0, 86_400_000),
    bulkMaxBytes: read.integer("ETL_BULK_MAX_BYTES", 10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    bulkConcurrency: read.integer("ETL_BULK_CONCURRENCY", 2, 1, 8),
    largeFanOutFilms: read.integer("ETL_LARGE_FANOUT_FILMS", 1000, 0, 100_000_000),
    fanOutSliceMs: read.integer("ETL_FANOUT_SLICE_MS", 100, 1, 600_000),
    fanOutDutyPct: read.integer("ETL_FANOUT_DUTY_PCT", 25, 1, 100),
    retry: {
      maxAttempts: read.integer("ETL_RETRY_MAX_ATTEMPTS", 6, 0, 100),
      initialDelayMs: read.integer("ETL_RETRY_INITIAL_DELAY_MS", 200, 1, 60_000),
      maxDelayMs: read.integer("ETL_RETRY_MAX_DELAY_MS", 10_000, 1, 600_000),
      attemptTimeoutMs: read.integer("ETL_ATTEMPT_TIMEOUT_MS", 60_000, 100, 3_600_000),
      breakerThreshold: 10,
      breakerHalfOpenAfterMs: 5_000,
    },
    watchIntervalS: read.integer("ETL_WATCH_INTERVAL_S", 60, 1, 86_400),
    watchDebounceMs: read.integer("ETL_WATCH_DEBOUNCE_MS", 100, 0, 60_000),
    metricsPort: read.integer("METRICS_PORT", 9464, 0, 65_535),
    consumerRetentionH: read.integer("ETL_CONSUMER_RETENTION_H", 168, 1, 87_600),
    pushgatewayUrl: source.PUSHGATEWAY_URL?.trim() ? read.url("PUSHGATEWAY_URL", "", ["http:", "https:"]) : undefined,
    shutdownTimeoutS: read.integer("ETL_SHUTDOWN_TIMEOUT_S", 10, 1, 3600),
    logLevel: read.oneOf("ETL_LOG_LEVEL", "info", LOG_LEVELS),
    logFormat: read.oneOf("ETL_LOG_FORMAT", "auto", ["auto", "json", "pretty"] as const),
  };
  if (config.retry.initialDelayMs > config.retry.maxDelayMs) {
    problems.push("ETL_RETRY_INITIAL_DELAY_MS must not exceed ETL_RETRY_MAX_DELAY_MS");
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The log format asked for, even when the rest of the configuration is invalid. */
export function requestedLogFormat(env: Env): LogFormat {
  const requested = env.ETL_LOG_FORMAT?.trim();
  return requested === "json" || requested === "pretty" ? requested : "auto";
}

/** Values that must never reach a log line. */
export function secretsOf(config: Config): string[] {
  const secrets = [config.elasticsearch.apiKey, config.elasticsearch.password];
  for (const url of [config.databaseUrl, config.elasticsearch.url, config.pushgatewayUrl ?? ""]) {
    try {
      const parsed = new URL(url);
      if (parsed.password) secrets.push(parsed.password, decodeURIComponent(parsed.password));
    } catch {
      // an unparsable URL was already reported as a config problem
    }
  }
  return secrets.filter((s): s is string => typeof s === "string" && s.length > 0);
}

function readProcessEnv(): Env {
  return process.env;
}

function definedOnly(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
}

class Reader {
  private readonly env: Env;
  private readonly problems: string[];

  constructor(env: Env, problems: string[]) {
    this.env = env;
    this.problems = problems;
  }

  string(name: string, fallback: string): string {
    const value = this.env[name]?.trim();
    return value ? value : fallback;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    const value = this.string(name, fallback);
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        this.problems.push(`${name}: expected a ${protocols.join(" or ")} URL, got "${parsed.protocol}"`);
      }
    } catch {
      this.problems.push(`${name} is not a valid URL`);
    }
    return value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    // Plain decimal digits only: Number() would also take "0x10" as 16 and "1e1" as 10.
    const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name}="${raw}": expected an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name}="${raw}": expected one of ${allowed.join(", ")}`);
      return fallback;
    }
    return raw as T;
  }

  list<T extends string>(name: string, fallback: T[], allowed: readonly T[]): T[] {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    const items = raw
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = items.filter((item) => !(allowed as readonly string[]).includes(item));
    if (unknown.length > 0 || items.length === 0) {
      this.problems.push(`${name}="${raw}": allowed tables are ${allowed.join(", ")}`);
      return fallback;
    }
    return [...new Set(items)] as T[];
  }
}
