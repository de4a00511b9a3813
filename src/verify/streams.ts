import type { PrismaClient } from "../db/prisma.ts";
import { readFilmBatch, type FilmBatchRow } from "../extract/film-batch.ts";
import { path, type Engine } from "../load/engine.ts";
import { needs } from "../load/privileges.ts";
import type { Guards } from "../resilience/policies.ts";
import type { IdentifiedDocument } from "./compare.ts";

/** Every film's document as the catalogue says it should be, in id order. */
export async function* catalogueDocuments(prisma: PrismaClient, guards: Guards, batchSize: number): AsyncGenerator<IdentifiedDocument> {
  let after: string | null = null;
  for (;;) {
    const from: string | null = after;
    const rows: FilmBatchRow[] = await guards.postgres(() => readFilmBatch(prisma, { kind: "all" }, from, batchSize));
    for (const row of rows) {
      // A row that cannot become a document is a difference to report, not a reason to stop comparing.
      if (row.problem !== null || row.document === null) yield { id: row.id, document: null, problem: row.problem ?? "no document" };
      else yield { id: row.id, document: JSON.parse(row.document) };
    }
    if (rows.length < batchSize) return;
    after = rows[rows.length - 1]!.id;
  }
}

/** Every document in the index, in id order (search_after on the `id` keyword). */
export async function* indexDocuments(
  engine: Engine,
  guards: Guards,
  index: string,
  batchSize: number,
): AsyncGenerator<IdentifiedDocument> {
  let searchAfter: unknown[] | undefined;
  for (;;) {
    const cursor = searchAfter;
    const { body } = await guards.elasticsearch((signal) =>
      engine.request<SearchResponse>(
        {
          method: "POST",
          path: path(index, "_search"),
          body: {
            size: batchSize,
            sort: [{ id: "asc" }],
            ...(cursor ? { search_after: cursor } : {}),
            query: { match_all: {} },
            track_total_hits: false,
          },
        },
        needs("read", index),
        signal,
      ),
    );
    const hits = body.hits?.hits ?? [];
    for (const hit of hits) yield { id: hit._id, document: hit._source ?? null };
    if (hits.length < batchSize) return;
    searchAfter = hits[hits.length - 1]!.sort;
  }
}

interface SearchResponse {
  hits?: { hits?: Array<{ _id: string; _source?: Record<string, unknown>; sort?: unknown[] }> };
}
