import type { PrismaClient } from "../db/prisma.ts";
import { completedTransactionsBound } from "./transaction-bound.ts";

/**
 * The trigger-fed change log (`content.etl_change`, optional migration). Each
 * entry carries the id of the transaction that wrote it. Reading only entries
 * below `readCompletedTransactionsBound` means every transaction that could still
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
  /** A table was truncated (entity `reload`): no row trigger saw what went, so everything must be loaded again. */
  reload: boolean;
  next: LogCursor;
  more: boolean;
}

export async function changeLogInstalled(prisma: PrismaClient): Promise<boolean> {
  const rows = await prisma.$queryRaw<Array<{ installed: boolean }>>`
    SELECT to_regclass('content.etl_change') IS NOT NULL AS installed`;
  return rows[0]?.installed === true;
}

/**
 * A transaction id below which every transaction that could write our log has
 * ended (see transaction-bound.ts). Transactions of other databases are
 * ignored, so a long one elsewhere on the server does not hold the log back; a
 * long writing transaction in this database does, until it ends: the price of
 * never skipping its entries.
 *
 * It must run as a statement of its own, outside any explicit transaction:
 * Postgres caches what `pg_stat_activity` shows for the rest of a transaction,
 * and the activity must be read after the snapshot is taken.
 */
export async function readCompletedTransactionsBound(prisma: PrismaClient): Promise<string> {
  const rows = await prisma.$queryRaw<Array<{ xmax: string; in_progress: string[]; running_here: string[] }>>`
    SELECT pg_snapshot_xmax(snapshot.s)::text AS xmax,
      ARRAY(SELECT xid::text FROM pg_snapshot_xip(snapshot.s) AS xip(xid)) AS in_progress,
      ARRAY(
        SELECT backend_xid::text FROM pg_stat_activity
        WHERE datname = current_database() AND backend_xid IS NOT NULL
        UNION ALL
        SELECT transaction::text FROM pg_prepared_xacts WHERE database = current_database()
      ) AS running_here
    FROM (SELECT pg_current_snapshot() AS s) AS snapshot`;
  const row = rows[0]!;
  const bound = completedTransactionsBound(
    { xmax: BigInt(row.xmax), inProgress: row.in_progress.map(BigInt) },
    row.running_here.map(BigInt),
  );
  return bound.toString();
}

/**
 * Whether committed entries wait at or above the bound: a transaction still
 * open in this database holds them back. When it ends without a change of
 * its own (a rollback, a transaction on other tables) nothing notifies, so a
 * watcher must look again soon rather than at the poll interval.
 */
export async function changesHeldBack(prisma: PrismaClient, bound: string): Promise<boolean> {
  const rows = await prisma.$queryRaw<Array<{ held: boolean }>>`
    SELECT EXISTS (SELECT 1 FROM content.etl_change AS change WHERE change.txid >= ${bound}::xid8) AS held`;
  return rows[0]?.held === true;
}

export async function readChangeLog(prisma: PrismaClient, after: LogCursor, bound: string, limit: number): Promise<LogEntries> {
  const rows = await prisma.$queryRaw<Array<{ seq: string; txid: string; entity: string; entity_id: string }>>`
    SELECT change.seq::text AS seq, change.txid::text AS txid, change.entity, change.entity_id::text AS entity_id
    FROM content.etl_change AS change
    WHERE (change.txid, change.seq) > (${after.txid}::xid8, ${after.seq}::bigint) AND change.txid < ${bound}::xid8
    -- Qualified on purpose: a bare ORDER BY txid would sort the text aliases above ("1000" < "999").
    ORDER BY change.txid, change.seq
    LIMIT ${limit}`;
  const byEntity: Record<ChangedEntity, Set<string>> = { film_work: new Set(), genre: new Set(), person: new Set() };
  let reload = false;
  for (const row of rows) {
    if (row.entity === "film_work" || row.entity === "genre" || row.entity === "person") {
      byEntity[row.entity].add(row.entity_id);
    } else if (row.entity === "reload") {
      reload = true;
    } else {
      throw new Error(`content.etl_change seq ${row.seq}: unknown entity "${row.entity}"`);
    }
  }
  const last = rows[rows.length - 1];
  const more = rows.length === limit;
  // The bound never goes down between reads; should it ever seem to (a
  // restored database), the cursor stays where it is rather than move back.
  const caughtUp: LogCursor = { txid: bound, seq: "0" };
  return {
    byEntity: { film_work: [...byEntity.film_work], genre: [...byEntity.genre], person: [...byEntity.person] },
    reload,
    next: more && last ? { txid: last.txid, seq: last.seq } : compareLogCursors(caughtUp, after) > 0 ? caughtUp : after,
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

/** Entries after `cursor` (all of them when null), for `status`. */
export async function countLogEntriesAfter(prisma: PrismaClient, cursor: LogCursor | null): Promise<number> {
  const from = cursor ?? { txid: "0", seq: "0" };
  const rows = await prisma.$queryRaw<Array<{ pending: bigint }>>`
    SELECT count(*) AS pending FROM content.etl_change WHERE (txid, seq) > (${from.txid}::xid8, ${from.seq}::bigint)`;
  return Number(rows[0]?.pending ?? 0);
}

/** Seconds since the oldest entry after `cursor` was logged (by the database's clock), or null when none is pending. */
export async function oldestLogEntryAgeSeconds(prisma: PrismaClient, cursor: LogCursor | null): Promise<number | null> {
  const from = cursor ?? { txid: "0", seq: "0" };
  const rows = await prisma.$queryRaw<Array<{ age: number | null }>>`
    SELECT extract(epoch FROM clock_timestamp() - min(logged))::float8 AS age
    FROM content.etl_change WHERE (txid, seq) > (${from.txid}::xid8, ${from.seq}::bigint)`;
  return rows[0]?.age ?? null;
}

/** Which of `filmIds` have a change-log entry after `cursor`: changes of theirs are pending. */
export async function filmsWithPendingChanges(prisma: PrismaClient, cursor: LogCursor | null, filmIds: string[]): Promise<Set<string>> {
  if (filmIds.length === 0) return new Set();
  const from = cursor ?? { txid: "0", seq: "0" };
  const rows = await prisma.$queryRaw<Array<{ id: string }>>`
    SELECT DISTINCT entity_id::text AS id FROM content.etl_change
    WHERE entity = 'film_work' AND entity_id = ANY(${filmIds}::uuid[]) AND (txid, seq) > (${from.txid}::xid8, ${from.seq}::bigint)`;
  return new Set(rows.map((row) => row.id));
}

export interface HoldingTransaction {
  pid: number;
  /** Null when the ETL's role may not see other roles' sessions (pg_read_all_stats). */
  applicationName: string | null;
  state: string | null;
  ageS: number | null;
}

/**
 * Writing transactions of this database open for longer than `minAgeS`: until
 * they end, the change log's bound cannot pass them, and changes committed
 * after them wait (`status` names them).
 */
export async function transactionsHoldingTheLog(prisma: PrismaClient, minAgeS: number): Promise<HoldingTransaction[]> {
  const rows = await prisma.$queryRaw<Array<{ pid: number; application_name: string | null; state: string | null; age_s: number | null }>>`
    SELECT pid, nullif(application_name, '') AS application_name, state,
           extract(epoch FROM clock_timestamp() - xact_start)::float8 AS age_s
    FROM pg_stat_activity
    WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
      AND (xact_start IS NULL OR xact_start < clock_timestamp() - make_interval(secs => ${minAgeS}))
    ORDER BY xact_start NULLS LAST LIMIT 3`;
  return rows.map((row) => ({ pid: row.pid, applicationName: row.application_name, state: row.state, ageS: row.age_s }));
}
