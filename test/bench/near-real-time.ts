// The near-real-time phase of the bench: `--watch` runs on an indexed
// catalogue while a writer commits 20 mixed changes per second for 60 s; for
// sampled changes a reader polls the index until the change is searchable
// (a search, so after a refresh, not a realtime GET). Also: the CPU an idle
// watcher uses, and what NOTIFY costs the catalogue's writers.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Client } from "@elastic/elasticsearch";
import pg from "pg";
import { ROOT } from "./paths.ts";

export interface NearRealTime {
  samples: number;
  p50S: number;
  p99S: number;
  maxS: number;
  /** The same changes until the index acknowledged them (a realtime GET sees them): the sync's part, without the refresh. */
  indexedP50S: number;
  indexedP99S: number;
  changesPerS: number;
  idleCpuPct: number;
  /** The longest a genre rename took until no document carried the old name; null without renames. */
  fanOutMaxS: number | null;
  /** The watcher's peak RSS over the whole phase (VmHWM). */
  peakRssMb: number;
}

export interface NotifyCost {
  /** Single-statement transactions per second with NOTIFY on and off, several writers at once. */
  onTps: number;
  offTps: number;
}

const RATE_PER_S = 20;
/**
 * Two genre renames a minute by default; BENCH_NRT_GENRE_RENAMES=0 leaves them
 * out. At 1M films each re-writes ~64,000 documents: a fan-out, written in
 * slices between the windows of the sampled changes (ETL_LARGE_FANOUT_FILMS=0
 * puts them back in their windows, where every change committed meanwhile
 * waits behind them).
 */
const GENRE_RENAMES = process.env.BENCH_NRT_GENRE_RENAMES !== "0";
const STORM_S = 60;
const IDLE_S = 30;

export async function measureNearRealTime(es: Client, env: Record<string, string>, log: (line: string) => void): Promise<NearRealTime> {
  const watcher = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--watch"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ETL_LOG_FORMAT: "json", METRICS_PORT: "0", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  watcher.stderr.on("data", (chunk) => (stderr += chunk));
  try {
    await until(() => stderr.includes('"msg":"sync finished"'), 600_000);
    await sleep(2000);
    const idleCpuPct = await cpuPercent(watcher.pid!, IDLE_S);
    log(`near-real-time: idle watcher ${idleCpuPct.toFixed(2)} % of a core over ${IDLE_S} s`);

    const alias = env.ELASTICSEARCH_INDEX!;
    const writer = new pg.Client({ connectionString: env.DATABASE_URL, application_name: "movies-etl bench writer" });
    await writer.connect();
    const pools = await samplePools(writer);
    const latencies: number[] = [];
    const indexedLatencies: number[] = [];
    const fanOutS: number[] = [];
    const watching: Array<Promise<void>> = [];
    let made = 0;
    const started = performance.now();
    try {
      for (let i = 0; i < RATE_PER_S * STORM_S; i++) {
        const due = started + (i * 1000) / RATE_PER_S;
        await sleep(Math.max(0, due - performance.now()));
        const change = await mixedChange(writer, i, pools);
        made++;
        if (change.fannedOut) {
          const committed = performance.now();
          const fannedOut = change.fannedOut;
          watching.push(
            until(() => fannedOut(es, alias), 600_000, 250).then(() => void fanOutS.push((performance.now() - committed) / 1000)),
          );
        }
        if (change.visible) {
          const committed = performance.now();
          const { indexed, visible } = change.visible;
          const since = () => (performance.now() - committed) / 1000;
          // One request per poll, as before: a realtime GET until the index holds the change, then searches.
          watching.push(
            until(() => indexed(es, alias), 120_000, 25)
              .then(() => indexedLatencies.push(since()))
              .then(() => until(() => visible(es, alias), 120_000, 25))
              .then(() => void latencies.push(since())),
          );
        }
      }
      await Promise.all(watching);
    } finally {
      await writer.end();
    }
    const elapsedS = (performance.now() - started) / 1000;
    const at = quantiles(latencies);
    const indexedAt = quantiles(indexedLatencies);
    const peakRssMb = peakRssKb(watcher.pid!) / 1024;
    return {
      samples: latencies.length,
      p50S: at(0.5),
      p99S: at(0.99),
      maxS: at(1),
      indexedP50S: indexedAt(0.5),
      indexedP99S: indexedAt(0.99),
      fanOutMaxS: fanOutS.length > 0 ? Math.max(...fanOutS) : null,
      changesPerS: made / elapsedS,
      idleCpuPct,
      peakRssMb,
    };
  } finally {
    watcher.kill("SIGTERM");
    await new Promise((resolve) => watcher.once("exit", resolve));
  }
}

type Check = (es: Client, alias: string) => Promise<boolean>;

interface Change {
  /** For sampled changes: true once the index holds the change (realtime), and once a search finds it. */
  visible?: { indexed: Check; visible: Check };
  /** A genre rename: resolves true once no document carries the genre's old name (its fan-out is done). */
  fannedOut?: (es: Client, alias: string) => Promise<boolean>;
}

interface Pools {
  /** Films to update and link; never deleted, so a sampled update stays checkable. */
  films: string[];
  /** Films to delete, each once. */
  doomed: string[];
  persons: string[];
  genreLinks: string[];
}

/** Random rows to change, drawn once: picking each at random in SQL would cost a scan per change. */
async function samplePools(client: pg.Client): Promise<Pools> {
  const ids = async (table: string) =>
    (await client.query<{ id: string }>(`SELECT id FROM content.${table} ORDER BY random() LIMIT 5000`)).rows.map((r) => r.id);
  const films = await ids("film_work");
  const half = Math.floor(films.length / 2);
  return { films: films.slice(0, half), doomed: films.slice(half), persons: await ids("person"), genreLinks: await ids("genre_film_work") };
}

/** Titles, person and genre renames, links, deletes and new films, in a fixed rotation. */
async function mixedChange(client: pg.Client, i: number, pools: Pools): Promise<Change> {
  const kind = i % 10;
  const pick = (pool: string[]) => pool[(i * 7919) % pool.length]!;
  const film = async () => pick(pools.films);
  const person = () => pick(pools.persons);
  if (kind === 0 || kind === 5) {
    const id = await film();
    const title = `nrt ${randomUUID()}`;
    await client.query(`UPDATE content.film_work SET title = $2 WHERE id = $1`, [id, title]);
    return {
      visible: {
        indexed: async (es, alias) => (await sourceOf(es, alias, id))?.title === title,
        visible: async (es, alias) => (await hitsOf(es, alias, id))[0]?.title === title,
      },
    };
  }
  if (kind === 1) {
    await client.query(`UPDATE content.person SET full_name = full_name || '.' WHERE id = $1`, [person()]);
    return {};
  }
  if (kind === 2 && GENRE_RENAMES && i % 600 === 2) {
    // A genre rename re-writes 1/26 of the catalogue: twice a minute at most.
    const renamed = await client.query<{ old: string }>(
      `UPDATE content.genre g SET name = left(g.name, 40) || '·' FROM content.genre old
       WHERE g.id = (SELECT id FROM content.genre ORDER BY random() LIMIT 1) AND old.id = g.id RETURNING old.name AS old`,
    );
    const old = renamed.rows[0]!.old;
    return { fannedOut: async (es, alias) => (await es.count({ index: alias, query: { term: { genres: old } } })).count === 0 };
  }
  if (kind === 2 || kind === 3) {
    await client.query(
      `INSERT INTO content.person_film_work (id, person_id, film_work_id, role, created)
       VALUES (gen_random_uuid(), $2, $1, 'writer', now()) ON CONFLICT DO NOTHING`,
      [await film(), person()],
    );
    return {};
  }
  if (kind === 4) {
    await client.query(`DELETE FROM content.genre_film_work WHERE id = $1`, [pick(pools.genreLinks)]);
    return {};
  }
  if (kind === 6) {
    const id = pools.doomed.pop();
    if (!id) return {};
    await client.query(`DELETE FROM content.film_work WHERE id = $1`, [id]);
    return {
      visible: {
        indexed: async (es, alias) => (await sourceOf(es, alias, id)) === null,
        visible: async (es, alias) => (await hitsOf(es, alias, id)).length === 0,
      },
    };
  }
  if (kind === 7) {
    const id = randomUUID();
    await client.query(
      `INSERT INTO content.film_work (id, title, type, created, modified) VALUES ($1, 'nrt new film', 'movie', now(), now())`,
      [id],
    );
    return {
      visible: {
        indexed: async (es, alias) => (await sourceOf(es, alias, id)) !== null,
        visible: async (es, alias) => (await hitsOf(es, alias, id)).length === 1,
      },
    };
  }
  await client.query(`UPDATE content.film_work SET rating = round((random() * 10)::numeric, 1), modified = now() WHERE id = $1`, [
    await film(),
  ]);
  return {};
}

/** The document as the index holds it now, refreshed or not (a realtime GET); null if it has none. */
async function sourceOf(es: Client, alias: string, id: string): Promise<{ title?: string } | null> {
  const response = await es.get<{ title?: string }>({ index: alias, id }, { ignore: [404] });
  return response.found ? (response._source ?? {}) : null;
}

function quantiles(values: number[]): (q: number) => number {
  const sorted = [...values].sort((a, b) => a - b);
  return (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function hitsOf(es: Client, alias: string, id: string): Promise<Array<{ title?: string }>> {
  const response = await es.search<{ title?: string }>({ index: alias, query: { ids: { values: [id] } }, size: 1 });
  return response.hits.hits.map((hit) => hit._source ?? {});
}

/**
 * What NOTIFY costs writers: four connections run single-row updates for
 * `seconds` with notifications on, then off, twice, alternating; a listener
 * is connected throughout, as a watcher would be.
 */
export async function measureNotifyCost(databaseUrl: string, seconds = 10): Promise<NotifyCost> {
  const listener = new pg.Client({ connectionString: databaseUrl });
  await listener.connect();
  await listener.query("LISTEN movies_etl_change");
  const ids = (await listener.query<{ id: string }>(`SELECT id FROM content.film_work ORDER BY random() LIMIT 2000`)).rows.map((r) => r.id);
  const totals = { on: 0, off: 0 };
  try {
    for (const mode of ["on", "off", "on", "off"] as const) {
      const writers = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const client = new pg.Client({ connectionString: databaseUrl });
          await client.connect();
          await client.query(`SET movies_etl.notify = ${mode}`);
          return client;
        }),
      );
      const deadline = performance.now() + seconds * 1000;
      const counts = await Promise.all(
        writers.map(async (client, w) => {
          let n = 0;
          while (performance.now() < deadline) {
            await client.query(`UPDATE content.film_work SET rating = $2 WHERE id = $1`, [ids[(n * 4 + w) % ids.length], (n % 100) / 10]);
            n++;
          }
          await client.end();
          return n;
        }),
      );
      totals[mode] += counts.reduce((a, b) => a + b, 0);
    }
  } finally {
    await listener.end();
  }
  return { onTps: totals.on / (2 * seconds), offTps: totals.off / (2 * seconds) };
}

function peakRssKb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) : 0;
}

async function cpuPercent(pid: number, seconds: number): Promise<number> {
  const ticks = () => {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  };
  const before = ticks();
  const started = performance.now();
  await sleep(seconds * 1000);
  return ((ticks() - before) / 100 / ((performance.now() - started) / 1000)) * 100;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(everyMs);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
