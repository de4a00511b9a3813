// `npx tsx test/bench/near-real-time-only.ts [--films N]`: the bench's near-real-time phase alone
// (a full sync first, then --watch under the writer), for comparing its settings without the whole bench.
// BENCH_NRT_GENRE_RENAMES=0 leaves the genre renames out of the writer's mix. With --reuse the index
// stays after the run, and a later --reuse run starts from it (a catch-up sync instead of a full one).
import { parseArgs } from "node:util";
import { Client } from "@elastic/elasticsearch";
import { DEFAULT_DATABASE_URL } from "../../src/config.ts";
import { ensureCatalogue } from "./catalogues.ts";
import { runEtl } from "./etl-process.ts";
import { deleteAliasIndices, freshStart } from "./fresh-start.ts";
import { measureNearRealTime } from "./near-real-time.ts";

const log = (line: string) => process.stderr.write(`[nrt ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const { values } = parseArgs({ options: { films: { type: "string" }, reuse: { type: "boolean" } } });
const films = Number(values.films ?? 1_000_000);
const esUrl = process.env.ELASTICSEARCH_URL || "http://127.0.0.1:9200";
const es = new Client({ node: esUrl, maxRetries: 0, requestTimeout: 600_000 });
const databaseUrl = await ensureCatalogue(process.env.DATABASE_URL || DEFAULT_DATABASE_URL, films, log);
const alias = `bench_nrt_${films}`;
// ETL_* settings of this shell reach the ETL, for comparing them.
const etlSettings = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith("ETL_"))) as Record<string, string>;
const env = { ...etlSettings, DATABASE_URL: databaseUrl, ELASTICSEARCH_URL: esUrl, ELASTICSEARCH_INDEX: alias, ETL_COMMIT_LAG_MS: "0" };
const reused = values.reuse === true && (await es.indices.existsAlias({ name: alias }));
try {
  if (!reused) await freshStart(es, databaseUrl, alias);
  const full = await runEtl(env);
  log(`${reused ? "catch-up" : "full"} sync ${full.written} docs in ${full.wallS.toFixed(1)} s`);
  const nrt = await measureNearRealTime(es, env, log);
  console.log(
    JSON.stringify({
      films,
      genre_renames: process.env.BENCH_NRT_GENRE_RENAMES !== "0",
      nrt_samples: nrt.samples,
      nrt_p50_s: Math.round(nrt.p50S * 100) / 100,
      nrt_p99_s: Math.round(nrt.p99S * 100) / 100,
      nrt_max_s: Math.round(nrt.maxS * 100) / 100,
      nrt_indexed_p50_s: Math.round(nrt.indexedP50S * 100) / 100,
      nrt_indexed_p99_s: Math.round(nrt.indexedP99S * 100) / 100,
      nrt_genre_rename_done_s: nrt.fanOutMaxS === null ? null : Math.round(nrt.fanOutMaxS * 10) / 10,
    }),
  );
} finally {
  if (!values.reuse) await deleteAliasIndices(es, alias);
  await es.close();
}
