import { Pushgateway } from "prom-client";
import type { SyncMetrics } from "./sync-metrics.ts";

/**
 * A one-shot run's metrics, pushed to a Pushgateway (the standard pattern for
 * batch jobs), grouped by job and index. A successful run replaces its group;
 * a failed one adds to it, so the last success's timestamp survives.
 */
export async function pushMetrics(metrics: SyncMetrics, url: string, succeeded: boolean): Promise<void> {
  const gateway = new Pushgateway(url, { timeout: 10_000 }, succeeded ? metrics.registry : metrics.registryWithoutSuccess());
  const target = { jobName: "movies_etl", groupings: { index: metrics.index } };
  if (succeeded) await gateway.push(target);
  else await gateway.pushAdd(target);
}
