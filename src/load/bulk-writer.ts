import type { Client } from "@elastic/elasticsearch";
import { isTransientHttpStatus } from "../resilience/transient.ts";

/** One change to the index: a film document to (re)write, or a film to remove. */
export type IndexAction = { kind: "index"; id: string; document: string } | { kind: "delete"; id: string };

export interface ItemOutcome {
  action: IndexAction;
  ok: boolean;
  status: number;
  /** Worth sending again (429, 5xx from a busy node). */
  transient: boolean;
  reason?: string;
}

/**
 * Sends actions in bulk requests of at most `maxBytes` and returns the outcome
 * of every item. It never throws for an item: deciding what a failed item
 * means is the caller's job. A failed request (connection, 5xx) does throw.
 */
export async function writeBulk(
  client: Client,
  index: string,
  actions: IndexAction[],
  options: { maxBytes: number; signal?: AbortSignal },
): Promise<ItemOutcome[]> {
  const outcomes: ItemOutcome[] = [];
  for (const chunk of chunkByBytes(actions, options.maxBytes)) {
    outcomes.push(...(await sendChunk(client, index, chunk, options.signal)));
  }
  return outcomes;
}

async function sendChunk(client: Client, index: string, chunk: Chunk, signal?: AbortSignal): Promise<ItemOutcome[]> {
  if (chunk.actions.length === 0) return [];
  // The documents arrive as JSON text from SQL: sending them as-is through the
  // transport avoids a parse and a re-serialise of every document.
  const response = await client.transport.request<BulkResponseShape>(
    {
      method: "POST",
      path: `/${encodeURIComponent(index)}/_bulk`,
      querystring: { filter_path: "items.*.status,items.*.error" },
      bulkBody: encodeNdjson(chunk),
    },
    { signal },
  );
  return outcomesOf(chunk.actions, response);
}

interface BulkResponseShape {
  errors?: boolean;
  items?: Array<Record<string, { status: number; error?: { type?: string; reason?: string } }>>;
}

function outcomesOf(actions: IndexAction[], response: BulkResponseShape): ItemOutcome[] {
  const items = response.items ?? [];
  return actions.map((action, i) => {
    const item = items[i] ? Object.values(items[i]!)[0] : undefined;
    const status = item?.status ?? 0;
    const deletedAlready = action.kind === "delete" && status === 404;
    const ok = (status >= 200 && status < 300) || deletedAlready;
    if (ok) return { action, ok, status, transient: false };
    const reason = item?.error ? `${item.error.type ?? "error"}: ${item.error.reason ?? ""}`.trim() : "no result for this item";
    return { action, ok, status, transient: status === 0 || isTransientHttpStatus(status), reason };
  });
}

interface Chunk {
  actions: IndexAction[];
  /** The exact size of the chunk's NDJSON body. */
  bytes: number;
}

function actionLine(action: IndexAction): string {
  return `{"${action.kind}":{"_id":${JSON.stringify(action.id)}}}\n`;
}

function ndjsonBytes(action: IndexAction): number {
  const line = Buffer.byteLength(actionLine(action));
  return action.kind === "index" ? line + Buffer.byteLength(action.document) + 1 : line;
}

/**
 * The body as one Buffer written in place: memory outside the JS heap, freed
 * with the request, and no intermediate string or Buffer per document (those
 * were garbage the size of the batch, twice, for the collector to chase).
 */
function encodeNdjson(chunk: Chunk): Buffer {
  const body = Buffer.allocUnsafe(chunk.bytes);
  let offset = 0;
  for (const action of chunk.actions) {
    offset += body.write(actionLine(action), offset, "utf8");
    if (action.kind === "index") {
      offset += body.write(action.document, offset, "utf8");
      body[offset++] = 0x0a;
    }
  }
  if (offset !== chunk.bytes) throw new Error(`bulk body is ${offset} bytes, expected ${chunk.bytes}`);
  return body;
}

function* chunkByBytes(actions: IndexAction[], maxBytes: number): Generator<Chunk> {
  let chunk: IndexAction[] = [];
  let bytes = 0;
  for (const action of actions) {
    const size = ndjsonBytes(action);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield { actions: chunk, bytes };
      chunk = [];
      bytes = 0;
    }
    chunk.push(action);
    bytes += size;
  }
  if (chunk.length > 0) yield { actions: chunk, bytes };
}
