import { IndexGoneError, IndexWriteBlockedError, LockLostError, PermissionDeniedError, type RejectedDocument } from "../errors.ts";
import type { Guard } from "../resilience/policies.ts";
import { writeBulk, type IndexAction, type ItemOutcome } from "./bulk-writer.ts";
import { TransientBulkItemsError, type Engine } from "./engine.ts";
import { INDEX_PRIVILEGES } from "./privileges.ts";

/** One film of a batch, as the extract side delivers it. */
export interface BatchRow {
  id: string;
  /** The document as JSON text; null when the film no longer exists (a delete). */
  document: string | null;
  /** Why this film cannot become a document; such a row is reported, never sent. */
  problem: string | null;
}

export interface BatchResult {
  written: number;
  deleted: number;
  /** Rows that did not reach the index, in film id order. */
  failed: RejectedDocument[];
}

/**
 * Turns a batch of rows into index actions and writes them. Items that fail
 * transiently are sent again under the Elasticsearch policy; items the index
 * refuses, and rows that cannot become documents, come back as failures.
 */
export interface WriteTarget {
  engine: Engine;
  index: string;
  maxBytes: number;
  /** Writing through an alias: refuse to write if it is gone rather than create an index of that name. */
  requireAlias: boolean;
  guard: Guard;
  /** Runs before every attempt to write; throws to stop the write (the run's lock check). */
  beforeWrite(): Promise<void>;
  /** The run's fencing token, sent as the documents' external version; none outside a locked run. */
  version?: number;
}

export async function writeFilmBatch(rows: readonly BatchRow[], target: WriteTarget): Promise<BatchResult> {
  const failed: RejectedDocument[] = [];
  const actions: IndexAction[] = [];
  for (const row of rows) {
    if (row.problem !== null) failed.push({ id: row.id, status: 0, reason: row.problem });
    else if (row.document === null) actions.push({ kind: "delete", id: row.id });
    else actions.push({ kind: "index", id: row.id, document: row.document });
  }

  const settled: ItemOutcome[] = [];
  let pending = actions;
  await target.guard(async (signal) => {
    await target.beforeWrite();
    const outcomes = await writeBulk(target.engine, target.index, pending, {
      maxBytes: target.maxBytes,
      requireAlias: target.requireAlias,
      version: target.version,
      signal,
    });
    throwIfTheIndexRefusesAll(target, outcomes);
    settled.push(...outcomes.filter((o) => o.ok || !o.transient));
    pending = outcomes.filter((o) => !o.ok && o.transient).map((o) => o.action);
    if (pending.length > 0) {
      const sample = outcomes.find((o) => !o.ok && o.transient);
      throw new TransientBulkItemsError(pending.length, `${sample?.action.id}: ${sample?.status} ${sample?.reason ?? ""}`);
    }
  });

  let written = 0;
  let deleted = 0;
  for (const outcome of settled) {
    if (!outcome.ok) failed.push({ id: outcome.action.id, status: outcome.status, reason: outcome.reason ?? "rejected" });
    else if (outcome.action.kind === "delete") deleted++;
    else written++;
  }
  failed.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { written, deleted, failed };
}

/** Failures that are about the index, not about a document: no point judging the documents. */
function throwIfTheIndexRefusesAll(target: WriteTarget, outcomes: ItemOutcome[]): void {
  const { index } = target;
  const denied = outcomes.find((o) => !o.ok && o.status === 403 && o.errorType === "security_exception");
  if (denied) {
    throw new PermissionDeniedError({
      engine: target.engine.info.distribution,
      privilege: INDEX_PRIVILEGES.write,
      index,
      request: `POST /${index}/_bulk`,
      reason: denied.reason ?? "security_exception",
    });
  }
  const gone = outcomes.find((o) => !o.ok && o.errorType === "index_not_found_exception");
  if (gone) throw new IndexGoneError(index, gone.reason ?? "index_not_found_exception");
  const blocked = outcomes.find((o) => !o.ok && o.errorType === "cluster_block_exception");
  if (blocked) throw new IndexWriteBlockedError(index, blocked.reason ?? "cluster_block_exception");
  // A newer version than ours: a run that took the lock after us has written here. Stop, do not judge the document.
  const overtaken = outcomes.find((o) => !o.ok && o.errorType === "version_conflict_engine_exception");
  if (overtaken)
    throw new LockLostError(index, new Error(`a newer run has written ${overtaken.action.id} (${overtaken.reason ?? "version conflict"})`));
}
