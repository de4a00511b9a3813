import type { PrismaClient } from "../db/prisma.ts";
import { compareLogCursors, type LogCursor } from "../extract/change-log.ts";
import type { Cursors, IndexIdentity, SyncState, SyncWindow } from "./sync-state.ts";

type Part = "cursors" | "window" | "film" | "index";
const PARTS: readonly Part[] = ["cursors", "window", "film", "index"];

/**
 * Keeps the sync state in `content.etl_state`, one row per key, under a
 * namespace (the index alias), so a reindex into a new index has its own.
 * Every write first passes `fence` (the run's lock check), so a run that lost
 * its lock cannot move state another run now owns.
 */
export class StateStore {
  constructor(
    private readonly prisma: PrismaClient,
    readonly namespace: string,
    private readonly fence: () => Promise<void> = async () => {},
  ) {}

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
    };
  }

  /** Fixes a new window and rewinds the film cursor, together. */
  async beginWindow(window: SyncWindow): Promise<void> {
    await this.fence();
    await this.prisma.$transaction([this.upsert("window", window), this.upsert("film", { after: null })]);
  }

  async saveFilmCursor(after: string): Promise<void> {
    await this.fence();
    await this.upsert("film", { after });
  }

  /** The window is done: move the cursors and forget the window, together. */
  async finishWindow(cursors: Cursors): Promise<void> {
    await this.fence();
    await this.prisma.$transaction([
      this.upsert("cursors", cursors),
      this.prisma.etlState.deleteMany({ where: { name: { in: [this.key("window"), this.key("film")] } } }),
    ]);
  }

  /** Records which concrete index this state describes. */
  async recordIndex(index: IndexIdentity): Promise<void> {
    await this.fence();
    await this.upsert("index", index);
  }

  /** Forgets all progress, as for an index that is not the one the state described, and records the new one. */
  async startOver(index: IndexIdentity): Promise<void> {
    await this.fence();
    await this.prisma.$transaction([
      this.prisma.etlState.deleteMany({ where: { name: { in: [this.key("cursors"), this.key("window"), this.key("film")] } } }),
      this.upsert("index", index),
    ]);
  }

  async clear(): Promise<void> {
    await this.fence();
    await this.prisma.etlState.deleteMany({ where: { name: { startsWith: `${this.namespace}:` } } });
  }

  /** Copies this namespace's cursors and index to another (after a reindex swaps the alias). */
  async copyTo(target: StateStore): Promise<void> {
    const state = await this.load();
    await target.clear();
    if (state.cursors) await target.upsert("cursors", state.cursors);
    if (state.index) await target.upsert("index", state.index);
  }

  /** Every namespace that has state. */
  static async namespaces(prisma: PrismaClient): Promise<string[]> {
    const rows = await prisma.etlState.findMany({ select: { name: true } });
    return [...new Set(rows.map((row) => row.name.slice(0, row.name.lastIndexOf(":"))))].sort();
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
  static async oldestLogPosition(prisma: PrismaClient): Promise<LogCursor | null> {
    const rows = await prisma.etlState.findMany({ where: { OR: [{ name: { endsWith: ":cursors" } }, { name: { endsWith: ":window" } }] } });
    const positions: Array<LogCursor | null> = rows.map((row) =>
      row.name.endsWith(":cursors") ? ((row.value as unknown as Cursors).log ?? null) : ((row.value as unknown as SyncWindow).next.log ?? null),
    );
    if (positions.length === 0 || positions.some((position) => position === null)) return null;
    return (positions as LogCursor[]).reduce((min, c) => (compareLogCursors(c, min) < 0 ? c : min));
  }

  private upsert(part: Part, value: unknown) {
    const json = JSON.parse(JSON.stringify(value));
    return this.prisma.etlState.upsert({
      where: { name: this.key(part) },
      create: { name: this.key(part), value: json },
      update: { value: json },
    });
  }
}
