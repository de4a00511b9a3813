// A checksum of the whole catalogue content: md5 over the ordered rows of the
// five content tables, computed in SQL. Rows are hashed in buckets of their id's
// first two hex digits so a multi-million-row table never builds one huge string.
import pg from "pg";

import { CATALOGUE_TABLES } from "../../src/catalogue-tables.ts";

export const checksummedTables = CATALOGUE_TABLES;

export interface TableChecksum {
  rows: number;
  md5: string;
}

export interface CatalogueChecksum {
  /** md5 of the per-table checksums, in table order. */
  md5: string;
  tables: Record<(typeof checksummedTables)[number], TableChecksum>;
}

export async function catalogueChecksum(databaseUrl: string): Promise<CatalogueChecksum> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("BEGIN READ ONLY");
    // A row's text depends on these settings: pin them.
    await client.query("SET LOCAL TimeZone = 'UTC'");
    await client.query("SET LOCAL DateStyle = 'ISO, YMD'");
    await client.query("SET LOCAL extra_float_digits = 1");
    const tables = {} as Record<(typeof checksummedTables)[number], TableChecksum>;
    for (const table of checksummedTables) {
      const result = await client.query<{ rows: string; md5: string }>(
        `WITH buckets AS (
           SELECT left(t.id::text, 2) AS bucket, count(*) AS rows, md5(string_agg(t::text, E'\\n' ORDER BY t.id)) AS digest
           FROM "content"."${table}" t GROUP BY 1
         )
         SELECT coalesce(sum(rows), 0)::text AS rows,
                md5(coalesce(string_agg(bucket || ':' || digest, E'\\n' ORDER BY bucket), '')) AS md5
         FROM buckets`,
      );
      const row = result.rows[0]!;
      tables[table] = { rows: Number(row.rows), md5: row.md5 };
    }
    await client.query("COMMIT");
    const summary = checksummedTables.map((table) => `${table}:${tables[table].rows}:${tables[table].md5}`).join("\n");
    const combined = await client.query<{ md5: string }>("SELECT md5($1) AS md5", [summary]);
    return { md5: combined.rows[0]!.md5, tables };
  } finally {
    await client.end();
  }
}
