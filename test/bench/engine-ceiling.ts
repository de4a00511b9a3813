// The engine ceiling: the same documents, precomputed to an ndjson bulk file,
// loaded into a fresh index with the same definition as fast as the engine
// takes them: raw bulk bodies of `bodyBytes`, `concurrency` requests in
// flight, refresh off and no replicas during the load.
import { open } from "node:fs/promises";
import type { Client } from "@elastic/elasticsearch";
import { createIndex, putIndexSettings, refreshIndex, countDocuments, indexDefinition } from "../../src/load/index-admin.ts";
import { openEngine } from "../support/engine.ts";

export interface EngineCeiling {
  docs: number;
  loadS: number;
  docsPerS: number;
}

export interface CeilingSettings {
  bodyBytes: number;
  concurrency: number;
}

export async function measureEngineCeiling(
  client: Client,
  index: string,
  ndjsonPath: string,
  settings: CeilingSettings,
): Promise<EngineCeiling> {
  await client.indices.delete({ index, ignore_unavailable: true });
  const engine = await openEngine();
  await createIndex(engine, index);
  await putIndexSettings(engine, index, { refresh_interval: "-1", number_of_replicas: 0 });

  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  for await (const body of bulkBodies(ndjsonPath, settings.bodyBytes)) {
    if (failure) break;
    const request: Promise<void> = sendBody(client, index, body)
      .catch((error: unknown) => void (failure ??= error))
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
    if (inFlight.size >= settings.concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  const loadS = (performance.now() - started) / 1000;

  const refreshInterval = (indexDefinition().settings as Record<string, unknown>).refresh_interval ?? "1s";
  await putIndexSettings(engine, index, { refresh_interval: refreshInterval });
  await refreshIndex(engine, index);
  const docs = await countDocuments(engine, index);
  await engine.close();
  return { docs, loadS, docsPerS: docs / loadS };
}

async function sendBody(client: Client, index: string, body: Buffer): Promise<void> {
  const response = await client.transport.request<{ errors: boolean; items?: unknown[] }>({
    method: "POST",
    path: `/${index}/_bulk`,
    querystring: { filter_path: "errors,items.*.error" },
    bulkBody: body,
  });
  if (response.errors) throw new Error(`bulk rejected items: ${JSON.stringify(response.items?.slice(0, 2))}`);
}

/** Cuts the file into bodies of about `size` bytes, each ending after a whole document line. */
async function* bulkBodies(path: string, size: number): AsyncGenerator<Buffer> {
  const file = await open(path, "r");
  const marker = Buffer.from('\n{"index":');
  try {
    let carry = Buffer.alloc(0);
    for (;;) {
      const chunk = Buffer.allocUnsafe(size);
      const { bytesRead } = await file.read(chunk, 0, size, null);
      const data = Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
      if (bytesRead === 0) {
        if (data.length > 0) yield data;
        return;
      }
      const cut = data.lastIndexOf(marker);
      if (cut < 0) {
        carry = data;
        continue;
      }
      yield data.subarray(0, cut + 1);
      carry = data.subarray(cut + 1);
    }
  } finally {
    await file.close();
  }
}
