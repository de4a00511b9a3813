import type { Config } from "../config.ts";
import { ConfigError, PermissionDeniedError } from "../errors.ts";
import { EngineConnectionError, engineErrorFromBody, type EngineInfo } from "./engine.ts";
import { CLUSTER_PRIVILEGE } from "./privileges.ts";

type EngineSettings = Config["elasticsearch"];

/** Node's and OpenSSL's codes for a handshake that cannot succeed as configured. */
const TLS_FAILURE =
  /^(ERR_SSL_|ERR_TLS_|EPROTO$|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT)/;

/**
 * Asks the engine what it is (`GET /`) before any client is loaded, so that
 * only the client of that distribution is: plain `fetch`, with the same
 * credentials the client will send.
 */
export async function detectEngine(settings: EngineSettings, signal?: AbortSignal): Promise<EngineInfo> {
  const { url, headers } = request(settings);
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { headers, signal });
    text = await response.text();
  } catch (error) {
    if (signal?.aborted) throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    // A TLS failure does not pass with time: https against a plain-http engine, or a certificate not trusted.
    if (cause?.code && TLS_FAILURE.test(cause.code)) {
      throw new ConfigError([
        `ELASTICSEARCH_URL=${new URL(settings.url).origin}: TLS failed (${cause.code}): check http:// against https://, or set NODE_EXTRA_CA_CERTS if the engine's certificate is not trusted`,
      ]);
    }
    throw new EngineConnectionError(`GET / failed: ${cause?.code ?? cause?.message ?? (error as Error).message}`, { cause: error });
  }
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: identifyEngine says what answered
  }
  return identifyEngine({ status: response.status, productHeader: response.headers.get("x-elastic-product"), body });
}

/**
 * The decision, from what `GET /` returned. Elasticsearch is whatever sends
 * Elastic's product header (the check its own client makes on every answer);
 * OpenSearch says so in `version.distribution`.
 */
export function identifyEngine(answer: { status: number; productHeader: string | null; body: unknown }): EngineInfo {
  const { status, productHeader, body } = answer;
  const elastic = productHeader === "Elasticsearch";
  if (status === 401) {
    throw new ConfigError([
      `ELASTICSEARCH_URL refused the credentials (${engineErrorFromBody(status, body).message}): check ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/PASSWORD`,
    ]);
  }
  if (status === 403) {
    throw new PermissionDeniedError({
      engine: elastic ? "elasticsearch" : "the engine",
      privilege: CLUSTER_PRIVILEGE,
      request: "GET /",
      reason: engineErrorFromBody(status, body).message,
    });
  }
  // A busy or starting engine (429, 5xx) is worth waiting for; any other refusal means the URL is wrong.
  if (status >= 300 && status !== 429 && status < 500) {
    throw new ConfigError([
      `ELASTICSEARCH_URL answers GET / with ${engineErrorFromBody(status, body).message}: point it at the search engine's root`,
    ]);
  }
  if (status >= 300) throw engineErrorFromBody(status, body);

  const version = (body as { version?: { number?: unknown; distribution?: unknown; build_flavor?: unknown } } | null)?.version;
  const number = typeof version?.number === "string" ? version.number : "";
  if (elastic) {
    const major = Number(number.split(".")[0]);
    if (!(major === 8 || major === 9)) {
      throw new ConfigError([`ELASTICSEARCH_URL is Elasticsearch ${number || "(no version)"}: supported are 8.x and 9.x (and serverless)`]);
    }
    return { distribution: "elasticsearch", version: number, serverless: version?.build_flavor === "serverless" };
  }
  if (version?.distribution === "opensearch") return { distribution: "opensearch", version: number, serverless: false };
  throw new ConfigError([
    `ELASTICSEARCH_URL answers GET / (${status}) but not as Elasticsearch 8/9 or OpenSearch: point it at the search engine`,
  ]);
}

/** The root URL and headers, with credentials from the URL or the variables (fetch takes none in the URL). */
function request(settings: EngineSettings): { url: URL; headers: Record<string, string> } {
  const url = new URL(settings.url);
  const headers: Record<string, string> = { accept: "application/json" };
  const username = settings.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = settings.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  url.username = "";
  url.password = "";
  if (settings.apiKey) headers.authorization = `ApiKey ${settings.apiKey}`;
  else if (username && password) headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return { url, headers };
}
