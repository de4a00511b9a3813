// `npm run bench [-- --films N] [--small M]`: full sync, engine and SQL
// ceilings, one incremental cycle after 100 changes, peak RSS, at two catalogue
// sizes. Prints a table; the last line is one JSON object. See the Benchmark section of the README.
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { Client } from "@elastic/elasticsearch";
import pg from "pg";
import { DEFAULT_DATABASE_URL, loadConfig } from "../../src/config.ts";
import { filmBatchLimits, type FilmBatchLimits } from "../../src/extract/film-batch.ts";
import { applyRandomChanges } from "./changes.ts";
import { deleteAliasIndices, freshStart } from "./fresh-start.ts";
import { ensureCatalogue } from "./catalogues.ts";
import { enginePid, sampleCpu, type CpuSplit } from "./cpu-split.ts";
import { measureEngineCeiling, type EngineCeiling } from "./engine-ceiling.ts";
import { runEtl, type EtlRun } from "./etl-process.ts";
import { WORK_DIR } from "./paths.ts";
import { measureNearRealTime, measureNotifyCost, type NearRealTime, type NotifyCost } from "./near-real-time.ts";
import { measureSqlCeiling, type SqlCeiling } from "./sql-ceiling.ts";

interface SizeResult {
  films: number;
  full: EtlRun;
  fullCpu: CpuSplit;
  incremental: EtlRun;
  /** The highest peak RSS of the incremental rounds. */
  incrementalPeakRssMb: number;
  sql: SqlCeiling;
  engine: EngineCeiling;
  engineCpu: CpuSplit;
  /** The large size only. */
  nearRealTime?: NearRealTime;
  notifyCost?: NotifyCost;
}

const INCREMENTAL_ROUNDS = 3;
const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { films: { type: "string" }, small: { type: "string" } } });
  const large = Number(values.films ?? 1_000_000);
  const small = Number(values.small ?? Math.max(1, Math.min(10_000, Math.floor(large / 10))));
  if (!Number.isSafeInteger(large) || large < 10 || !Number.isSafeInteger(small) || small < 1 || small > large) {
    throw new Error("--films must be an integer >= 10 and --small an integer from 1 to --films");
  }
  const baseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const esUrl = process.env.ELASTICSEARCH_URL || "http://127.0.0.1:9200";
  const etlConfig = loadConfig({ ...process.env, DATABASE_URL: baseUrl, ELASTICSEARCH_URL: esUrl });
  const batchSize = etlConfig.batchSize;
  const batchLimits = filmBatchLimits(etlConfig);
  const ceiling = {
    bodyBytes: Number(process.env.BENCH_CEILING_BYTES ?? 8 * 1024 * 1024),
    concurrency: Number(process.env.BENCH_CEILING_CONCURRENCY ?? 2),
  };
  const es = new Client({ node: esUrl, maxRetries: 0, requestTimeout: 600_000 });
  mkdirSync(WORK_DIR, { recursive: true });
  log(
    `sizes ${small} and ${large} films; engine ${esUrl}; ETL_BATCH_SIZE ${batchSize}; ceiling ${JSON.stringify(ceiling)}; Node ${process.version}`,
  );

  const results: SizeResult[] = [];
  try {
    for (const films of [small, large]) {
      results.push(await benchSize(films, { baseUrl, esUrl, es, batchSize, batchLimits, ceiling }, films === large));
    }
  } finally {
    await es.close();
  }
  printTable(results);
  const [s, l] = [results[0]!, results[1]!];
  const full = l.full.written / l.full.wallS;
  const summary = {
    films: large,
    full_docs_per_s: round(full),
    engine_ceiling_docs_per_s: round(l.engine.docsPerS),
    ratio_full_to_ceiling: round(full / l.engine.docsPerS, 3),
    sql_ceiling_docs_per_s: round(l.sql.docsPerS),
    incr_100_small_s: round(s.incremental.cycleS, 2),
    incr_100_large_s: round(l.incremental.cycleS, 2),
    incr_ratio_large_to_small: round(l.incremental.cycleS / s.incremental.cycleS, 2),
    peak_rss_mb_large: round(l.full.peakRssMb, 1),
    peak_rss_mb_small: round(s.full.peakRssMb, 1),
    peak_rss_ratio_large_to_small: round(l.full.peakRssMb / s.full.peakRssMb, 2),
    peak_rss_mb_incr_large: round(l.incrementalPeakRssMb, 1),
    nrt_p50_s: round(l.nearRealTime!.p50S, 2),
    nrt_p99_s: round(l.nearRealTime!.p99S, 2),
    nrt_indexed_p99_s: round(l.nearRealTime!.indexedP99S, 2),
    nrt_genre_rename_done_s: l.nearRealTime!.fanOutMaxS === null ? null : round(l.nearRealTime!.fanOutMaxS, 1),
    watch_idle_cpu_pct: round(l.nearRealTime!.idleCpuPct, 2),
    watch_peak_rss_mb: round(l.nearRealTime!.peakRssMb, 1),
    write_tps_notify_on: round(l.notifyCost!.onTps),
    write_tps_notify_off: round(l.notifyCost!.offTps),
    pg_cpu_us_per_doc: round(usPerDoc(l, "postgres"), 1),
    etl_cpu_us_per_doc: round(usPerDoc(l, "node"), 1),
    engine_cpu_us_per_doc: round(usPerDoc(l, "java"), 1),
  };
  console.log(JSON.stringify(summary));
}

interface Context {
  baseUrl: string;
  esUrl: string;
  es: Client;
  batchSize: number;
  batchLimits: FilmBatchLimits;
  ceiling: { bodyBytes: number; concurrency: number };
}

async function benchSize(films: number, ctx: Context, nearRealTimePhase: boolean): Promise<SizeResult> {
  const databaseUrl = await ensureCatalogue(ctx.baseUrl, films, log);
  const alias = `bench_${films}`;
  const env = {
    ...etlOverrides(),
    DATABASE_URL: databaseUrl,
    ELASTICSEARCH_URL: ctx.esUrl,
    ELASTICSEARCH_INDEX: alias,
    ETL_COMMIT_LAG_MS: "0",
  };

  await freshStart(ctx.es, databaseUrl, alias);
  log(`${films}: full sync`);
  const etlPids = new Set<number>();
  const engine = enginePid(ctx.esUrl);
  if (engine === null) log(`no engine process found for ${ctx.esUrl}: its CPU is not counted`);
  const cpu = await sampleCpu({ nodePids: etlPids, enginePid: engine, databaseUrl });
  const full = await runEtl(env, (pid) => etlPids.add(pid));
  const fullCpu = await cpu.stop();
  log(
    `${films}: full sync ${full.written} docs in ${full.wallS.toFixed(1)} s (cycle ${full.cycleS} s), peak RSS ${full.peakRssMb.toFixed(0)} MB`,
  );
  const byKind = Object.entries(fullCpu.postgresByKind).sort((a, b) => b[1] - a[1]);
  log(`${films}: full sync, postgres CPU s by process: ${byKind.map(([kind, s]) => `${kind} ${s.toFixed(2)}`).join(", ")}`);

  // Let the engine finish the full load's refresh and flush first: the
  // incremental cycle is timed on its own, three rounds, the median kept.
  await ctx.es.indices.refresh({ index: alias });
  await ctx.es.indices.flush({ index: alias });
  const rounds: EtlRun[] = [];
  for (let round = 0; round < INCREMENTAL_ROUNDS; round++) {
    const changes = await applyRandomChanges(databaseUrl);
    const run = await runEtl(env);
    rounds.push(run);
    log(`${films}: incremental after ${changes} changes: ${run.written} written, ${run.deleted} deleted, cycle ${run.cycleS} s`);
  }
  const incremental = rounds.sort((a, b) => a.cycleS - b.cycleS)[Math.floor(rounds.length / 2)]!;
  await checkCount(ctx.es, databaseUrl, alias);
  let nearRealTime: NearRealTime | undefined;
  let notifyCost: NotifyCost | undefined;
  if (nearRealTimePhase) {
    log(`${films}: near-real-time: --watch while ${20} changes/s are committed for 60 s`);
    nearRealTime = await measureNearRealTime(ctx.es, env, log);
    log(
      `${films}: near-real-time: ${nearRealTime.samples} samples, p50 ${nearRealTime.p50S.toFixed(2)} s, p99 ${nearRealTime.p99S.toFixed(2)} s`,
    );
    notifyCost = await measureNotifyCost(databaseUrl);
    log(`${films}: writers ${notifyCost.onTps.toFixed(0)} tx/s with NOTIFY, ${notifyCost.offTps.toFixed(0)} without`);
    await checkCount(ctx.es, databaseUrl, alias);
  }
  await deleteAliasIndices(ctx.es, alias);

  const ndjson = path.join(WORK_DIR, `films-${films}.ndjson`);
  const sql = await measureSqlCeiling(databaseUrl, ctx.batchLimits, ndjson);
  log(`${films}: SQL ceiling ${sql.docs} docs in ${sql.queryS.toFixed(1)} s, ${(sql.bytes / 1048576).toFixed(0)} MiB of bulk body`);
  const ceilingCpu = await sampleCpu({ nodePids: new Set([process.pid]), enginePid: engine, databaseUrl });
  const ceilingRun = await measureEngineCeiling(ctx.es, `bench_ceiling_${films}`, ndjson, ctx.ceiling);
  const engineCpu = await ceilingCpu.stop();
  log(`${films}: engine ceiling ${ceilingRun.docs} docs in ${ceilingRun.loadS.toFixed(1)} s`);
  await ctx.es.indices.delete({ index: `bench_ceiling_${films}`, ignore_unavailable: true });
  rmSync(ndjson, { force: true });
  const incrementalPeakRssMb = Math.max(...rounds.map((r) => r.peakRssMb));
  return { films, full, fullCpu, incremental, incrementalPeakRssMb, sql, engine: ceilingRun, engineCpu, nearRealTime, notifyCost };
}

/** ETL_* variables and NODE_OPTIONS of the bench's environment reach the ETL, for tuning runs. */
function etlOverrides(): Record<string, string> {
  const passed = (name: string) => name.startsWith("ETL_") || name === "NODE_OPTIONS";
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => passed(e[0]) && e[1] !== undefined));
}

async function checkCount(es: Client, databaseUrl: string, alias: string): Promise<void> {
  await es.indices.refresh({ index: alias });
  const { count } = await es.count({ index: alias });
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const films = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM content.film_work`)).rows[0]!.n);
  await client.end();
  if (count !== films) throw new Error(`${alias} holds ${count} documents, the catalogue ${films} films`);
}

function printTable(results: SizeResult[]): void {
  const rows: Array<[string, (r: SizeResult) => string]> = [
    ["full sync, docs/s (process wall)", (r) => fmt(r.full.written / r.full.wallS)],
    ["full sync, s (process wall / cycle)", (r) => `${r.full.wallS.toFixed(1)} / ${r.full.cycleS.toFixed(1)}`],
    ["engine ceiling, docs/s", (r) => fmt(r.engine.docsPerS)],
    ["ratio full / engine ceiling", (r) => (r.full.written / r.full.wallS / r.engine.docsPerS).toFixed(3)],
    ["SQL ceiling, docs/s", (r) => fmt(r.sql.docsPerS)],
    ["incremental, 100 changes, s (cycle, median of 3)", (r) => r.incremental.cycleS.toFixed(2)],
    ["incremental, process wall, s", (r) => r.incremental.wallS.toFixed(2)],
    ["incremental, docs written/deleted", (r) => `${r.incremental.written}/${r.incremental.deleted}`],
    ["peak RSS of the ETL, MB (full sync)", (r) => r.full.peakRssMb.toFixed(1)],
    ["peak RSS of the ETL, MB (incremental, highest of 3)", (r) => r.incrementalPeakRssMb.toFixed(1)],
    ["CPU s in full sync: postgres", (r) => r.fullCpu.postgres.toFixed(1)],
    ["CPU s in full sync: java (engine)", (r) => r.fullCpu.java.toFixed(1)],
    ["CPU s in full sync: node (ETL)", (r) => r.fullCpu.node.toFixed(1)],
    ["CPU us/doc in full sync: postgres (bench db + shared background processes)", (r) => usPerDoc(r, "postgres").toFixed(1)],
    ["CPU us/doc in full sync: node (ETL)", (r) => usPerDoc(r, "node").toFixed(1)],
    ["CPU us/doc in full sync: java (engine)", (r) => usPerDoc(r, "java").toFixed(1)],
    [
      "(postgres + ETL) / engine CPU per doc (target <= 0.25)",
      (r) => ((usPerDoc(r, "postgres") + usPerDoc(r, "node")) / usPerDoc(r, "java")).toFixed(3),
    ],
    ["CPU s in full sync: other processes of the machine", (r) => r.fullCpu.other.toFixed(1)],
    ["CPU s in engine ceiling: java / node", (r) => `${r.engineCpu.java.toFixed(1)} / ${r.engineCpu.node.toFixed(1)}`],
    [
      "near-real-time p50 / p99 / max, s",
      (r) =>
        r.nearRealTime ? `${r.nearRealTime.p50S.toFixed(2)} / ${r.nearRealTime.p99S.toFixed(2)} / ${r.nearRealTime.maxS.toFixed(2)}` : "-",
    ],
    [
      "near-real-time until indexed (realtime GET) p50 / p99, s",
      (r) => (r.nearRealTime ? `${r.nearRealTime.indexedP50S.toFixed(2)} / ${r.nearRealTime.indexedP99S.toFixed(2)}` : "-"),
    ],
    ["idle watcher, % of a core", (r) => (r.nearRealTime ? r.nearRealTime.idleCpuPct.toFixed(2) : "-")],
    ["watcher peak RSS, MB", (r) => (r.nearRealTime ? r.nearRealTime.peakRssMb.toFixed(1) : "-")],
    ["writers, tx/s with / without NOTIFY", (r) => (r.notifyCost ? `${fmt(r.notifyCost.onTps)} / ${fmt(r.notifyCost.offTps)}` : "-")],
  ];
  const header = ["", ...results.map((r) => `${r.films} films`)];
  const table = [header, ...rows.map(([label, value]) => [label, ...results.map(value)])];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));
}

/** CPU microseconds of a group in the full sync per document written. */
const usPerDoc = (r: SizeResult, group: "postgres" | "node" | "java") => (r.fullCpu[group] * 1e6) / r.full.written;
const fmt = (n: number) => Math.round(n).toLocaleString("en");
const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
