import type { PrismaClient } from "../db/prisma.ts";
import { compareLogCursors, pruneChangeLog, type LogCursor } from "../extract/change-log.ts";
import type { Cursors, SyncState, SyncWindow } from "./sync-state.ts";

/**
 * Keeps the sync state in `content.etl_state`, one row per key, under a
 * namespace (the index alias), so a reindex into a new index has its own.
 */
export class StateStore {
  private readonly prisma: PrismaClient;
  readonly namespace: string;

  constructor(prisma: PrismaClient, namespace: string) {
    this.prisma = prisma;
    this.namespace = namespace;
  }

  private key(part: "cursors" | "window" | "film"): string {
    return `${this.namespace}:${part}`;
  }

  async load(): Promise<SyncState> {
    const rows = await this.prisma.etlState.findMany({
      where: { name: { in: [this.key("cursors"), this.key("window"), this.key("film")] } },
    });
    const value = (part: "cursors" | "window" | "film") => rows.find((row) => row.name === this.key(part))?.value ?? null;
    const film = value("film") as { after: string | null } | null;
    return {
      cursors: value("cursors") as Cursors | null,
      window: value("window") as SyncWindow | null,
      filmAfter: film?.after ?? null,
    };
  }

  /** Fixes a new window and rewinds the film cursor, together. */
  async beginWindow(window: SyncWindow): Promise<void> {
    await this.prisma.$transaction([
      this.upsert("window", window),
      this.upsert("film", { after: null }),
    ]);
  }

  async saveFilmCursor(after: string): Promise<void> {
    await this.upsert("film", { after });
  }

  /** The window is done: move the cursors and forget the window, together. */
  async finishWindow(cursors: Cursors): Promise<void> {
    await this.prisma.$transaction([
      this.upsert("cursors", cursors),
      this.prisma.etlState.deleteMany({ where: { name: { in: [this.key("window"), this.key("film")] } } }),
    ]);
  }

  async clear(): Promise<void> {
    await this.prisma.etlState.deleteMany({ where: { name: { startsWith: `${this.namespace}:` } } });
  }

  /**
   * Forgets the state of earlier reindexes into `<alias>_*` indices that never
   * finished: left alone, their change-log cursors would hold pruning back.
   */
  static async forgetAbandonedReindexes(prisma: PrismaClient, alias: string): Promise<number> {
    const rows = await prisma.etlState.findMany({ where: { name: { startsWith: `${alias}_` } }, select: { name: true } });
    const versioned = new RegExp(`^${alias.replace(/[.]/g, "\\.")}_\\d{8}t\\d{9}z:`);
    const names = rows.map((row) => row.name).filter((name) => versioned.test(name));
    if (names.length === 0) return 0;
    const result = await prisma.etlState.deleteMany({ where: { name: { in: names } } });
    return result.count;
  }

  /** Copies this namespace's state to another (after a reindex swaps the alias). */
  async copyTo(target: StateStore): Promise<void> {
    const state = await this.load();
    await target.clear();
    if (state.cursors) await target.upsert("cursors", state.cursors);
  }

  /**
   * Deletes change-log entries that every namespace's cursor has passed.
   * Returns how many went.
   */
  async pruneConsumedChanges(): Promise<number> {
    const rows = await this.prisma.etlState.findMany({ where: { name: { endsWith: ":cursors" } } });
    const logCursors = rows.map((row) => (row.value as unknown as Cursors).log).filter((c): c is LogCursor => c !== null);
    if (logCursors.length === 0 || logCursors.length < rows.length) return 0;
    const oldest = logCursors.reduce((min, c) => (compareLogCursors(c, min) < 0 ? c : min));
    return pruneChangeLog(this.prisma, oldest);
  }

  private upsert(part: "cursors" | "window" | "film", value: unknown) {
    const json = JSON.parse(JSON.stringify(value));
    return this.prisma.etlState.upsert({
      where: { name: this.key(part) },
      create: { name: this.key(part), value: json },
      update: { value: json },
    });
  }
}
