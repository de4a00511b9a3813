import type { Client } from "@elastic/elasticsearch";
import type { PrismaClient } from "../db/prisma.ts";
import { readFilmBatch, type FilmBatchRow } from "../extract/film-batch.ts";
import type { Guards } from "../resilience/policies.ts";
import type { IdentifiedDocument } from "./compare.ts";

/** Every film's document as the catalogue says it should be, in id order. */
export async function* catalogueDocuments(
  prisma: PrismaClient,
  guards: Guards,
  batchSize: number,
): AsyncGenerator<IdentifiedDocument> {
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
  client: Client,
  guards: Guards,
  index: string,
  batchSize: number,
): AsyncGenerator<IdentifiedDocument> {
  let searchAfter: string[] | undefined;
  for (;;) {
    const cursor = searchAfter;
    const response = await guards.elasticsearch((signal) =>
      client.search<Record<string, unknown>>(
        {
          index,
          size: batchSize,
          sort: [{ id: "asc" }],
          search_after: cursor,
          query: { match_all: {} },
          track_total_hits: false,
        },
        { signal },
      ),
    );
    const hits = response.hits.hits;
    for (const hit of hits) yield { id: hit._id!, document: hit._source ?? null };
    if (hits.length < batchSize) return;
    searchAfter = hits[hits.length - 1]!.sort as string[];
  }
}
