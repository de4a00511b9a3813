import { BrokenCircuitError, TaskCancelledError } from "cockatiel";
import { EtlError } from "../errors.ts";
import { EngineConnectionError, EngineResponseError, TransientBulkItemsError } from "../load/engine.ts";

/**
 * Which failures are worth retrying. Everything not listed here (a SQL error,
 * a mapping rejection, a bad request) is terminal and surfaces at once.
 */

/** SQLSTATE classes and codes that mean "try again", not "you are wrong". */
const TRANSIENT_SQLSTATE_CLASSES = ["08"]; // connection exception
const TRANSIENT_SQLSTATES = new Set([
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "53300", // too_many_connections
  "57014", // query_canceled (statement_timeout)
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
]);
const TRANSIENT_ADAPTER_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
  "TransactionAlreadyClosed",
]);
// P2028: an interactive transaction could not start or ran out of time (a busy pool).
const TRANSIENT_PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2028"]);
const TRANSIENT_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
const TRANSIENT_HTTP_STATUSES = new Set([429, 502, 503, 504]);

export function isTransientPostgresError(error: unknown): boolean {
  // Our own verdicts (a lost lock, a vanished index) are final, whatever caused them.
  if (error instanceof EtlError) return false;
  for (const e of causeChain(error)) {
    const code = stringProp(e, "code");
    if (code && TRANSIENT_PRISMA_CODES.has(code)) return true;
    if (code && TRANSIENT_NODE_CODES.has(code)) return true;
    if (code && /^[0-9A-Z]{5}$/.test(code)) {
      if (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_SQLSTATE_CLASSES.includes(code.slice(0, 2))) return true;
    }
    const kind = stringProp(e, "kind");
    if (kind && TRANSIENT_ADAPTER_KINDS.has(kind)) return true;
    const message = stringProp(e, "message") ?? "";
    if (/Connection terminated|connection timeout|Can't reach database server/i.test(message)) return true;
  }
  return false;
}

/**
 * The engine's errors arrive normalised by its adapter (`src/load/adapters/`),
 * so Elasticsearch and OpenSearch are judged alike.
 */
export function isTransientElasticsearchError(error: unknown): boolean {
  if (error instanceof EtlError) return false;
  if (error instanceof TransientBulkItemsError) return true;
  if (error instanceof EngineConnectionError) return true;
  if (error instanceof EngineResponseError) return TRANSIENT_HTTP_STATUSES.has(error.status);
  return [...causeChain(error)].some((e) => {
    const code = stringProp(e, "code");
    return code !== undefined && TRANSIENT_NODE_CODES.has(code);
  });
}

export function isTransientHttpStatus(status: number): boolean {
  return TRANSIENT_HTTP_STATUSES.has(status);
}

/** Faults of the policy itself: the attempt timed out or the circuit is open. */
export function isPolicyFault(error: unknown): boolean {
  return error instanceof BrokenCircuitError || error instanceof TaskCancelledError;
}

function* causeChain(error: unknown): Generator<Record<string, unknown>> {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current && typeof current === "object"; depth++) {
    const record = current as Record<string, unknown>;
    yield record;
    const meta = record.meta as Record<string, unknown> | undefined;
    const adapterError = meta?.driverAdapterError as Record<string, unknown> | undefined;
    if (adapterError) yield* causeChain(adapterError);
    current = record.cause;
  }
}

function stringProp(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === "string" ? value : undefined;
}
