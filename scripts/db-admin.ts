// Creating and dropping whole databases. These statements cannot run inside the
// database they act on, so they go through the server's maintenance database
// (`postgres`) with the same credentials.
import pg from "pg";
import { databaseNameOf, withDatabaseName } from "./db-url.ts";

const maintenanceDatabase = "postgres";

export async function withAdminClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabaseName(databaseUrl, maintenanceDatabase) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  const result = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
  return result.rowCount === 1;
}

/** Creates the database named in `databaseUrl` unless it exists; tells whether it did. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const name = databaseNameOf(databaseUrl);
  return withAdminClient(databaseUrl, async (client) => {
    if (await databaseExists(client, name)) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
    } catch (error) {
      // Someone else created it between our look and our CREATE: fine.
      if ((error as { code?: string }).code === "42P04") return false;
      throw error;
    }
    return true;
  });
}

export async function createDatabase(databaseUrl: string, options: { template?: string } = {}): Promise<void> {
  const name = databaseNameOf(databaseUrl);
  const template = options.template ? ` TEMPLATE ${quoteIdentifier(options.template)}` : "";
  await withAdminClient(databaseUrl, (client) => client.query(`CREATE DATABASE ${quoteIdentifier(name)}${template}`));
}

/** Drops the database named in `databaseUrl`, closing its connections first. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = databaseNameOf(databaseUrl);
  await withAdminClient(databaseUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`));
}
