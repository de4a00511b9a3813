// A fresh start for a bench phase: no index behind the alias, no sync state.
import type { Client } from "@elastic/elasticsearch";
import pg from "pg";

/** No index behind the alias, no sync state, no pending change log: the next run is a full load. */
export async function freshStart(es: Client, databaseUrl: string, alias: string): Promise<void> {
  await deleteAliasIndices(es, alias);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DELETE FROM content.etl_state WHERE name LIKE $1`, [`${alias}:%`]);
    await client.query(`TRUNCATE content.etl_change`);
  } finally {
    await client.end();
  }
}

export async function deleteAliasIndices(es: Client, alias: string): Promise<void> {
  const indices = Object.keys(await es.indices.getAlias({ name: alias }).catch(() => ({})));
  for (const index of indices) await es.indices.delete({ index });
}
