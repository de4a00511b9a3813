import { getHeapStatistics } from "node:v8";

/**
 * V8 settings the service runs with (README, "Memory"). Left to itself V8 sizes
 * the heap from the machine's memory and lets garbage pile up to hundreds of MB
 * before a full collection, while the ETL's live data is about 35 MB: code, the
 * clients, a few batches. So: a small young generation; the next full
 * collection once the heap is 25 % above what the last one kept; and a ceiling
 * on the old generation, because on a starved CPU collection falls behind and
 * V8 takes new pages, which it then keeps (seen at 1M films: 240 MB without a
 * ceiling; the peak is about the floor plus the ceiling less the live data).
 * The price of the ceiling: documents that average more than a few KB need a
 * smaller ETL_BATCH_SIZE or a larger ceiling in NODE_OPTIONS, or the heap runs out.
 */
export const V8_MEMORY_FLAGS: readonly string[] = ["--max-old-space-size=56", "--max-semi-space-size=2", "--heap-growing-percent=25"];

/**
 * glibc's malloc: at most two arenas (not one per thread that ever allocated),
 * and allocations of 128 KiB or more (bulk bodies, socket buffers) mapped on
 * their own and returned to the system when freed, instead of fragmenting the
 * heap. Ignored by other C libraries.
 */
export const MALLOC_TUNABLES = "glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072";

/** The parts of `process` the relaunch reads. */
export interface RuntimeProcess {
  execPath: string;
  execArgv: string[];
  argv: string[];
  versions: Record<string, string | undefined>;
  execve?: (file: string, args?: readonly string[], env?: Record<string, string | undefined>) => never;
}

export interface Relaunch {
  file: string;
  args: string[];
  env: Record<string, string | undefined>;
}

/**
 * How to restart this process with the memory settings, or null when it has
 * them already, when the user chose heap settings of their own (in NODE_OPTIONS
 * or on the command line), or when the runtime cannot replace its process image
 * (Deno, Node before 22.15).
 */
export function relaunchFor(proc: RuntimeProcess, env: Record<string, string | undefined>): Relaunch | null {
  if (typeof proc.execve !== "function" || proc.versions.deno !== undefined || proc.versions.bun !== undefined) return null;
  const chosen = [...proc.execArgv, ...(env.NODE_OPTIONS ?? "").split(/\s+/)];
  if (chosen.some(isHeapFlag)) return null;
  return {
    file: proc.execPath,
    // The loader flags (tsx's --import, --require) stay: the new image runs the same entry point the same way.
    args: [proc.execPath, ...V8_MEMORY_FLAGS, ...proc.execArgv, ...proc.argv.slice(1)],
    env: { ...env, GLIBC_TUNABLES: env.GLIBC_TUNABLES || MALLOC_TUNABLES },
  };
}

/**
 * Makes the memory settings part of how the service runs, whatever starts it
 * (`npx tsx src/main.ts`, `npm start`, the image, a test): called first by
 * main.ts, before anything heavy is loaded, it replaces the process with one
 * that has them (`process.execve`: same pid, same stdio, signals still reach
 * it, no parent left waiting). Costs one more start of Node, about 0.1 s.
 */
export function relaunchWithMemorySettings(proc: RuntimeProcess, env: Record<string, string | undefined>): void {
  const relaunch = relaunchFor(proc, env);
  if (relaunch) proc.execve!(relaunch.file, relaunch.args, relaunch.env);
}

/** One line for `--version`: the runtime and the heap settings in effect. */
export function describeRuntime(proc: RuntimeProcess): string {
  const runtime = proc.versions.deno !== undefined ? `Deno ${proc.versions.deno}` : `Node v${proc.versions.node}`;
  const flags = proc.execArgv.filter(isHeapFlag);
  const limitMb = Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
  return `${runtime}; V8 heap flags: ${flags.length > 0 ? flags.join(" ") : "none"}; heap limit ${limitMb} MB`;
}

/** A V8 flag that sizes the heap or its growth (`_` and `-` are the same to V8). */
function isHeapFlag(flag: string): boolean {
  return /^--(max-old-space-size|max-semi-space-size|max-heap-size|heap-growing-percent)\b/.test(flag.replaceAll("_", "-"));
}
