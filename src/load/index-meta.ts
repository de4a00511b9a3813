import { path, type Engine } from "./engine.ts";
import { needs } from "./privileges.ts";

/**
 * The ETL's keys in the index mapping's `_meta`. Elasticsearch and OpenSearch
 * replace `_meta` whole on every mapping update, so every write here reads
 * it first and keeps the keys an operator (or another tool) put there.
 */
export const DEFINITION_KEY = "movies_etl_definition";
export const BULK_LOAD_KEY = "movies_etl_bulk_load";

export type Meta = Record<string, unknown>;

/** `current` with `patch` applied: a key set to undefined is removed, every other key is kept. */
export function mergeMeta(current: Meta, patch: Record<string, unknown>): Meta {
  const merged: Meta = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/** The `_meta` of the index behind `index` (an index or an alias of one). */
export async function readMeta(engine: Engine, index: string, signal?: AbortSignal): Promise<Meta> {
  const { body } = await engine.request<Record<string, { mappings?: { _meta?: Meta } }>>(
    { method: "GET", path: path(index, "_mapping") },
    needs("metadata", index),
    signal,
  );
  return Object.values(body)[0]?.mappings?._meta ?? {};
}

export async function updateMeta(engine: Engine, index: string, patch: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
  const current = await readMeta(engine, index, signal);
  const merged = mergeMeta(current, patch);
  if (JSON.stringify(merged) === JSON.stringify(current)) return;
  await engine.request({ method: "PUT", path: path(index, "_mapping"), body: { _meta: merged } }, needs("putMapping", index), signal);
}
