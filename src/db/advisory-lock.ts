import pg from "pg";

export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Takes a session-level advisory lock on a connection of its own (a pooled
 * Prisma connection could not hold it), or returns null when another session
 * holds it. The key is derived from `name` by Postgres's hashtext.
 */
export async function tryAdvisoryLock(databaseUrl: string, name: string): Promise<HeldLock | null> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: "movies-etl lock" });
  await client.connect();
  // A broken lock connection must not crash the process; the work it guards
  // stays safe because every write is idempotent.
  client.on("error", () => {});
  try {
    const result = await client.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_lock(hashtext($1)) AS locked",
      [`movies-etl:${name}`],
    );
    if (result.rows[0]?.locked !== true) {
      await client.end();
      return null;
    }
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return {
    async release() {
      await client.query("SELECT pg_advisory_unlock(hashtext($1))", [`movies-etl:${name}`]).catch(() => {});
      await client.end().catch(() => {});
    },
  };
}
