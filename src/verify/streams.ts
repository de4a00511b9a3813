import type { PrismaClient } from "../db/prisma.ts";
import { readFilmBatch, type FilmBatch, type FilmBatchLimits } from "../extract/film-batch.ts";
import { path, type Engine } from "../load/engine.ts";
import { needs } from "../load/privileges.ts";
import type { Guards } from "../resilience/policies.ts";
import type { IdentifiedDocument } from "./compare.ts";

/** Every film's document as the catalogue says it should be, in id order. */
export async function* catalogueDocuments(
  prisma: PrismaClient,
  guards: Guards,
  limits: FilmBatchLimits,
): AsyncGenerator<IdentifiedDocument> {
  let after: string | null = null;
  for (;;) {
    const from: string | null = after;
    const { rows, more }: FilmBatch = await guards.postgres(() => readFilmBatch(prisma, { kind: "all" }, from, limits));
    for (const row of rows) {
      // A row that cannot become a document is a difference to report, not a reason to stop comparing.
      if (row.problem !== null || row.document === null) yield { id: row.id, document: null, problem: row.problem ?? "no document" };
      else yield { id: row.id, document: JSON.parse(row.document) };
    }
    if (!more || rows.length === 0) return;
    after = rows[rows.length - 1]!.id;
  }
}

/** Where the catalogue's next page after a film ends (readFilmPageEnd). */
export type PageEnd = (afterId: string | null) => Promise<{ lastId: string | null; more: boolean }>;

/**
 * Every document in the index, in id order, read by the same id ranges as the
 * catalogue's byte-budgeted pages, so a page of long documents stays as small
 * on this side as on that one. Within a range: search_after on the `id` keyword
 * (whose order is the uuid's), at most `limits.films` hits a request.
 */
export async function* indexDocuments(
  engine: Engine,
  guards: Guards,
  index: string,
  limits: Pick<FilmBatchLimits, "films">,
  pageEnd: PageEnd,
): AsyncGenerator<IdentifiedDocument> {
  let after: string | null = null;
  let catalogueLeft = true;
  for (;;) {
    let upTo: string | null = null;
    if (catalogueLeft) {
      const from: string | null = after;
      const end: Awaited<ReturnType<PageEnd>> = await guards.postgres(() => pageEnd(from));
      upTo = end.lastId;
      catalogueLeft = end.more && end.lastId !== null;
    }
    yield* indexRange(engine, guards, index, limits.films, { after, upTo });
    if (upTo === null) return;
    after = upTo;
  }
}

/** The index's documents with ids in (after, upTo]; open-ended where null. */
async function* indexRange(
  engine: Engine,
  guards: Guards,
  index: string,
  size: number,
  range: { after: string | null; upTo: string | null },
): AsyncGenerator<IdentifiedDocument> {
  const bounds = { ...(range.after !== null ? { gt: range.after } : {}), ...(range.upTo !== null ? { lte: range.upTo } : {}) };
  let searchAfter: unknown[] | undefined;
  for (;;) {
    const cursor = searchAfter;
    const { body } = await guards.elasticsearch((signal) =>
      engine.request<SearchResponse>(
        {
          method: "POST",
          path: path(index, "_search"),
          body: {
            size,
            sort: [{ id: "asc" }],
            ...(cursor ? { search_after: cursor } : {}),
            query: Object.keys(bounds).length > 0 ? { range: { id: bounds } } : { match_all: {} },
            track_total_hits: false,
          },
        },
        needs("read", index),
        signal,
      ),
    );
    const hits = body.hits?.hits ?? [];
    for (const hit of hits) yield { id: hit._id, document: hit._source ?? null };
    const last = hits[hits.length - 1];
    if (hits.length < size || !last) return;
    searchAfter = last.sort;
  }
}

interface SearchResponse {
  hits?: { hits?: Array<{ _id: string; _source?: Record<string, unknown>; sort?: unknown[] }> };
}
