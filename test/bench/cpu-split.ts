// Where the CPU goes while something runs: polls /proc/<pid>/stat of every
// process and sums the CPU seconds used meanwhile by three groups; everything
// else on the machine (other agents' engines, tests, databases) counts as other.
// - java: the engine at the bench's ELASTICSEARCH_URL only: the pid in
//   .engine/<port>/engine.pid, or else the process listening on that port.
//   Other JVMs on the machine are not counted.
// - postgres: the server's processes that serve the bench's database (client
//   backends and autovacuum workers whose pg_stat_activity.datname is it), the
//   shared background processes (checkpointer, background writer, WAL writer,
//   autovacuum launcher: no datname) and the postmaster. The background
//   processes also work for other databases of the server meanwhile: their
//   share cannot be split, so it is all counted.
// - node: the processes named in `nodePids` (the ETL child, or the bench itself
//   for the ceilings).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { ROOT } from "./paths.ts";

export type CpuGroup = "postgres" | "java" | "node" | "other";
export type CpuSplit = Record<CpuGroup, number> & {
  wallS: number;
  /** The postgres group's CPU seconds by process kind: backend_type, and application_name for client backends. */
  postgresByKind: Record<string, number>;
};

export interface CpuTargets {
  /** The ETL's (or the bench's) node processes. */
  nodePids: ReadonlySet<number>;
  /** The engine's JVM, from `enginePid`; null: no engine is counted. */
  enginePid: number | null;
  /** The bench's database: its backends are the postgres group (with the background processes). */
  databaseUrl: string;
}

const TICKS_PER_S = 100;

interface ProcStat {
  comm: string;
  ppid: number;
  ticks: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    return { comm: stat.slice(stat.indexOf("(") + 1, close), ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null; // the process ended meanwhile
  }
}

/** The engine's JVM for an engine URL: its pid file, else the process that listens on the port. */
export function enginePid(engineUrl: string): number | null {
  const port = Number(new URL(engineUrl).port || 9200);
  try {
    const pid = Number(readFileSync(path.join(ROOT, ".engine", String(port), "engine.pid"), "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && readStat(pid)?.comm === "java") return pid;
  } catch {
    // no pid file: an engine started some other way
  }
  return listeningPid(port);
}

function listeningPid(port: number): number | null {
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      for (const line of readFileSync(file, "utf8").trim().split("\n").slice(1)) {
        const f = line.trim().split(/\s+/);
        // local_address is hex ip:port; state 0A is LISTEN; field 9 the socket inode
        if (f[3] === "0A" && Number.parseInt(f[1]!.split(":")[1]!, 16) === port) inodes.add(f[9]!);
      }
    } catch {
      // no such table
    }
  }
  if (inodes.size === 0) return null;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      for (const fd of readdirSync(`/proc/${entry}/fd`)) {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (match && inodes.has(match[1]!)) return Number(entry);
      }
    } catch {
      // not ours to read, or gone
    }
  }
  return null;
}

/** Starts sampling; `stop()` returns CPU seconds per group since the start. */
export async function sampleCpu(targets: CpuTargets, intervalMs = 500): Promise<{ stop(): Promise<CpuSplit> }> {
  const client = new pg.Client({ connectionString: targets.databaseUrl, application_name: "movies-etl bench sampler" });
  await client.connect();
  const database = new URL(targets.databaseUrl).pathname.slice(1);
  /** pid -> kind, for every process of the postgres group seen. */
  const postgresPids = new Map<number, string>();
  const refreshPostgres = async () => {
    const { rows } = await client.query<{ pid: number; kind: string }>(
      `SELECT pid, CASE WHEN backend_type = 'client backend' THEN 'client backend: ' || application_name ELSE backend_type END AS kind
       FROM pg_stat_activity
       WHERE (datname = $1 AND pid <> pg_backend_pid()) OR (datname IS NULL AND backend_type <> 'client backend')`,
      [database],
    );
    for (const { pid, kind } of rows) {
      if (!postgresPids.has(pid)) postgresPids.set(pid, kind);
      const ppid = readStat(pid)?.ppid;
      if (ppid !== undefined && readStat(ppid)?.comm.startsWith("postgres")) postgresPids.set(ppid, "postmaster");
    }
  };
  const groupOf = (pid: number): CpuGroup => {
    if (targets.nodePids.has(pid)) return "node";
    if (pid === targets.enginePid) return "java";
    if (postgresPids.has(pid)) return "postgres";
    return "other";
  };
  const snapshot = () => {
    const result = new Map<number, number>();
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readStat(Number(entry));
      if (stat) result.set(Number(entry), stat.ticks);
    }
    return result;
  };

  await refreshPostgres();
  const started = performance.now();
  const first = snapshot();
  const last = new Map(first);
  let polling: Promise<void> = Promise.resolve();
  const poll = async () => {
    await refreshPostgres().catch(() => undefined);
    for (const [pid, ticks] of snapshot()) last.set(pid, ticks);
  };
  const timer = setInterval(() => {
    polling = polling.then(poll);
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await polling;
      await poll();
      await client.end();
      const split: CpuSplit = { postgres: 0, java: 0, node: 0, other: 0, wallS: (performance.now() - started) / 1000, postgresByKind: {} };
      for (const [pid, ticks] of last) {
        const seconds = Math.max(0, ticks - (first.get(pid) ?? 0)) / TICKS_PER_S;
        const group = groupOf(pid);
        split[group] += seconds;
        if (group === "postgres" && seconds > 0) {
          const kind = postgresPids.get(pid)!;
          split.postgresByKind[kind] = (split.postgresByKind[kind] ?? 0) + seconds;
        }
      }
      return split;
    },
  };
}
