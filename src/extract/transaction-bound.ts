/**
 * The change log's watermark, as pure arithmetic on transaction ids.
 *
 * `pg_current_snapshot()` gives full 64-bit ids (xid8): the snapshot's `xmax`
 * and `inProgress`, every transaction of the whole server running when the
 * snapshot was taken. `pg_stat_activity.backend_xid` and
 * `pg_prepared_xacts.transaction` give 32-bit ids of the transactions of *this*
 * database, read a moment later. The bound is the oldest full id that is in
 * both, or `xmax` when none is:
 *
 * - an id below `xmax` and not in `inProgress` had finished before the snapshot;
 * - one in `inProgress` that is no longer running here has finished since, or
 *   belongs to another database, which cannot write our log;
 * - one running here and in `inProgress` holds the bound at its own id;
 * - a transaction running here that is not in `inProgress` got its id after the
 *   snapshot, so at or above `xmax`: the bound is below it anyway.
 *
 * So every entry stamped below the bound was written by a transaction that has
 * ended, and a later read sees it if it committed. Matching on the low 32 bits
 * is exact because the ids of live transactions span less than 2^31.
 */
export const XID_EPOCH_SIZE = 1n << 32n;

export interface TransactionSnapshot {
  xmax: bigint;
  inProgress: readonly bigint[];
}

export function completedTransactionsBound(snapshot: TransactionSnapshot, runningHere: readonly bigint[]): bigint {
  const here = new Set(runningHere.map((xid) => xid % XID_EPOCH_SIZE));
  let bound = snapshot.xmax;
  for (const xid of snapshot.inProgress) {
    if (xid < bound && here.has(xid % XID_EPOCH_SIZE)) bound = xid;
  }
  return bound;
}

/** Epoch and 32-bit part of a full transaction id, for tests and messages. */
export function fullTransactionId(epoch: number, xid: number): bigint {
  return BigInt(epoch) * XID_EPOCH_SIZE + BigInt(xid);
}
