// The SQL ceiling: the ETL's own film-batch query (readFilmBatch, selection
// "all") paged through the whole catalogue, nothing done with the rows but an
// optional copy to an ndjson bulk file for the engine ceiling. Only the time
// spent waiting for the queries counts.
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { createPrisma } from "../../src/db/prisma.ts";
import { readFilmBatch, type FilmBatchLimits } from "../../src/extract/film-batch.ts";

export interface SqlCeiling {
  docs: number;
  queryS: number;
  docsPerS: number;
  bytes: number;
}

export async function measureSqlCeiling(databaseUrl: string, limits: FilmBatchLimits, ndjsonPath?: string): Promise<SqlCeiling> {
  const prisma = createPrisma(databaseUrl, { statementTimeoutMs: 600_000 });
  const out = ndjsonPath ? createWriteStream(ndjsonPath) : null;
  let docs = 0;
  let bytes = 0;
  let queryMs = 0;
  try {
    let after: string | null = null;
    for (;;) {
      const started = performance.now();
      const { rows, more } = await readFilmBatch(prisma, { kind: "all" }, after, limits);
      queryMs += performance.now() - started;
      if (rows.length === 0) break;
      docs += rows.length;
      if (out) {
        let chunk = "";
        for (const row of rows) if (row.document) chunk += `{"index":{"_id":${JSON.stringify(row.id)}}}\n${row.document}\n`;
        bytes += Buffer.byteLength(chunk);
        if (!out.write(chunk)) await once(out, "drain");
      }
      after = rows[rows.length - 1]!.id;
      if (!more) break;
    }
  } finally {
    if (out) {
      out.end();
      await once(out, "finish");
    }
    await prisma.$disconnect();
  }
  const queryS = queryMs / 1000;
  return { docs, queryS, docsPerS: docs / queryS, bytes };
}
