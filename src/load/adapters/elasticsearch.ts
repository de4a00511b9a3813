import { Client, errors } from "@elastic/elasticsearch";
import type { Config } from "../../config.ts";
import { engineErrorOf, type EngineTransport } from "../engine.ts";

/**
 * Elasticsearch 8 and 9 (and serverless) through the official
 * `@elastic/elasticsearch` 8.x client: its connection pool, auth, product
 * check and `compatible-with=8` headers, unmodified. Retries are ours
 * (cockatiel policies), so the client's own are off.
 */
export function createElasticsearchTransport(config: Config): EngineTransport {
  const { url, apiKey, username, password } = config.elasticsearch;
  const client = new Client({
    node: url,
    auth: apiKey ? { apiKey } : username && password ? { username, password } : undefined,
    maxRetries: 0,
    requestTimeout: config.retry.attemptTimeoutMs + 5_000,
    compression: false,
    // The default ("replace") deep-copies a failed request's diagnostics into its error, bulk body
    // included: a Buffer becomes an object of one property per byte, ~110 bytes of heap each, so
    // one failed 1 MB bulk request exhausted the ETL's 56 MB heap. "remove" drops the headers
    // (credentials) and the connection from the error and copies nothing.
    redaction: { type: "remove" },
  });
  return {
    async request(request, signal) {
      try {
        const result = await client.transport.request(
          {
            method: request.method,
            path: request.path,
            querystring: request.querystring,
            body: request.body as Record<string, unknown> | undefined,
            bulkBody: request.ndjson,
          },
          { signal, ignore: request.ignore, meta: true },
        );
        return { status: result.statusCode ?? 0, body: result.body as never };
      } catch (error) {
        throw normalise(error);
      }
    },
    close: () => client.close(),
  };
}

const UNREACHABLE = [errors.ConnectionError, errors.TimeoutError, errors.NoLivingConnectionsError, errors.RequestAbortedError];

function normalise(error: unknown): unknown {
  const refusal = error instanceof errors.ResponseError ? { status: error.statusCode ?? 0, body: error.meta.body } : null;
  return engineErrorOf(
    error,
    refusal,
    UNREACHABLE.some((type) => error instanceof type),
  );
}
