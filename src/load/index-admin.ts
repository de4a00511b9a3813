import { readFileSync } from "node:fs";
import type { Client } from "@elastic/elasticsearch";

/** The index settings and mappings, kept as data beside this module. */
export function indexDefinition(): { settings: Record<string, unknown>; mappings: Record<string, unknown> } {
  return JSON.parse(readFileSync(new URL("./movies-index.json", import.meta.url), "utf8"));
}

/** `movies` -> `movies_20261129t101500123z`: the concrete index behind the alias. */
export function versionedIndexName(alias: string, now: Date = new Date()): string {
  return `${alias}_${now.toISOString().replace(/[-:.]/g, "").toLowerCase()}`;
}

/** True for a name `versionedIndexName(alias)` could have made. */
export function isVersionedIndexOf(alias: string, name: string): boolean {
  const suffix = name.startsWith(`${alias}_`) ? name.slice(alias.length + 1) : "";
  return /^\d{8}t\d{9}z$/.test(suffix);
}

/** The concrete index behind a name (an alias or an index), with the uuid that tells a recreated index apart. */
export interface IndexIdentity {
  name: string;
  uuid: string;
}

/** Null when nothing answers to `name`; an error when an alias points at several indices. */
export async function identifyIndex(client: Client, name: string, signal?: AbortSignal): Promise<IndexIdentity | null> {
  const response = await client.indices.getSettings(
    { index: name, name: "index.uuid", flat_settings: true, ignore_unavailable: true, allow_no_indices: true },
    { signal },
  );
  const entries = Object.entries(response);
  if (entries.length === 0) return null;
  if (entries.length > 1) {
    throw new Error(`${name} points at ${entries.length} indices (${entries.map(([index]) => index).join(", ")}); the ETL writes to exactly one`);
  }
  const [index, body] = entries[0]!;
  const uuid = (body.settings as Record<string, unknown> | undefined)?.["index.uuid"];
  if (typeof uuid !== "string") throw new Error(`${index} has no index.uuid setting`);
  return { name: index, uuid };
}

export interface IndexTarget {
  /** The name readers and the ETL use: an alias, or a plain index of an older install. */
  name: string;
  /** The concrete index or indices behind it. */
  indices: string[];
}

export async function resolveIndex(client: Client, name: string, signal?: AbortSignal): Promise<IndexTarget | null> {
  const exists = await client.indices.exists({ index: name }, { signal });
  if (!exists) return null;
  const response = await client.indices.get({ index: name }, { signal });
  return { name, indices: Object.keys(response) };
}

/** Creates a concrete index from the definition, optionally behind an alias. */
export async function createIndex(
  client: Client,
  index: string,
  options: { alias?: string; signal?: AbortSignal } = {},
): Promise<void> {
  const definition = indexDefinition();
  await client.indices.create(
    {
      index,
      settings: definition.settings,
      mappings: definition.mappings,
      aliases: options.alias ? { [options.alias]: {} } : undefined,
    },
    { signal: options.signal },
  );
}

/** Points `alias` at `index` and away from every other index, in one atomic call. */
export async function swapAlias(
  client: Client,
  alias: string,
  index: string,
  previous: IndexTarget | null,
  signal?: AbortSignal,
): Promise<void> {
  const actions: Array<Record<string, unknown>> = [];
  const aliasIsIndex = previous !== null && previous.indices.length === 1 && previous.indices[0] === alias;
  if (aliasIsIndex) {
    // An install from before aliases: the old index has the alias's name and
    // must go in the same atomic call for the alias to take its place.
    actions.push({ remove_index: { index: alias } });
  } else {
    for (const old of previous?.indices ?? []) if (old !== index) actions.push({ remove: { index: old, alias } });
  }
  actions.push({ add: { index, alias } });
  await client.indices.updateAliases({ actions }, { signal });
}

export async function countDocuments(client: Client, index: string, signal?: AbortSignal): Promise<number> {
  const response = await client.count({ index }, { signal });
  return response.count;
}

export async function refreshIndex(client: Client, index: string, signal?: AbortSignal): Promise<void> {
  await client.indices.refresh({ index }, { signal });
}

export async function putIndexSettings(
  client: Client,
  index: string,
  settings: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<void> {
  await client.indices.putSettings({ index, settings }, { signal });
}

/** Makes sure `alias` resolves; on first use creates a versioned index behind it. */
export async function ensureIndex(client: Client, alias: string, signal?: AbortSignal): Promise<IndexTarget> {
  const existing = await resolveIndex(client, alias, signal);
  if (existing) return existing;
  const index = versionedIndexName(alias);
  await createIndex(client, index, { alias, signal });
  return { name: alias, indices: [index] };
}
