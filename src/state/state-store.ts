import { randomUUID } from "node:crypto";
import type { PrismaClient } from "../db/prisma.ts";
import { LockLostError } from "../errors.ts";
import { compareLogCursors, type LogCursor } from "../extract/change-log.ts";
import { advanceFanOut, completeFanOut, enqueueFanOut } from "./fan-out-queue.ts";
import type { Cursors, FanOut, IndexIdentity, SyncState, SyncWindow } from "./sync-state.ts";

type Part = "cursors" | "window" | "film" | "index" | "fanout";
const PARTS: readonly Part[] = ["cursors", "window", "film", "index", "fanout"];
/** What a new index or a full load starts without. */
const PROGRESS: readonly Part[] = ["cursors", "window", "film", "fanout"];

type Transaction = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
/** Generous: a busy pool or a slow disk must not turn a state write into an error. */
const TRANSACTION_OPTIONS = { maxWait: 30_000, timeout: 60_000 };

/**
 * A fencing token: the run that holds the lock named `lockName` wrote `token`
 * into `<lockName>:owner` when it took the lock. A run that lost its lock
 * finds another token there, and its state writes fail instead of landing.
 */
export interface OwnerFence {
  lockName: string;
  token: string;
  /**
   * Grows with every claim (and is at least the claim's time in ms): the
   * external version of every document the owner writes, so the engine
   * refuses an earlier owner's late writes.
   */
  epoch: number;
}

/**
 * Keeps the sync state in `content.etl_state`, one row per key, under a
 * namespace (the index alias), so a reindex into a new index has its own.
 * With a fence, every write runs in a transaction that first locks the
 * owner row and checks the token: the next owner's claim waits for a write
 * in progress, and every write after the claim fails.
 */
export class StateStore {
  private readonly prisma: PrismaClient;
  readonly namespace: string;
  private readonly fence: OwnerFence | null;

  constructor(prisma: PrismaClient, namespace: string, fence: OwnerFence | null = null) {
    this.prisma = prisma;
    this.namespace = namespace;
    this.fence = fence;
  }

  /** Records a new owner of `lockName` (call right after taking the lock); earlier owners' writes fail from now on. */
  static async claim(prisma: PrismaClient, lockName: string): Promise<OwnerFence> {
    return prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<Array<{ previous: string | null; now_ms: string }>>`
        SELECT (SELECT value->>'epoch' FROM content.etl_state WHERE name = ${ownerKey(lockName)} FOR UPDATE) AS previous,
               floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint::text AS now_ms`;
      const previous = Number(rows[0]?.previous ?? 0);
      const fence: OwnerFence = { lockName, token: randomUUID(), epoch: Math.max(previous + 1, Number(rows[0]!.now_ms)) };
      const value = { token: fence.token, epoch: fence.epoch, since: new Date().toISOString() };
      await tx.etlState.upsert({ where: { name: ownerKey(lockName) }, create: { name: ownerKey(lockName), value }, update: { value } });
      return fence;
    }, TRANSACTION_OPTIONS);
  }

  private key(part: Part): string {
    return `${this.namespace}:${part}`;
  }

  async load(): Promise<SyncState> {
    const rows = await this.prisma.etlState.findMany({ where: { name: { in: PARTS.map((part) => this.key(part)) } } });
    const value = (part: Part) => rows.find((row) => row.name === this.key(part))?.value ?? null;
    const film = value("film") as { after: string | null } | null;
    return {
      cursors: value("cursors") as Cursors | null,
      window: value("window") as SyncWindow | null,
      filmAfter: film?.after ?? null,
      index: value("index") as IndexIdentity | null,
      fanOuts: (value("fanout") as { queue: FanOut[] } | null)?.queue ?? [],
    };
  }

  /**
   * Fixes a new window and rewinds the film cursor, together. A full load
   * writes every film after it was planned, so no fan-out is left to do.
   */
  async beginWindow(window: SyncWindow): Promise<void> {
    await this.write(async (tx) => {
      await this.upsert(tx, "window", window);
      await this.upsert(tx, "film", { after: null });
      if (window.fullLoad) await tx.etlState.deleteMany({ where: { name: this.key("fanout") } });
    });
  }

  async saveFilmCursor(after: string): Promise<void> {
    await this.write((tx) => this.upsert(tx, "film", { after }));
  }

  /**
   * The window is done: move the cursors, record its deferred fan-out and
   * forget the window, together, so the cursors never pass a change whose
   * films are neither written nor recorded as still to write.
   */
  async finishWindow(window: Pick<SyncWindow, "next" | "deferred" | "plannedAt">): Promise<void> {
    await this.write(async (tx) => {
      await this.upsert(tx, "cursors", window.next);
      await tx.etlState.deleteMany({ where: { name: { in: [this.key("window"), this.key("film")] } } });
      if (window.deferred) {
        const since = window.plannedAt ?? new Date().toISOString();
        await this.updateFanOuts(tx, (queue) => enqueueFanOut(queue, window.deferred!, since));
      }
    });
  }

  /** The oldest fan-out is written up to film `after`. */
  async saveFanOutCursor(after: string): Promise<void> {
    await this.write((tx) => this.updateFanOuts(tx, (queue) => advanceFanOut(queue, after)));
  }

  /** The oldest fan-out is written in full. */
  async finishFanOut(): Promise<void> {
    await this.write((tx) => this.updateFanOuts(tx, completeFanOut));
  }

  private async updateFanOuts(tx: Transaction, change: (queue: FanOut[]) => FanOut[]): Promise<void> {
    const row = await tx.etlState.findUnique({ where: { name: this.key("fanout") } });
    const queue = change((row?.value as { queue: FanOut[] } | undefined)?.queue ?? []);
    if (queue.length === 0) await tx.etlState.deleteMany({ where: { name: this.key("fanout") } });
    else await this.upsert(tx, "fanout", { queue });
  }

  /** Records which concrete index this state describes. */
  async recordIndex(index: IndexIdentity): Promise<void> {
    await this.write((tx) => this.upsert(tx, "index", index));
  }

  /** Forgets all progress, as for an index that is not the one the state described, and records the new one. */
  async startOver(index: IndexIdentity): Promise<void> {
    await this.write(async (tx) => {
      await tx.etlState.deleteMany({ where: { name: { in: PROGRESS.map((part) => this.key(part)) } } });
      await this.upsert(tx, "index", index);
    });
  }

  async clear(): Promise<void> {
    await this.write((tx) => tx.etlState.deleteMany({ where: { name: { in: PARTS.map((part) => this.key(part)) } } }).then(() => {}));
  }

  /**
   * Moves this namespace's cursors, fan-outs still to rewrite and index
   * identity to `target` (a reindex, before it swaps the alias), and drops
   * this namespace, in one transaction: no moment leaves both, or neither.
   */
  async handOverTo(target: StateStore): Promise<void> {
    const state = await this.load();
    await target.write(async (tx) => {
      await tx.etlState.deleteMany({ where: { name: { in: PARTS.map((part) => target.key(part)) } } });
      if (state.cursors) await target.upsert(tx, "cursors", state.cursors);
      if (state.fanOuts.length > 0) await target.upsert(tx, "fanout", { queue: state.fanOuts });
      if (state.index) await target.upsert(tx, "index", state.index);
      await tx.etlState.deleteMany({ where: { name: { in: PARTS.map((part) => this.key(part)) } } });
    });
  }

  /** Runs `work` in a transaction, after checking (and locking) the owner row when fenced. */
  private async write(work: (tx: Transaction) => Promise<void>): Promise<void> {
    const fence = this.fence;
    await this.prisma.$transaction(async (tx) => {
      if (fence) {
        const rows = await tx.$queryRaw<Array<{ token: string | null }>>`
          SELECT value->>'token' AS token FROM content.etl_state WHERE name = ${ownerKey(fence.lockName)} FOR UPDATE`;
        if (rows[0]?.token !== fence.token) throw new LockLostError(fence.lockName, new Error("another run took the lock"));
      }
      await work(tx);
    }, TRANSACTION_OPTIONS);
  }

  /** Every namespace that has state. */
  static async namespaces(prisma: PrismaClient): Promise<string[]> {
    const rows = await prisma.etlState.findMany({ select: { name: true }, where: { NOT: { name: { startsWith: GLOBAL_PREFIX } } } });
    return [...new Set(rows.map((row) => namespaceOf(row.name)))].sort();
  }

  /** Deletes the state of these namespaces. */
  static async forget(prisma: PrismaClient, namespaces: string[]): Promise<number> {
    if (namespaces.length === 0) return 0;
    const names = namespaces.flatMap((namespace) => PARTS.map((part) => `${namespace}:${part}`));
    return (await prisma.etlState.deleteMany({ where: { name: { in: names } } })).count;
  }

  /**
   * The change-log position every consumer has passed: the oldest of each
   * namespace's saved log cursor and of the log cursor a window in progress
   * starts from. Null when some consumer has none (it synced without the log),
   * so nothing may be pruned.
   */
  static async oldestLogPosition(prisma: PrismaClient, retentionMs: number): Promise<{ position: LogCursor | null; abandoned: string[] }> {
    const rows = await prisma.etlState.findMany({ where: { NOT: { name: { startsWith: GLOBAL_PREFIX } } } });
    const lastActive = new Map<string, number>();
    for (const row of rows) {
      const namespace = namespaceOf(row.name);
      lastActive.set(namespace, Math.max(lastActive.get(namespace) ?? 0, row.modified.getTime()));
    }
    const abandoned = [...lastActive].filter(([, at]) => Date.now() - at > retentionMs).map(([namespace]) => namespace);
    const positions: Array<LogCursor | null> = rows
      .filter((row) => (row.name.endsWith(":cursors") || row.name.endsWith(":window")) && !abandoned.includes(namespaceOf(row.name)))
      .map((row) =>
        row.name.endsWith(":cursors")
          ? ((row.value as unknown as Cursors).log ?? null)
          : ((row.value as unknown as SyncWindow).next.log ?? null),
      );
    if (positions.length === 0 || positions.some((position) => position === null)) return { position: null, abandoned };
    return { position: (positions as LogCursor[]).reduce((min, c) => (compareLogCursors(c, min) < 0 ? c : min)), abandoned };
  }

  /** When each namespace's state last moved (ms since epoch). */
  static async lastActivity(prisma: PrismaClient): Promise<Map<string, number>> {
    const rows = await prisma.etlState.findMany({
      select: { name: true, modified: true },
      where: { NOT: { name: { startsWith: GLOBAL_PREFIX } } },
    });
    const lastActive = new Map<string, number>();
    for (const row of rows) {
      const namespace = namespaceOf(row.name);
      lastActive.set(namespace, Math.max(lastActive.get(namespace) ?? 0, row.modified.getTime()));
    }
    return lastActive;
  }

  /** Records how far the change log was pruned: a consumer behind it has lost entries and must load in full. */
  static async recordPruned(prisma: PrismaClient, upTo: LogCursor): Promise<void> {
    const previous = await StateStore.prunedUpTo(prisma);
    if (previous && compareLogCursors(previous, upTo) >= 0) return;
    const value = JSON.parse(JSON.stringify(upTo));
    await prisma.etlState.upsert({ where: { name: PRUNED_KEY }, create: { name: PRUNED_KEY, value }, update: { value } });
  }

  static async prunedUpTo(prisma: PrismaClient): Promise<LogCursor | null> {
    const row = await prisma.etlState.findUnique({ where: { name: PRUNED_KEY } });
    return (row?.value as LogCursor | undefined) ?? null;
  }

  private async upsert(tx: Transaction, part: Part, value: unknown): Promise<void> {
    const json = JSON.parse(JSON.stringify(value));
    await tx.etlState.upsert({
      where: { name: this.key(part) },
      create: { name: this.key(part), value: json },
      update: { value: json },
    });
  }
}

/**
 * Keys of no namespace start with this: index names cannot start with `-` (and,
 * unlike `_`, it is no LIKE wildcard for Prisma's startsWith).
 */
const GLOBAL_PREFIX = "-";
const PRUNED_KEY = `${GLOBAL_PREFIX}change-log:pruned`;

function namespaceOf(name: string): string {
  return name.slice(0, name.lastIndexOf(":"));
}

function ownerKey(lockName: string): string {
  return `${lockName}:owner`;
}
