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
  const memory = bodyMemory.take(chunk.bytes);
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
      ndjson: encodeNdjson(chunk, memory),
    },
    needs("write", index),
    options.signal,
  );
  // Only now: the engine answered, so it has read the whole body. After a
  // failure the memory is left to the collector, never written again while a
  // socket may still be sending it.
  bodyMemory.giveBack(memory);
  return outcomesOf(chunk.actions, response.body);
}

/**
 * Memory for bulk bodies, kept for the next ones. A body of a batch is about
 * 1 MB; allocated afresh, each is a new mapping (the ETL's malloc settings map
 * allocations of 128 KiB or more on their own) whose pages the kernel faults
 * in and zeroes while the documents are written into it, and V8 counts it as
 * new external memory, which brings garbage collections forward. Measured
 * (Node 24, the ETL's flags, 500 real documents): writing them into fresh
 * memory 7.2 µs per document, into memory already used 1.5. Bodies are rounded
 * up to whole MiB so the next batch fits; at most `maxKept` of at most
 * `maxBytes` are kept (as many as are in use at once: the bulk requests in
 * flight and the one being written), larger ones are allocated and dropped.
 */
export class BodyMemory {
  private readonly free: Buffer[] = [];
  private readonly maxKept: number;
  private readonly maxBytes: number;

  constructor(maxKept: number, maxBytes: number) {
    this.maxKept = maxKept;
    this.maxBytes = maxBytes;
  }

  /** Memory of at least `bytes` (its contents are whatever it held before). */
  take(bytes: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i]!.length;
      if (size >= bytes && (best < 0 || size < this.free[best]!.length)) best = i;
    }
    if (best >= 0) return this.free.splice(best, 1)[0]!;
    const rounded = Math.ceil(bytes / MIB) * MIB;
    return Buffer.allocUnsafeSlow(rounded <= this.maxBytes ? rounded : bytes);
  }

  /** Memory no request uses any more: kept for a later body, or dropped. */
  giveBack(memory: Buffer): void {
    if (memory.length <= this.maxBytes && this.free.length < this.maxKept) this.free.push(memory);
  }

  /** How many bodies are kept (for tests). */
  get kept(): number {
    return this.free.length;
  }
}

const MIB = 1024 * 1024;

/** The bulk bodies of this process: up to 4 of up to 4 MiB (a batch's body is ~1 MB; ETL_BULK_CONCURRENCY is 2 by default). */
export const bodyMemory = new BodyMemory(4, 4 * MIB);

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
 * The body as one Buffer written in place: memory outside the JS heap (new,
 * or `memory` from BodyMemory), and no intermediate string or Buffer per
 * document (those were garbage the size of the batch, twice, for the
 * collector to chase).
 */
export function encodeNdjson(chunk: Chunk, memory?: Buffer): Buffer {
  if (memory !== undefined && memory.length < chunk.bytes) throw new Error(`${memory.length} bytes cannot hold a body of ${chunk.bytes}`);
  const body = memory === undefined ? Buffer.allocUnsafe(chunk.bytes) : memory.subarray(0, chunk.bytes);
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
