// Runs the real ETL (`node --import tsx src/main.ts`) as a child process and
// reports its wall time, its own "sync finished" summary and its peak RSS
// (VmHWM from /proc, polled; the kernel keeps the high-water mark for us).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { ROOT } from "./paths.ts";

export interface EtlRun {
  wallS: number;
  /** The cycle's own duration and counts, from its JSON log line. */
  cycleS: number;
  written: number;
  deleted: number;
  peakRssMb: number;
  pid: number;
}

export async function runEtl(env: Record<string, string>, onSpawn?: (pid: number) => void): Promise<EtlRun> {
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      ETL_LOG_FORMAT: "json",
      // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the ETL (not a heap flag: the ETL still relaunches with its own).
      ...(process.env.BENCH_ETL_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_ETL_NODE_OPTIONS } : {}),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = child.pid!;
  onSpawn?.(pid);
  let peakKb = 0;
  const poll = setInterval(() => (peakKb = Math.max(peakKb, readHwmKb(pid))), 100);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (exitCode) => resolve(exitCode));
  });
  clearInterval(poll);
  const wallS = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`the ETL exited with ${code}:\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`);
  const summary = summaryOf(`${stdout}\n${stderr}`);
  return { wallS, cycleS: summary.durationS, written: summary.written, deleted: summary.deleted, peakRssMb: peakKb / 1024, pid };
}

function readHwmKb(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function summaryOf(stdout: string): { durationS: number; written: number; deleted: number } {
  for (const line of stdout.trim().split("\n").reverse()) {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === "sync finished" || entry.message === "sync finished") {
        return { durationS: Number(entry.durationS), written: Number(entry.written), deleted: Number(entry.deleted) };
      }
    } catch {
      // not a JSON line
    }
  }
  throw new Error(`no "sync finished" line in the ETL output:\n${stdout.slice(-2000)}`);
}
