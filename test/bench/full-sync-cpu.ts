// `npx tsx test/bench/full-sync-cpu.ts --films 100000 [--rounds 3]`: only the
// bench's full sync, repeated: a fresh index and state, the real ETL as a child
// process, the CPU split of the run (cpu-split.ts) per document written, and
// PostgreSQL's share by process kind. For comparing the pipeline's own CPU
// between two versions of the code without the whole bench; uses the bench's
// catalogue (BENCH_DATABASE_PREFIX, seeded by `npm run bench` or on first use).
import { parseArgs } from "node:util";
import { Client } from "@elastic/elasticsearch";
import pg from "pg";
import { DEFAULT_DATABASE_URL } from "../../src/config.ts";
import { ensureCatalogue } from "./catalogues.ts";
import { enginePid, sampleCpu } from "./cpu-split.ts";
import { runEtl } from "./etl-process.ts";

const log = (line: string) => process.stderr.write(`[full-sync-cpu] ${line}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { films: { type: "string" }, rounds: { type: "string" } } });
  const films = Number(values.films ?? 100_000);
  const rounds = Number(values.rounds ?? 3);
  const esUrl = process.env.ELASTICSEARCH_URL || "http://127.0.0.1:9200";
  const databaseUrl = await ensureCatalogue(process.env.DATABASE_URL || DEFAULT_DATABASE_URL, films, log);
  const alias = `bench_cpu_${films}`;
  const es = new Client({ node: esUrl, maxRetries: 0, requestTimeout: 600_000 });
  const engine = enginePid(esUrl);
  try {
    for (let round = 0; round < rounds; round++) {
      await deleteAliasIndices(es, alias);
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DELETE FROM content.etl_state WHERE name LIKE $1`, [`${alias}:%`]);
      await client.query(`TRUNCATE content.etl_change`);
      await client.end();
      const etlPids = new Set<number>();
      const cpu = await sampleCpu({ nodePids: etlPids, enginePid: engine, databaseUrl });
      const run = await runEtl(
        { DATABASE_URL: databaseUrl, ELASTICSEARCH_URL: esUrl, ELASTICSEARCH_INDEX: alias, ETL_COMMIT_LAG_MS: "0" },
        (pid) => etlPids.add(pid),
      );
      const split = await cpu.stop();
      const us = (s: number) => Math.round((s * 1e6 * 10) / run.written) / 10;
      console.log(
        JSON.stringify({
          round,
          films,
          written: run.written,
          wall_s: Math.round(run.wallS * 10) / 10,
          docs_per_s: Math.round(run.written / run.wallS),
          peak_rss_mb: Math.round(run.peakRssMb * 10) / 10,
          pg_cpu_us_per_doc: us(split.postgres),
          etl_cpu_us_per_doc: us(split.node),
          engine_cpu_us_per_doc: us(split.java),
          other_cpu_s: Math.round(split.other * 10) / 10,
          pg_us_per_doc_by_process: Object.fromEntries(
            Object.entries(split.postgresByKind)
              .sort((a, b) => b[1] - a[1])
              .map(([kind, s]) => [kind, us(s)]),
          ),
        }),
      );
    }
  } finally {
    await deleteAliasIndices(es, alias);
    await es.close();
  }
}

async function deleteAliasIndices(es: Client, alias: string): Promise<void> {
  const indices = Object.keys(await es.indices.getAlias({ name: alias }).catch(() => ({})));
  for (const index of indices) await es.indices.delete({ index });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
