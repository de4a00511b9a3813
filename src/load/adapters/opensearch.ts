import { Client, errors } from "@opensearch-project/opensearch";
import type { Config } from "../../config.ts";
import { engineErrorOf, type EngineTransport } from "../engine.ts";

/**
 * Stock OpenSearch (no Elasticsearch emulation) through OpenSearch's official
 * client `@opensearch-project/opensearch`: its connection pool, basic auth and
 * error types. Retries are ours, so the client's own are off.
 */
export function createOpenSearchTransport(config: Config): EngineTransport {
  const { url, username, password } = config.elasticsearch;
  const client = new Client({
    node: url,
    auth: username && password ? { username, password } : undefined,
    maxRetries: 0,
    requestTimeout: config.retry.attemptTimeoutMs + 5_000,
  });
  return {
    async request(request, signal) {
      signal?.throwIfAborted();
      const pending = client.transport.request(
        {
          method: request.method,
          path: request.path,
          querystring: request.querystring,
          body: request.body as Record<string, unknown> | undefined,
          bulkBody: request.ndjson,
        },
        { ignore: request.ignore, maxRetries: 0 },
      );
      // This client takes no AbortSignal; its promise has abort().
      const abort = () => pending.abort();
      signal?.addEventListener("abort", abort, { once: true });
      try {
        const result = await pending;
        return { status: result.statusCode ?? 0, body: result.body as never };
      } catch (error) {
        throw normalise(error);
      } finally {
        signal?.removeEventListener("abort", abort);
      }
    },
    close: () => client.close(),
  };
}

const UNREACHABLE = [errors.ConnectionError, errors.TimeoutError, errors.NoLivingConnectionsError, errors.RequestAbortedError];

function normalise(error: unknown): unknown {
  const refusal = error instanceof errors.ResponseError ? { status: error.meta.statusCode ?? 0, body: error.meta.body } : null;
  return engineErrorOf(
    error,
    refusal,
    UNREACHABLE.some((type) => error instanceof type),
  );
}
