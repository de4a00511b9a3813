import type { LogFormat, LogLevel } from "./config.ts";

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const REDACTED = "[REDACTED]";
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s]*)(@)/gi;

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Literal values (passwords, API keys) scrubbed from every line. */
  secrets: string[];
  write?: (line: string) => void;
  isTty?: boolean;
}

/**
 * JSON lines for machines, short readable lines on a terminal. Every line is
 * scrubbed of the configured secrets and of passwords inside URLs, wherever
 * they appear (messages, fields, error texts).
 */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const pretty = options.format === "pretty" || (options.format === "auto" && (options.isTty ?? Boolean(process.stderr.isTTY)));
  const minRank = LEVEL_RANK[options.level];
  const scrub = scrubber(options.secrets);

  const emit = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (LEVEL_RANK[level] < minRank) return;
    const time = new Date().toISOString();
    const line = pretty
      ? `${time.slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${message}${formatPretty(fields)}`
      : JSON.stringify({ time, level, msg: message, ...normalize(fields) });
    write(scrub(line));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

export function scrubber(secrets: string[]): (text: string) => string {
  const literals = [...new Set(secrets.filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
  const jsonEscaped = literals.map((s) => JSON.stringify(s).slice(1, -1));
  return (text) => {
    let out = text.replace(URL_CREDENTIALS, `$1${REDACTED}$3`);
    for (const secret of [...literals, ...jsonEscaped]) out = out.split(secret).join(REDACTED);
    return out;
  };
}

function normalize(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = value instanceof Error ? { name: value.name, message: value.message } : value;
  }
  return out;
}

function formatPretty(fields: LogFields): string {
  const parts = Object.entries(normalize(fields)).map(([key, value]) => {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return `${key}=${text}`;
  });
  return parts.length > 0 ? `  ${parts.join(" ")}` : "";
}

/** A logger that drops everything, for library callers who want silence. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
