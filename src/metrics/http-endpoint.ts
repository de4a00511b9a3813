import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError } from "../errors.ts";
import type { SyncMetrics } from "./sync-metrics.ts";

export interface MetricsEndpoint {
  port: number;
  close(): Promise<void>;
}

/**
 * `/metrics` in the Prometheus text format and `/healthz`: healthy while a
 * batch was acknowledged or a cycle finished within `healthyWithinMs` (counted
 * from start-up until the first one), so a long first full load that makes
 * progress stays healthy and a stuck watcher does not.
 */
export async function serveMetrics(
  metrics: SyncMetrics,
  options: { port: number; host?: string; healthyWithinMs: number },
): Promise<MetricsEndpoint> {
  const startedMs = Date.now();
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET") {
      response.writeHead(405).end();
    } else if (path === "/metrics") {
      metrics.text().then(
        (text) => response.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500, { "content-type": "text/plain" }).end(`${String(error)}\n`),
      );
    } else if (path === "/healthz") {
      const idleMs = metrics.sinceProgressMs() ?? Date.now() - startedMs;
      const healthy = idleMs <= options.healthyWithinMs;
      response
        .writeHead(healthy ? 200 : 503, { "content-type": "text/plain" })
        .end(healthy ? "ok\n" : `no progress for ${Math.round(idleMs / 1000)} s\n`);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EADDRINUSE" && error.code !== "EACCES") return reject(error);
      const why = error.code === "EADDRINUSE" ? "another process listens there" : "this process may not listen there";
      reject(new ConfigError([`METRICS_PORT=${options.port}: ${why}; choose a free port, or 0 to serve no metrics`]));
    });
    server.listen(options.port, options.host ?? "0.0.0.0", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
