import { randomBytes } from "node:crypto";
import { loadConfig } from "../../src/config.ts";
import { connectEngine } from "../../src/load/connect.ts";
import type { Engine } from "../../src/load/engine.ts";

/**
 * The engine the tests run against: ELASTICSEARCH_URL, or the local engine on
 * ENGINE_PORT. Either mode of the local engine (bridged or stock OpenSearch),
 * so the helpers below speak plain JSON over `fetch`, which both accept.
 */
export const ELASTICSEARCH_URL = process.env.ELASTICSEARCH_URL ?? `http://127.0.0.1:${process.env.ENGINE_PORT ?? "9200"}`;

/** The ETL's own engine port for that URL (detection and the distribution's client), as the app builds it. */
export async function openEngine(url = ELASTICSEARCH_URL): Promise<Engine> {
  return connectEngine(loadConfig({ ELASTICSEARCH_URL: url }), (call) => call(new AbortController().signal));
}

/** One JSON request; throws on an error status unless it is in `allow`. */
export async function engineRequest<T = Record<string, any>>(
  method: string,
  path: string,
  body?: unknown,
  options: { url?: string; allow?: number[] } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(`${options.url ?? ELASTICSEARCH_URL}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (response.status >= 400 && !(options.allow ?? []).includes(response.status)) {
    throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 500)}`);
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

/** "bridged" when the engine answers as Elasticsearch (the default local engine), "opensearch" otherwise. */
export async function engineMode(url = ELASTICSEARCH_URL): Promise<"bridged" | "opensearch"> {
  const { headers } = await engineRequest("GET", "/", undefined, { url });
  return headers.get("x-elastic-product") === "Elasticsearch" ? "bridged" : "opensearch";
}

/** A fresh alias name for one test; `dropIndices` removes everything under it. */
export function uniqueIndexName(prefix = "movies_test"): string {
  return `${prefix}_${randomBytes(5).toString("hex")}`;
}

export async function dropIndices(alias: string, url = ELASTICSEARCH_URL): Promise<void> {
  const { body } = await engineRequest<Array<{ index?: string }>>("GET", `/_cat/indices/${alias}*?format=json`, undefined, {
    url,
    allow: [404],
  });
  for (const { index } of Array.isArray(body) ? body : []) {
    if (index) await engineRequest("DELETE", `/${index}`, undefined, { url, allow: [404] });
  }
}

/** The concrete indices behind an alias (or the index of that name). */
export async function concreteIndices(alias: string, url = ELASTICSEARCH_URL): Promise<string[]> {
  const { status, body } = await engineRequest("GET", `/${alias}/_alias`, undefined, { url, allow: [404] });
  return status === 404 ? [] : Object.keys(body);
}

export async function indexExists(index: string, url = ELASTICSEARCH_URL): Promise<boolean> {
  return (await concreteIndices(index, url)).length > 0;
}

export async function deleteIndices(indices: string[], url = ELASTICSEARCH_URL): Promise<void> {
  for (const index of indices) await engineRequest("DELETE", `/${index}`, undefined, { url });
}

export async function putSettings(index: string, settings: Record<string, unknown>, url = ELASTICSEARCH_URL): Promise<void> {
  await engineRequest("PUT", `/${index}/_settings`, settings, { url });
}

/** The `_meta` of the index behind `index`. */
export async function mappingMeta(index: string, url = ELASTICSEARCH_URL): Promise<Record<string, unknown>> {
  const { body } = await engineRequest("GET", `/${index}/_mapping`, undefined, { url });
  return (Object.values(body)[0] as { mappings?: { _meta?: Record<string, unknown> } })?.mappings?._meta ?? {};
}

export async function putMappingMeta(index: string, meta: Record<string, unknown>, url = ELASTICSEARCH_URL): Promise<void> {
  await engineRequest("PUT", `/${index}/_mapping`, { _meta: meta }, { url });
}

export async function countDocuments(index: string, url = ELASTICSEARCH_URL): Promise<number> {
  return (await engineRequest<{ count: number }>("GET", `/${index}/_count`, undefined, { url })).body.count;
}

export async function deleteDocument(index: string, id: string, url = ELASTICSEARCH_URL): Promise<void> {
  await engineRequest("DELETE", `/${index}/_doc/${id}?refresh=true`, undefined, { url });
}

export async function updateDocument(index: string, id: string, doc: Record<string, unknown>, url = ELASTICSEARCH_URL): Promise<void> {
  await engineRequest("POST", `/${index}/_update/${id}?refresh=true`, { doc }, { url });
}

export async function indexDocument(index: string, id: string, document: Record<string, unknown>, url = ELASTICSEARCH_URL): Promise<void> {
  await engineRequest("PUT", `/${index}/_doc/${id}?refresh=true`, document, { url });
}

/** A film's title as the index holds it now (a realtime get, no refresh needed); undefined when absent. */
export async function indexedTitle(index: string, id: string, url = ELASTICSEARCH_URL): Promise<string | undefined> {
  const { body } = await engineRequest<{ _source?: { title?: string } }>("GET", `/${index}/_doc/${id}`, undefined, { url, allow: [404] });
  return body?._source?.title;
}

/** Every document in the index (or alias), by id, after a refresh. */
export async function indexedDocuments(alias: string, url = ELASTICSEARCH_URL): Promise<Map<string, unknown>> {
  await engineRequest("POST", `/${alias}/_refresh`, undefined, { url });
  const documents = new Map<string, unknown>();
  let searchAfter: unknown[] | undefined;
  for (;;) {
    const { body } = await engineRequest<{ hits: { hits: Array<{ _id: string; _source: unknown; sort: unknown[] }> } }>(
      "POST",
      `/${alias}/_search`,
      { size: 5000, sort: [{ id: "asc" }], query: { match_all: {} }, ...(searchAfter ? { search_after: searchAfter } : {}) },
      { url },
    );
    const hits = body.hits.hits;
    for (const hit of hits) {
      if (documents.has(hit._id)) throw new Error(`document ${hit._id} returned twice`);
      documents.set(hit._id, hit._source);
    }
    if (hits.length < 5000) return documents;
    searchAfter = hits[hits.length - 1]!.sort;
  }
}
