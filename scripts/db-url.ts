// Database URLs: the project default, swapping the database name, and a form
// safe to print (never the password).

import { DEFAULT_DATABASE_URL } from "../src/config.ts";

export const defaultDatabaseUrl = DEFAULT_DATABASE_URL;

export function databaseUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.DATABASE_URL || defaultDatabaseUrl;
}

export function databaseNameOf(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ""));
  if (!name) throw new Error(`The database URL ${redactDatabaseUrl(databaseUrl)} names no database`);
  return name;
}

/** The same server and credentials, another database. */
export function withDatabaseName(databaseUrl: string, databaseName: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(databaseName)}`;
  return url.toString();
}

/** `user@host:port/database`: enough to tell where we are, nothing secret. */
export function redactDatabaseUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    const user = url.username ? `${decodeURIComponent(url.username)}@` : "";
    return `${user}${url.host}${url.pathname}`;
  } catch {
    return "<unparseable database URL>";
  }
}
