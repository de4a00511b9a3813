// `npx tsx test/bench/near-real-time-only.ts [--films N]`: the bench's near-real-time phase alone
// (a full sync first, then --watch under the writer), for comparing its settings without the whole bench.
// BENCH_NRT_GENRE_RENAMES=0 leaves the genre renames out of the writer's mix.
import { parseArgs } from "node:util";
import { Client } from "@elastic/elasticsearch";
import { DEFAULT_DATABASE_URL } from "../../src/config.ts";
import { ensureCatalogue } from "./catalogues.ts";
import { runEtl } from "./etl-process.ts";
import { deleteAliasIndices, freshStart } from "./fresh-start.ts";
import { measureNearRealTime } from "./near-real-time.ts";

const log = (line: string) => process.stderr.write(`[nrt ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const { values } = parseArgs({ options: { films: { type: "string" } } });
const films = Number(values.films ?? 1_000_000);
const esUrl = process.env.ELASTICSEARCH_URL || "http://127.0.0.1:9200";
const es = new Client({ node: esUrl, maxRetries: 0, requestTimeout: 600_000 });
const databaseUrl = await ensureCatalogue(process.env.DATABASE_URL || DEFAULT_DATABASE_URL, films, log);
const alias = `bench_nrt_${films}`;
const env = { DATABASE_URL: databaseUrl, ELASTICSEARCH_URL: esUrl, ELASTICSEARCH_INDEX: alias, ETL_COMMIT_LAG_MS: "0" };
try {
  await freshStart(es, databaseUrl, alias);
  const full = await runEtl(env);
  log(`full sync ${full.written} docs in ${full.wallS.toFixed(1)} s`);
  const nrt = await measureNearRealTime(es, env, log);
  console.log(
    JSON.stringify({
      films,
      genre_renames: process.env.BENCH_NRT_GENRE_RENAMES !== "0",
      nrt_samples: nrt.samples,
      nrt_p50_s: Math.round(nrt.p50S * 100) / 100,
      nrt_p99_s: Math.round(nrt.p99S * 100) / 100,
      nrt_max_s: Math.round(nrt.maxS * 100) / 100,
      nrt_genre_rename_done_s: nrt.fanOutMaxS === null ? null : Math.round(nrt.fanOutMaxS * 10) / 10,
    }),
  );
} finally {
  await deleteAliasIndices(es, alias);
  await es.close();
}
