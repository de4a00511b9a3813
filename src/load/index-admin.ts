import { ConfigError } from "../errors.ts";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { path, type Engine } from "./engine.ts";
import { creationSettings, replicasConfigurable } from "./engine-quirks.ts";
import { DEFINITION_KEY, readMeta } from "./index-meta.ts";
import { INDEX_PRIVILEGES, needs } from "./privileges.ts";

export interface IndexDefinition {
  settings: Record<string, unknown>;
  mappings: Record<string, unknown>;
}

/** The index settings and mappings, kept as data beside this module. */
export function indexDefinition(): IndexDefinition {
  return JSON.parse(readFileSync(new URL("./movies-index.json", import.meta.url), "utf8"));
}

/**
 * A short hash of the definition (canonical JSON: keys sorted), kept in the
 * mapping's `_meta` of every index the ETL creates. An index whose hash differs
 * was built from another definition and keeps its old analysis until rebuilt.
 */
export function definitionHash(definition: IndexDefinition = indexDefinition()): string {
  return createHash("sha256").update(canonicalJson(definition)).digest("hex").slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Whether the live index was built from the definition file; `found` is null for an index from before the hash. */
export interface DefinitionCheck {
  current: boolean;
  expected: string;
  found: string | null;
}

export async function checkDefinition(engine: Engine, index: string, signal?: AbortSignal): Promise<DefinitionCheck> {
  const meta = await readMeta(engine, index, signal);
  const found = typeof meta[DEFINITION_KEY] === "string" ? (meta[DEFINITION_KEY] as string) : null;
  const expected = definitionHash();
  return { current: found === expected, expected, found };
}

/** The warning `status` and every sync give for an index built from another definition. */
export function definitionWarning(index: string, check: DefinitionCheck): string {
  const built = check.found ? `from another definition (${check.found})` : "before the definition was recorded";
  return (
    `the index behind ${index} was built ${built}, not from src/load/movies-index.json (${check.expected}): ` +
    "its analysis and mappings stay as they were until it is rebuilt: run `reindex`"
  );
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

/** Every index named like one `reindex` builds for `alias`, whether or not the alias points at it. */
export async function versionedIndices(engine: Engine, alias: string, signal?: AbortSignal): Promise<string[]> {
  const { body } = await engine.request<Record<string, unknown>>(
    { method: "GET", path: path(`${alias}_*`, "_alias"), querystring: { allow_no_indices: true, expand_wildcards: "open,closed" } },
    needs("metadata", `${alias}_*`),
    signal,
  );
  return Object.keys(body)
    .filter((name) => isVersionedIndexOf(alias, name))
    .sort();
}

/** The concrete index behind a name (an alias or an index), with the uuid that tells a recreated index apart. */
export interface IndexIdentity {
  name: string;
  uuid: string;
}

/** Null when nothing answers to `name`; an error when an alias points at several indices. */
export async function identifyIndex(engine: Engine, name: string, signal?: AbortSignal): Promise<IndexIdentity | null> {
  const settings = await flatSettings(engine, name, "index.uuid", signal);
  const entries = Object.entries(settings);
  if (entries.length === 0) return null;
  if (entries.length > 1) {
    throw new ConfigError([
      `ELASTICSEARCH_INDEX=${name} is an alias of ${entries.length} indices (${entries.map(([index]) => index).join(", ")}): ` +
        "the ETL writes to exactly one; point the alias at one (POST /_aliases)",
    ]);
  }
  const [index, values] = entries[0]!;
  const uuid = values["index.uuid"];
  if (typeof uuid !== "string") throw new Error(`${index} has no index.uuid setting`);
  return { name: index, uuid };
}

/** Settings of every index behind `name`, flat (`index.refresh_interval`); `{}` when nothing answers to it. */
export async function flatSettings(
  engine: Engine,
  name: string,
  setting: string,
  signal?: AbortSignal,
): Promise<Record<string, Record<string, unknown>>> {
  const { body } = await engine.request<Record<string, { settings?: Record<string, unknown> }>>(
    {
      method: "GET",
      path: path(name, "_settings", setting),
      querystring: { flat_settings: true, ignore_unavailable: true, allow_no_indices: true },
    },
    needs("metadata", name),
    signal,
  );
  return Object.fromEntries(Object.entries(body).map(([index, value]) => [index, value.settings ?? {}]));
}

export interface IndexTarget {
  /** The name readers and the ETL use: an alias, or a plain index of an older install. */
  name: string;
  /** The concrete index or indices behind it. */
  indices: string[];
  /** Where `name` is itself a concrete index: the aliases that point at it. */
  aliasesOfIndex?: string[];
}

export async function resolveIndex(engine: Engine, name: string, signal?: AbortSignal): Promise<IndexTarget | null> {
  const { status, body } = await engine.request<Record<string, { aliases?: Record<string, unknown> }>>(
    { method: "GET", path: path(name, "_alias"), ignore: [404] },
    needs("metadata", name),
    signal,
  );
  if (status === 404) return null;
  const indices = Object.keys(body);
  const own = body[name];
  return own && indices.length === 1 ? { name, indices, aliasesOfIndex: Object.keys(own.aliases ?? {}) } : { name, indices };
}

/** Creates a concrete index from the definition (settings this engine accepts), optionally behind an alias. */
export async function createIndex(engine: Engine, index: string, options: { alias?: string; signal?: AbortSignal } = {}): Promise<void> {
  const definition = indexDefinition();
  const privilege = options.alias
    ? { privilege: `${INDEX_PRIVILEGES.createIndex}, ${INDEX_PRIVILEGES.aliases}`, index: `${index}, ${options.alias}` }
    : needs("createIndex", index);
  await engine.request(
    {
      method: "PUT",
      path: path(index),
      body: {
        settings: creationSettings(engine.info, definition.settings),
        mappings: { ...definition.mappings, _meta: { [DEFINITION_KEY]: definitionHash(definition) } },
        ...(options.alias ? { aliases: { [options.alias]: {} } } : {}),
      },
    },
    privilege,
    options.signal,
  );
}

/** Points `alias` at `index` and away from every other index, in one atomic call. */
export async function swapAlias(
  engine: Engine,
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
  await engine.request({ method: "POST", path: "/_aliases", body: { actions } }, needs("aliases", alias), signal);
}

/** Deletes a concrete index (never an alias: the engine refuses that). */
export async function deleteIndex(engine: Engine, index: string, signal?: AbortSignal): Promise<void> {
  await engine.request({ method: "DELETE", path: path(index), ignore: [404] }, needs("deleteIndex", index), signal);
}

export async function countDocuments(engine: Engine, index: string, signal?: AbortSignal): Promise<number> {
  const { body } = await engine.request<{ count: number }>({ method: "GET", path: path(index, "_count") }, needs("read", index), signal);
  return body.count;
}

export async function refreshIndex(engine: Engine, index: string, signal?: AbortSignal): Promise<void> {
  await engine.request({ method: "POST", path: path(index, "_refresh") }, needs("refresh", index), signal);
}

export async function putIndexSettings(
  engine: Engine,
  index: string,
  settings: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<void> {
  await engine.request({ method: "PUT", path: path(index, "_settings"), body: settings }, needs("putSettings", index), signal);
}

/** An index named like the alias, not an alias: an install from before aliases (or the Python ETL's). */
export function isPlainIndex(target: IndexTarget): boolean {
  return target.indices.length === 1 && target.indices[0] === target.name;
}

export function plainIndexProblem(alias: string, target?: IndexTarget): string {
  const aliases = target?.aliasesOfIndex ?? [];
  if (aliases.length > 0) {
    return (
      `ELASTICSEARCH_INDEX=${alias} names a concrete index that the alias ${aliases.join(", ")} points at: ` +
      `set ELASTICSEARCH_INDEX=${aliases[0]} (readers use the alias; the ETL writes through it and replaces the index behind it on reindex)`
    );
  }
  return (
    `ELASTICSEARCH_INDEX=${alias} names a plain index, not an alias (an install from before aliases): ` +
    "deleted during a run, it would be re-created by the engine with a guessed mapping. " +
    `Run \`reindex\` once: it builds ${alias}_<time> and puts the alias ${alias} in its place atomically`
  );
}

/** Gives `to` the replica count of `from` (an operator may have tuned it), where the engine lets replicas be set. */
export async function adoptReplicas(engine: Engine, from: string, to: string, signal?: AbortSignal): Promise<void> {
  if (!replicasConfigurable(engine.info)) return;
  const settings = await flatSettings(engine, from, "index.number_of_replicas", signal);
  const value = Object.values(settings)[0]?.["index.number_of_replicas"];
  if (value !== undefined) await putIndexSettings(engine, to, { number_of_replicas: Number(value) }, signal);
}

/** Makes sure `alias` resolves; on first use creates a versioned index behind it. */
export async function ensureIndex(engine: Engine, alias: string, signal?: AbortSignal): Promise<IndexTarget> {
  const existing = await resolveIndex(engine, alias, signal);
  if (existing) return existing;
  const index = versionedIndexName(alias);
  await createIndex(engine, index, { alias, signal });
  return { name: alias, indices: [index] };
}
