import { isTransientHttpStatus } from "../resilience/transient.ts";
import { path, type Engine } from "./engine.ts";
import { needs } from "./privileges.ts";

/** One change to the index: a film document to (re)write, or a film to remove. */
export type IndexAction = { kind: "index"; id: string; document: string } | { kind: "delete"; id: string };

export interface ItemOutcome {
  action: IndexAction;
  ok: boolean;
  status: number;
  /** Worth sending again (429, 5xx from a busy node). */
  transient: boolean;
  /** The engine's error type, e.g. `mapper_parsing_exception`, `cluster_block_exception`. */
  errorType?: string;
  reason?: string;
}

export interface BulkOptions {
  maxBytes: number;
  /**
   * Refuse to write unless `index` is an alias: without it, a write to an
   * alias someone deleted would silently create a plain index of that name.
   */
  requireAlias?: boolean;
  /**
   * Writes carry this external version (`external_gte`): the fencing token of
   * the run's lock. A run that lost its lock, and whose writes arrive after
   * the next owner's, is refused by the engine (409) instead of overwriting
   * newer documents with older ones.
   */
  version?: number;
  signal?: AbortSignal;
}

/**
 * Sends actions in bulk requests of at most `maxBytes` and returns the outcome
 * of every item. It never throws for an item: deciding what a failed item
 * means is the caller's job. A failed request (connection, 5xx) does throw.
 */
export async function writeBulk(engine: Engine, index: string, actions: IndexAction[], options: BulkOptions): Promise<ItemOutcome[]> {
  const outcomes: ItemOutcome[] = [];
  for (const chunk of chunkByBytes(actions, options.maxBytes, options.version)) {
    outcomes.push(...(await sendChunk(engine, index, chunk, options)));
  }
  return outcomes;
}

async function sendChunk(engine: Engine, index: string, chunk: Chunk, options: BulkOptions): Promise<ItemOutcome[]> {
  if (chunk.actions.length === 0) return [];
  // The documents arrive as JSON text from SQL: sending them as-is through the
  // transport avoids a parse and a re-serialise of every document.
  const response = await engine.request<BulkResponseShape>(
    {
      method: "POST",
      path: path(index, "_bulk"),
      querystring: {
        filter_path: "items.*.status,items.*.error",
        ...(options.requireAlias ? { require_alias: "true" } : {}),
      },
      ndjson: encodeNdjson(chunk),
    },
    needs("write", index),
    options.signal,
  );
  return outcomesOf(chunk.actions, response.body);
}

export interface BulkResponseShape {
  errors?: boolean;
  items?: Array<Record<string, { status: number; error?: { type?: string; reason?: string } }>>;
}

export function outcomesOf(actions: IndexAction[], response: BulkResponseShape): ItemOutcome[] {
  const items = response.items ?? [];
  return actions.map((action, i) => {
    const item = items[i] ? Object.values(items[i]!)[0] : undefined;
    const status = item?.status ?? 0;
    // A delete of a document that is not there is done; a 404 with an error
    // (index_not_found_exception) is not.
    const deletedAlready = action.kind === "delete" && status === 404 && !item?.error;
    const ok = (status >= 200 && status < 300) || deletedAlready;
    if (ok) return { action, ok, status, transient: false };
    const reason = item?.error ? `${item.error.type ?? "error"}: ${item.error.reason ?? ""}`.trim() : "no result for this item";
    return { action, ok, status, transient: status === 0 || isTransientHttpStatus(status), errorType: item?.error?.type, reason };
  });
}

export interface Chunk {
  actions: IndexAction[];
  /** The exact size of the chunk's NDJSON body. */
  bytes: number;
  version: number | undefined;
}

function actionLine(action: IndexAction, version: number | undefined): string {
  const versioned = version === undefined ? "" : `,"version":${version},"version_type":"external_gte"`;
  return `{"${action.kind}":{"_id":${JSON.stringify(action.id)}${versioned}}}\n`;
}

function ndjsonBytes(action: IndexAction, version: number | undefined): number {
  const line = Buffer.byteLength(actionLine(action, version));
  return action.kind === "index" ? line + Buffer.byteLength(action.document) + 1 : line;
}

/**
 * The body as one Buffer written in place: memory outside the JS heap, freed
 * with the request, and no intermediate string or Buffer per document (those
 * were garbage the size of the batch, twice, for the collector to chase).
 */
export function encodeNdjson(chunk: Chunk): Buffer {
  const body = Buffer.allocUnsafe(chunk.bytes);
  let offset = 0;
  for (const action of chunk.actions) {
    offset += body.write(actionLine(action, chunk.version), offset, "utf8");
    if (action.kind === "index") {
      offset += body.write(action.document, offset, "utf8");
      body[offset++] = 0x0a;
    }
  }
  if (offset !== chunk.bytes) throw new Error(`bulk body is ${offset} bytes, expected ${chunk.bytes}`);
  return body;
}

export function* chunkByBytes(actions: IndexAction[], maxBytes: number, version: number | undefined): Generator<Chunk> {
  let chunk: IndexAction[] = [];
  let bytes = 0;
  for (const action of actions) {
    const size = ndjsonBytes(action, version);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield { actions: chunk, bytes, version };
      chunk = [];
      bytes = 0;
    }
    chunk.push(action);
    bytes += size;
  }
  if (chunk.length > 0) yield { actions: chunk, bytes, version };
}
