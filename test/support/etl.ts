import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { createApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger, type Logger } from "../../src/log.ts";
import { StateStore } from "../../src/state/state-store.ts";
import { runSyncCycle, type SyncOutcome } from "../../src/sync/cycle.ts";
import { ensureIndex } from "../../src/load/index-admin.ts";
import { ELASTICSEARCH_URL, indexedDocuments } from "./engine.ts";
import { expectedDocuments } from "./expected-documents.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface EtlTarget {
  databaseUrl: string;
  index: string;
  elasticsearchUrl?: string;
}

/** The environment a real ETL process gets in tests. */
export function etlEnv(target: EtlTarget, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: target.databaseUrl,
    ELASTICSEARCH_URL: target.elasticsearchUrl ?? ELASTICSEARCH_URL,
    ELASTICSEARCH_INDEX: target.index,
    ETL_COMMIT_LAG_MS: "0",
    ETL_LOG_FORMAT: "json",
    ...extra,
  };
}

/** An in-process app for the target: the same code path as the CLI, minus the process. */
export function testApp(target: EtlTarget, extra: Record<string, string> = {}, log: Logger = silentLogger): Promise<App> {
  return createApp(loadConfig(etlEnv(target, extra)), log);
}

/** Runs one sync cycle in-process, as `src/main.ts` does without a command. */
export async function syncOnce(target: EtlTarget, extra: Record<string, string> = {}): Promise<SyncOutcome> {
  const app = await testApp(target, extra);
  try {
    await app.guards.elasticsearch((signal) => ensureIndex(app.engine, target.index, signal));
    const store = new StateStore(app.prisma, target.index);
    // In-process cycles in tests run one at a time and take no lock.
    return await runSyncCycle({ ...app, store, index: target.index, assertLockHeld: async () => {} }, { stopRequested: () => false });
  } finally {
    await app.close();
  }
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `src/main.ts` process whose output can be read while it runs. */
export interface RunningCli {
  pid: number;
  /** Everything written to stderr so far. */
  stderr(): string;
  signal(name: NodeJS.Signals): void;
  result: Promise<ProcessResult>;
}

/** Children still running when the test worker exits are killed with it, whatever the test did. */
const liveChildren = new Set<ReturnType<typeof spawn>>();
process.once("exit", () => {
  for (const child of liveChildren) child.kill("SIGKILL");
});

/** Starts `src/main.ts` as a real process. */
export function startCli(
  args: string[],
  env: Record<string, string>,
  options: { runtime?: "node" | "deno"; timeoutMs?: number } = {},
): RunningCli {
  const runtime = options.runtime ?? "node";
  const command = runtime === "node" ? process.execPath : path.join(ROOT, "node_modules/.bin/deno");
  const commandArgs = runtime === "node" ? ["--import", "tsx", "src/main.ts", ...args] : ["run", "-A", "--quiet", "src/main.ts", ...args];
  const child = spawn(command, commandArgs, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  liveChildren.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
  const result = new Promise<ProcessResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      liveChildren.delete(child);
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    pid: child.pid ?? 0,
    stderr: () => stderr,
    signal: (name) => child.kill(name),
    result,
  };
}

/** Runs `src/main.ts` as a real process to its end. */
export function runCli(
  args: string[],
  env: Record<string, string>,
  options: { runtime?: "node" | "deno"; onSpawn?: (pid: number) => void; timeoutMs?: number } = {},
): Promise<ProcessResult> {
  const running = startCli(args, env, options);
  options.onSpawn?.(running.pid);
  return running.result;
}

/** The check users care about: the index holds exactly the catalogue's documents. */
export async function expectIndexEqualsCatalogue(target: EtlTarget): Promise<Map<string, unknown>> {
  const [expected, actual] = await Promise.all([
    expectedDocuments(target.databaseUrl),
    indexedDocuments(target.index, target.elasticsearchUrl),
  ]);
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [id, document] of expected) expect(actual.get(id), `document ${id}`).toEqual(document);
  return actual;
}

/** Documents written, by the "sync finished" summaries a process logged so far. */
export function writtenInLogs(stderr: string): number {
  return logEntries(stderr)
    .filter((entry) => entry.msg === "sync finished")
    .reduce((sum, entry) => sum + Number(entry.written), 0);
}

/** The JSON log lines a process wrote to stderr, parsed. */
export function logEntries(stderr: string): Array<Record<string, unknown> & { msg: string }> {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
}

/** The messages of those lines, one per line, for plain-text matching. */
export function logMessages(stderr: string): string {
  return logEntries(stderr)
    .map((entry) => entry.msg)
    .join("\n");
}
