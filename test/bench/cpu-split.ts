// Where the CPU goes while something runs: polls /proc/<pid>/stat of every
// process and sums the CPU seconds used meanwhile by postgres, java (the engine)
// and node: the processes named in `nodePids` (the ETL child, or the bench
// itself for the ceilings); other processes on the machine count as other.
import { readdirSync, readFileSync } from "node:fs";

export type CpuGroup = "postgres" | "java" | "node" | "other";
export type CpuSplit = Record<CpuGroup, number> & { wallS: number };

const TICKS_PER_S = 100;

function snapshot(nodePids: ReadonlySet<number>): Map<number, { group: CpuGroup; ticks: number }> {
  const result = new Map<number, { group: CpuGroup; ticks: number }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]);
      // Node 24 names its main thread (and so the process) "MainThread": the pid decides.
      const group = nodePids.has(Number(entry)) ? "node" : groupOf(comm);
      result.set(Number(entry), { group, ticks });
    } catch {
      // the process ended meanwhile
    }
  }
  return result;
}

function groupOf(comm: string): CpuGroup {
  if (comm === "postgres" || comm.startsWith("postgres")) return "postgres";
  if (comm === "java") return "java";
  return "other";
}

/** Starts sampling; `stop()` returns CPU seconds per group since the start. */
export function sampleCpu(nodePids: Set<number>, intervalMs = 500): { stop(): CpuSplit } {
  const started = performance.now();
  const first = snapshot(nodePids);
  const last = new Map(first);
  const poll = () => {
    for (const [pid, value] of snapshot(nodePids)) last.set(pid, value);
  };
  const timer = setInterval(poll, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      poll();
      const split: CpuSplit = { postgres: 0, java: 0, node: 0, other: 0, wallS: (performance.now() - started) / 1000 };
      for (const [pid, value] of last) {
        const before = first.get(pid)?.ticks ?? 0;
        split[value.group] += Math.max(0, value.ticks - before) / TICKS_PER_S;
      }
      return split;
    },
  };
}
