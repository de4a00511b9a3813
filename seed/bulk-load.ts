// Bulk loading into PostgreSQL: COPY streams with backpressure, and the usual
// bulk-load trick of building indexes and checking foreign keys once at the end
// instead of row by row.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { CopyTable } from "./copy-format.ts";

export function qualified(schema: string, table: string): string {
  return `"${schema}"."${table}"`;
}

const chunkCharacters = 32 * 1024;

/**
 * Streams the rows into `schema.table` with COPY (FREEZE: the table must have
 * been created or truncated in the current transaction). `rows` is consumed
 * lazily as the server takes the data, so memory stays bounded. Returns the row count.
 */
export async function copyRows<Row>(client: pg.ClientBase, schema: string, target: CopyTable<Row>, rows: Iterable<Row>): Promise<number> {
  let total = 0;
  function* chunks(): Generator<string> {
    let chunk = "";
    for (const row of rows) {
      chunk += target.format(row);
      total++;
      // Small chunks: short-lived strings are cheap for the GC, big ones are not.
      if (chunk.length >= chunkCharacters) {
        yield chunk;
        chunk = "";
      }
    }
    if (chunk) yield chunk;
  }
  const columns = target.columns.map((column) => `"${column}"`).join(", ");
  const copy = client.query(copyFrom(`COPY ${qualified(schema, target.table)} (${columns}) FROM STDIN WITH (FREEZE)`));
  await pipeline(Readable.from(chunks(), { objectMode: false, highWaterMark: 4 * chunkCharacters }), copy);
  return total;
}

interface Definition {
  /** Quoted, schema-qualified. */
  table: string;
  /** Quoted (indexes: schema-qualified). */
  name: string;
  definition: string;
}

export interface RestoreStep {
  /** Statements done so far, of `total`. */
  done: number;
  total: number;
  /** The statement about to run ("" when all are done). */
  sql: string;
}

export interface SuspendedIndexes {
  /** Recreates, in order, primary keys and unique constraints, other indexes, then foreign keys (validating them). */
  restore(onStep: (step: RestoreStep) => void): Promise<void>;
}

/**
 * Drops the primary keys, unique constraints, indexes and foreign keys of
 * `tables` (and foreign keys pointing at them), remembering their definitions.
 * Meant to run inside the loading transaction, so a failure leaves them intact.
 */
export async function suspendIndexes(client: pg.ClientBase, schema: string, tables: readonly string[]): Promise<SuspendedIndexes> {
  const relations = tables.map((table) => qualified(schema, table));
  const constraints = await client.query<Definition & { kind: string }>(
    `SELECT format('%I.%I', n.nspname, t.relname) AS table, format('%I', c.conname) AS name, c.contype AS kind,
            pg_get_constraintdef(c.oid) AS definition
     FROM pg_constraint c
     JOIN pg_class t ON t.oid = c.conrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE (c.conrelid = ANY($1::regclass[]) AND c.contype IN ('p', 'u', 'x', 'f'))
        OR (c.confrelid = ANY($1::regclass[]) AND c.contype = 'f')
     ORDER BY c.oid`,
    [relations],
  );
  const indexes = await client.query<Definition>(
    `SELECT format('%I.%I', n.nspname, t.relname) AS table, format('%I.%I', n.nspname, ic.relname) AS name,
            pg_get_indexdef(i.indexrelid) AS definition
     FROM pg_index i
     JOIN pg_class ic ON ic.oid = i.indexrelid
     JOIN pg_class t ON t.oid = i.indrelid
     JOIN pg_namespace n ON n.oid = ic.relnamespace
     WHERE i.indrelid = ANY($1::regclass[])
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
     ORDER BY i.indexrelid`,
    [relations],
  );
  const foreignKeys = constraints.rows.filter((row) => row.kind === "f");
  const keys = constraints.rows.filter((row) => row.kind !== "f");

  for (const fk of foreignKeys) await client.query(`ALTER TABLE ${fk.table} DROP CONSTRAINT ${fk.name}`);
  for (const key of keys) await client.query(`ALTER TABLE ${key.table} DROP CONSTRAINT ${key.name}`);
  for (const index of indexes.rows) await client.query(`DROP INDEX ${index.name}`);

  const steps = [
    ...keys.map((key) => ({ table: key.table, sql: `ALTER TABLE ${key.table} ADD CONSTRAINT ${key.name} ${key.definition}` })),
    ...indexes.rows.map((index) => ({ table: index.table, sql: index.definition })),
    ...foreignKeys.map((fk) => ({ table: fk.table, sql: `ALTER TABLE ${fk.table} ADD CONSTRAINT ${fk.name} ${fk.definition}` })),
  ];
  return {
    async restore(onStep) {
      for (const [done, step] of steps.entries()) {
        onStep({ done, total: steps.length, sql: step.sql });
        await client.query(step.sql);
      }
      onStep({ done: steps.length, total: steps.length, sql: "" });
    },
  };
}
