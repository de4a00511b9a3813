import type { PrismaClient } from "../db/prisma.ts";

/**
 * The trigger-fed change log (`content.etl_change`, optional migration). Each
 * entry carries the id of the transaction that wrote it. Reading only entries
 * of transactions older than the snapshot's xmin means every transaction below
 * that bound has finished: an entry that commits late can never fall behind
 * the cursor, which a timestamp cursor cannot promise.
 */
export type ChangedEntity = "film_work" | "genre" | "person";

export interface LogCursor {
  /** xid8 as decimal text. */
  txid: string;
  seq: string;
}

export interface LogEntries {
  byEntity: Record<ChangedEntity, string[]>;
  next: LogCursor;
  more: boolean;
  count: number;
}

export async function changeLogInstalled(prisma: PrismaClient): Promise<boolean> {
  const rows = await prisma.$queryRaw<Array<{ installed: boolean }>>`
    SELECT to_regclass('content.etl_change') IS NOT NULL AS installed`;
  return rows[0]?.installed === true;
}

/** Every transaction with an id below this bound has committed or aborted. */
export async function completedTransactionsBound(prisma: PrismaClient): Promise<string> {
  const rows = await prisma.$queryRaw<Array<{ xmin: string }>>`
    SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`;
  return rows[0]!.xmin;
}

export async function readChangeLog(
  prisma: PrismaClient,
  after: LogCursor,
  bound: string,
  limit: number,
): Promise<LogEntries> {
  const rows = await prisma.$queryRaw<Array<{ seq: string; txid: string; entity: string; entity_id: string }>>`
    SELECT seq::text AS seq, txid::text AS txid, entity, entity_id::text AS entity_id
    FROM content.etl_change
    WHERE (txid, seq) > (${after.txid}::xid8, ${after.seq}::bigint) AND txid < ${bound}::xid8
    ORDER BY txid, seq
    LIMIT ${limit}`;
  const byEntity: Record<ChangedEntity, Set<string>> = { film_work: new Set(), genre: new Set(), person: new Set() };
  for (const row of rows) {
    if (row.entity === "film_work" || row.entity === "genre" || row.entity === "person") {
      byEntity[row.entity].add(row.entity_id);
    } else {
      throw new Error(`content.etl_change seq ${row.seq}: unknown entity "${row.entity}"`);
    }
  }
  const last = rows[rows.length - 1];
  const more = rows.length === limit;
  return {
    byEntity: { film_work: [...byEntity.film_work], genre: [...byEntity.genre], person: [...byEntity.person] },
    next: more && last ? { txid: last.txid, seq: last.seq } : { txid: bound, seq: "0" },
    more,
    count: rows.length,
  };
}

/** Deletes entries every consumer has passed. */
export async function pruneChangeLog(prisma: PrismaClient, upTo: LogCursor): Promise<number> {
  return prisma.$executeRaw`
    DELETE FROM content.etl_change WHERE (txid, seq) <= (${upTo.txid}::xid8, ${upTo.seq}::bigint)`;
}
