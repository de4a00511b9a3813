import pg from "pg";
import { LockLostError } from "../errors.ts";

/**
 * A session-level advisory lock held on a connection of its own (a pooled
 * Prisma connection could not hold it). The lock lives exactly as long as
 * that session: if the session ends (terminated, network lost), Postgres drops
 * the lock and another run may take it. So the holder checks the session
 * before every write (`assertHeld`), and stops instead of writing beside
 * another run.
 */
export interface HeldLock {
  /** Throws LockLostError unless the session holding the lock is still alive. */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

export interface LockOptions {
  /** Wait in Postgres's queue for the lock instead of giving up when it is held. */
  wait?: boolean;
  /** Ends a wait early (the lock is then not taken). */
  signal?: AbortSignal;
  /** Bound on one liveness check; a session that does not answer counts as lost. */
  checkTimeoutMs?: number;
}

const LOCK_NOT_AVAILABLE = "55P03";
/** How long one wait in Postgres's lock queue lasts before the stop signal is looked at again. */
const WAIT_SLICE = "2s";

/** Takes the lock named `name`, or returns null when another session holds it (or a wait was aborted). */
export async function acquireAdvisoryLock(databaseUrl: string, name: string, options: LockOptions = {}): Promise<HeldLock | null> {
  const key = `movies-etl:${name}`;
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "movies-etl lock", keepAlive: true });
  await client.connect();
  let lost: unknown = null;
  // The session ending shows up here first; `assertHeld` reports it.
  client.on("error", (error) => (lost ??= error));
  client.on("end", () => (lost ??= new Error("connection closed")));

  try {
    const locked = options.wait ? await waitInQueue(client, key, options.signal) : await tryOnce(client, key);
    if (!locked) {
      await client.end();
      return null;
    }
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }

  const checkTimeoutMs = options.checkTimeoutMs ?? 10_000;
  let released = false;
  return {
    async assertHeld() {
      if (released) throw new LockLostError(name, new Error("already released"));
      if (lost) throw new LockLostError(name, lost);
      try {
        await client.query({ text: "SELECT 1", query_timeout: checkTimeoutMs } as pg.QueryConfig);
      } catch (error) {
        lost ??= error;
        throw new LockLostError(name, error);
      }
    },
    async release() {
      if (released) return;
      released = true;
      if (!lost) await client.query("SELECT pg_advisory_unlock(hashtext($1))", [key]).catch(() => {});
      await client.end().catch(() => {});
    },
  };
}

async function tryOnce(client: pg.Client, key: string): Promise<boolean> {
  const result = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtext($1)) AS locked", [key]);
  return result.rows[0]?.locked === true;
}

/**
 * Waits in Postgres's queue: the holder's release hands the lock to the
 * waiter before any later try can take it, so a waiter cannot be starved by a
 * runner that releases and retakes the lock between cycles. The wait is cut
 * in slices so that a stop request is honoured within one slice.
 */
async function waitInQueue(client: pg.Client, key: string, signal?: AbortSignal): Promise<boolean> {
  await client.query(`SET lock_timeout = '${WAIT_SLICE}'`);
  for (;;) {
    if (signal?.aborted) return false;
    try {
      await client.query("SELECT pg_advisory_lock(hashtext($1))", [key]);
      await client.query("SET lock_timeout = 0");
      return true;
    } catch (error) {
      if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
    }
  }
}
