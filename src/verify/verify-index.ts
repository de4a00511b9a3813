import type { PrismaClient } from "../db/prisma.ts";
import { readFilmPageEnd, type FilmBatchLimits } from "../extract/film-batch.ts";
import type { Engine } from "../load/engine.ts";
import { IndexDiffersError } from "../errors.ts";
import { refreshIndex, resolveIndex } from "../load/index-admin.ts";
import type { Guards } from "../resilience/policies.ts";
import { compareOrderedStreams, type Difference } from "./compare.ts";
import { catalogueDocuments, indexDocuments } from "./streams.ts";

export interface VerifyReport {
  checked: number;
  missing: string[];
  extra: string[];
  different: Array<{ id: string; fields: string[] }>;
  /** Catalogue rows that cannot become a document, with the reason. */
  unindexable: Array<{ id: string; reason: string }>;
  /** True when more differences exist than were listed. */
  truncated: boolean;
}

/**
 * Computes every document from the catalogue and compares it with the index.
 * At most `listLimit` differences of each kind are kept; the counts are exact.
 */
export async function verifyIndex(
  deps: { prisma: PrismaClient; engine: Engine; guards: Guards; index: string; limits: FilmBatchLimits },
  listLimit = 1000,
): Promise<VerifyReport & { counts: Record<Difference["kind"], number> }> {
  const { prisma, engine, guards, index, limits } = deps;
  const target = await guards.elasticsearch((signal) => resolveIndex(engine, index, signal));
  if (!target) throw new IndexDiffersError(`the index ${index} does not exist: run a sync to create and fill it`);
  await guards.elasticsearch((signal) => refreshIndex(engine, index, signal));
  const report: VerifyReport & { counts: Record<Difference["kind"], number> } = {
    checked: 0,
    missing: [],
    extra: [],
    different: [],
    unindexable: [],
    truncated: false,
    counts: { missing: 0, extra: 0, different: 0, unindexable: 0 },
  };
  const expected = countingStream(catalogueDocuments(prisma, guards, limits), () => report.checked++);
  for await (const difference of compareOrderedStreams(
    expected,
    indexDocuments(engine, guards, index, limits, (after) => readFilmPageEnd(prisma, after, limits)),
  )) {
    report.counts[difference.kind]++;
    const list = difference.kind === "missing" ? report.missing : difference.kind === "extra" ? report.extra : null;
    if (list) {
      if (list.length < listLimit) list.push(difference.id);
      else report.truncated = true;
    } else if (difference.kind === "unindexable") {
      if (report.unindexable.length < listLimit) report.unindexable.push({ id: difference.id, reason: difference.reason ?? "" });
      else report.truncated = true;
    } else if (report.different.length < listLimit) {
      report.different.push({ id: difference.id, fields: difference.fields ?? [] });
    } else report.truncated = true;
  }
  return report;
}

async function* countingStream<T>(source: AsyncIterable<T>, onItem: () => void): AsyncGenerator<T> {
  for await (const item of source) {
    onItem();
    yield item;
  }
}

export function isInStep(report: { counts: Record<Difference["kind"], number> }): boolean {
  return Object.values(report.counts).every((count) => count === 0);
}
