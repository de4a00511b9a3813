import { IndexBlockedError, PermissionDeniedError } from "../errors.ts";

/** 429 and 503 blocks (flood stage in recent versions, a recovering cluster) pass as they are: the policy retries them. */
function isTransientStatus(status: number): boolean {
  return status === 429 || status === 503;
}

/**
 * The search engine as the ETL sees it: one request at a time, answered or
 * failed with our own error types, whatever the distribution and its client.
 * The operations (index administration, bulk, paging) are written once on top
 * of this, in plain REST that Elasticsearch 8/9 and OpenSearch 2 share.
 */

export type Distribution = "elasticsearch" | "opensearch";

export interface EngineInfo {
  distribution: Distribution;
  /** `version.number` of `GET /`. */
  version: string;
  /** Elastic Cloud serverless (`version.build_flavor: "serverless"`). */
  serverless: boolean;
}

export interface EngineRequest {
  method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  path: string;
  querystring?: Record<string, string | number | boolean | undefined>;
  /** A JSON body. */
  body?: unknown;
  /** An NDJSON body (bulk), sent as it is. */
  ndjson?: Buffer;
  /** Statuses that are answers rather than errors (e.g. 404 for a lookup). */
  ignore?: number[];
}

export interface EngineResponse<T> {
  status: number;
  body: T;
}

/** What one distribution's client provides; errors come out as the types below. */
export interface EngineTransport {
  request<T>(request: EngineRequest, signal?: AbortSignal): Promise<EngineResponse<T>>;
  close(): Promise<void>;
}

/** Thrown by the loader when some bulk items failed with a transient status. */
export class TransientBulkItemsError extends Error {
  readonly count: number;
  readonly sample: string;
  constructor(count: number, sample: string) {
    super(`${count} bulk item(s) failed transiently, e.g. ${sample}`);
    this.count = count;
    this.sample = sample;
    this.name = "TransientBulkItemsError";
  }
}

/**
 * A client library's error as this port's: a refusal (status and body) as the
 * engine's error, a failure to reach the engine as EngineConnectionError,
 * anything else as it is. The adapters say which of their errors is which.
 */
export function engineErrorOf(error: unknown, refusal: { status: number; body: unknown } | null, unreachable: boolean): unknown {
  if (refusal) return engineErrorFromBody(refusal.status, refusal.body);
  if (unreachable) return new EngineConnectionError((error as Error).message, { cause: error });
  return error;
}

/** The engine answered with an error status. */
export class EngineResponseError extends Error {
  readonly status: number;
  readonly type: string | undefined;
  readonly reason: string | undefined;
  constructor(status: number, type: string | undefined, reason: string | undefined) {
    super(`${status} ${type ?? "error"}${reason ? `: ${reason}` : ""}`);
    this.name = "EngineResponseError";
    this.status = status;
    this.type = type;
    this.reason = reason;
  }
}

/** The index (or alias) the request named does not exist. */
export function isIndexNotFound(error: unknown): boolean {
  return error instanceof EngineResponseError && error.status === 404 && error.type === "index_not_found_exception";
}

/** The error of a response body, in either engine's shape (`{error: {type, reason}}` or `{error: "..."}`). */
export function engineErrorFromBody(status: number, body: unknown): EngineResponseError {
  const error = (body as { error?: { type?: string; reason?: string } | string } | null | undefined)?.error;
  if (typeof error === "string") return new EngineResponseError(status, undefined, error);
  return new EngineResponseError(status, error?.type, error?.reason);
}

/** No answer: connection refused or reset, timeout, aborted request. */
export class EngineConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EngineConnectionError";
  }
}

/** What a request needs the role to grant, for the message when it does not. */
export interface Privilege {
  /** The privilege to grant, as a role definition names it. */
  privilege: string;
  /** The index or alias it is needed on; absent for cluster privileges. */
  index?: string;
}

export class Engine {
  readonly info: EngineInfo;
  private readonly transport: EngineTransport;

  constructor(info: EngineInfo, transport: EngineTransport) {
    this.info = info;
    this.transport = transport;
  }

  /**
   * Sends a request. A refusal for lack of a privilege (403
   * `security_exception`) becomes a PermissionDeniedError naming `needs`:
   * retrying cannot help, the role must change.
   */
  async request<T>(request: EngineRequest, needs: Privilege, signal?: AbortSignal): Promise<EngineResponse<T>> {
    try {
      return await this.transport.request<T>(request, signal);
    } catch (error) {
      if (error instanceof EngineResponseError && error.type === "cluster_block_exception" && !isTransientStatus(error.status)) {
        throw new IndexBlockedError(needs.index, `${request.method} ${request.path}`, error.reason ?? error.message);
      }
      if (error instanceof EngineResponseError && isMissingPrivilege(error)) {
        throw new PermissionDeniedError({
          engine: this.info.distribution,
          privilege: needs.privilege,
          index: needs.index,
          request: `${request.method} ${request.path}`,
          reason: error.reason ?? error.message,
        });
      }
      throw error;
    }
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

export function isMissingPrivilege(error: { status: number; type?: string }): boolean {
  return error.status === 403 && (error.type === undefined || error.type === "security_exception");
}

/** `/a/b` from path segments, each encoded. */
export function path(...segments: string[]): string {
  return "/" + segments.map(encodeURIComponent).join("/");
}
