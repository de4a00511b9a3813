import type { PrismaClient } from "../db/prisma.ts";

/**
 * The trigger-fed change log (`content.etl_change`, optional migration). Each
 * entry carries the id of the transaction that wrote it. Reading only entries
 * below `completedTransactionsBound` means every transaction that could still
 * add an entry there has finished: an entry that commits late can never fall
 * behind the cursor, which a timestamp cursor cannot promise.
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
}

export async function changeLogInstalled(prisma: PrismaClient): Promise<boolean> {
  const rows = await prisma.$queryRaw<Array<{ installed: boolean }>>`
    SELECT to_regclass('content.etl_change') IS NOT NULL AS installed`;
  return rows[0]?.installed === true;
}

/**
 * A transaction id below which no transaction of this database is still in
 * progress: every change-log entry under it is committed (or rolled back) for
 * good. Transactions of other databases cannot write our log, so unlike the
 * snapshot's xmin this bound is not held back by a long transaction elsewhere
 * on the server; a long writing transaction in this database does hold it back
 * until it ends, which is the price of never skipping its entries.
 *
 * `pg_stat_activity.backend_xid` is a 32-bit xid, visible to every role; it is
 * widened to xid8 with the epoch of the snapshot's xmax. A transaction that
 * gets its id after the snapshot gets one at or above xmax.
 */
export async function completedTransactionsBound(prisma: PrismaClient): Promise<string> {
  const rows = await prisma.$queryRaw<Array<{ bound: string }>>`
    WITH snapshot AS (
      SELECT pg_snapshot_xmax(pg_current_snapshot())::text::numeric AS xmax
    ), running AS (
      SELECT backend_xid::text::numeric AS xid FROM pg_stat_activity
      WHERE datname = current_database() AND backend_xid IS NOT NULL
      UNION ALL
      SELECT transaction::text::numeric FROM pg_prepared_xacts WHERE database = current_database()
    ), widened AS (
      SELECT CASE WHEN running.xid <= mod(snapshot.xmax, 4294967296)
        THEN snapshot.xmax - mod(snapshot.xmax, 4294967296) + running.xid
        ELSE snapshot.xmax - mod(snapshot.xmax, 4294967296) - 4294967296 + running.xid END AS xid
      FROM running, snapshot
    )
    SELECT LEAST((SELECT xmax FROM snapshot), (SELECT min(xid) FROM widened))::text AS bound`;
  return rows[0]!.bound;
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
  };
}

export function compareLogCursors(a: LogCursor, b: LogCursor): number {
  const tx = BigInt(a.txid) - BigInt(b.txid);
  if (tx !== 0n) return tx < 0n ? -1 : 1;
  const seq = BigInt(a.seq) - BigInt(b.seq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** Deletes entries every consumer has passed. */
export async function pruneChangeLog(prisma: PrismaClient, upTo: LogCursor): Promise<number> {
  return prisma.$executeRaw`
    DELETE FROM content.etl_change WHERE (txid, seq) <= (${upTo.txid}::xid8, ${upTo.seq}::bigint)`;
}
