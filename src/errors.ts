/** Process exit codes: documented in the README, relied upon by the CronJob. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  config: 2,
  unavailable: 3,
  rejected: 4,
  differs: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the user can act on; `exitCode` tells the CLI how to end. */
export abstract class EtlError extends Error {
  abstract readonly exitCode: ExitCode;
}

export class ConfigError extends EtlError {
  readonly exitCode = ExitCode.config;
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration: ${problems.join("; ")}`);
    this.problems = problems;
    this.name = "ConfigError";
  }
}

export type Dependency = "postgres" | "elasticsearch";

/** A dependency stayed unreachable through every retry, or its circuit is open. */
export class DependencyUnavailableError extends EtlError {
  readonly exitCode = ExitCode.unavailable;
  readonly dependency: Dependency;
  /** `policyFault`: how the retry policy gave up (the circuit opened, an attempt timed out), besides the cause. */
  constructor(dependency: Dependency, cause: unknown, policyFault?: string) {
    super(`${dependency} is unavailable: ${describeError(cause)}${policyFault ? ` (${policyFault})` : ""}`, { cause });
    this.dependency = dependency;
    this.name = "DependencyUnavailableError";
  }
}

export interface RejectedDocument {
  id: string;
  status: number;
  reason: string;
}

export class RejectedDocumentsError extends EtlError {
  readonly exitCode = ExitCode.rejected;
  readonly rejected: RejectedDocument[];
  constructor(rejected: RejectedDocument[]) {
    const shown = rejected
      .slice(0, 5)
      .map((r) => `${r.id} (${r.status}: ${r.reason})`)
      .join("; ");
    const more = rejected.length > 5 ? ` and ${rejected.length - 5} more` : "";
    super(`the index rejected ${rejected.length} document(s): ${shown}${more}`);
    this.rejected = rejected;
    this.name = "RejectedDocumentsError";
  }
}

export class IndexDiffersError extends EtlError {
  readonly exitCode = ExitCode.differs;
  constructor(summary: string) {
    super(summary);
    this.name = "IndexDiffersError";
  }
}

/**
 * The session holding the run's advisory lock ended (its connection was
 * terminated or lost): another run may hold the lock now, so this one must
 * not write another byte under it.
 */
export class LockLostError extends EtlError {
  readonly exitCode = ExitCode.unavailable;
  constructor(lockName: string, cause?: unknown) {
    super(
      `lost the lock of ${lockName} (its PostgreSQL session ended${cause ? `: ${describeError(cause)}` : ""}); ` +
        "stopped before writing beside another run, the next run resumes",
      { cause },
    );
    this.name = "LockLostError";
  }
}

/** The index the run writes to went away while it ran (deleted, or its alias removed). */
export class IndexGoneError extends EtlError {
  readonly exitCode = ExitCode.unavailable;
  constructor(index: string, reason: string) {
    super(`the index ${index} disappeared during the run (${reason})`);
    this.name = "IndexGoneError";
  }
}

/** The engine refuses every write to the index: a block, not a verdict on the documents. */
export class IndexWriteBlockedError extends EtlError {
  readonly exitCode = ExitCode.unavailable;
  constructor(index: string, reason: string) {
    super(
      `the index ${index} refuses writes: ${reason}. Remove the block (index.blocks.write / index.blocks.read_only, ` +
        "or free disk space below the flood-stage watermark), then run again; nothing was lost, the cursor waits before this batch",
    );
    this.name = "IndexWriteBlockedError";
  }
}

/** A block (`index.blocks.*`, a read-only cluster) refused a request that is not a document write. */
export class IndexBlockedError extends EtlError {
  readonly exitCode = ExitCode.unavailable;
  constructor(index: string | undefined, request: string, reason: string) {
    super(
      `${index ? `the index ${index}` : "the cluster"} refused ${request}: ${reason}. Remove the block (index.blocks.*), then run again`,
    );
    this.name = "IndexBlockedError";
  }
}

/**
 * The engine refused a request because the role lacks a privilege. Retrying
 * cannot help; the message names what to grant and where.
 */
export class PermissionDeniedError extends EtlError {
  readonly exitCode = ExitCode.config;
  readonly details: { engine: string; privilege: string; index?: string; request: string; reason: string };
  constructor(details: { engine: string; privilege: string; index?: string; request: string; reason: string }) {
    super(permissionMessage(details));
    this.name = "PermissionDeniedError";
    this.details = details;
  }
}

/** The plain message of a missing privilege: what to grant, where, and what the engine said. */
export function permissionMessage(details: { engine: string; privilege: string; index?: string; request: string; reason: string }): string {
  const what = details.index
    ? `the index privilege ${details.privilege} on ${details.index}`
    : `the cluster privilege ${details.privilege}`;
  const roleFile = details.engine === "opensearch" ? "the same actions in an OpenSearch role" : "k8s/elasticsearch-role.json";
  return (
    `${details.engine} refused ${details.request}: the credentials lack ${what}. ` +
    `Grant it to the role of ELASTICSEARCH_API_KEY / ELASTICSEARCH_USERNAME (see ${roleFile}), then run again; ` +
    `not retried (${details.reason})`
  );
}

/**
 * One line for any error: Prisma's messages carry a code frame and source
 * paths, the engine client's a multi-line dump; keep only what says what failed.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const adapterCause = driverAdapterCause(error);
  if (adapterCause) return adapterCause;
  const engineBody = (error as { meta?: { statusCode?: number; body?: { error?: { type?: string; reason?: string } } } }).meta;
  if (engineBody?.body?.error?.type) {
    const { type, reason } = engineBody.body.error;
    return `${engineBody.statusCode ?? ""} ${type}${reason ? `: ${reason}` : ""}`.trim();
  }
  const lines = (error.message || error.name)
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? error.name;
}

function driverAdapterCause(error: Error): string | null {
  const cause = (error as { meta?: { driverAdapterError?: { cause?: Record<string, unknown> } } }).meta?.driverAdapterError?.cause;
  if (!cause) return null;
  if (typeof cause.originalMessage === "string") return cause.originalMessage;
  if (cause.kind === "DatabaseNotReachable") {
    // A name that does not resolve comes without a port.
    const where = cause.port === undefined || cause.port === null ? String(cause.host) : `${String(cause.host)}:${String(cause.port)}`;
    return `can't reach the database server at ${where}`;
  }
  if (typeof cause.kind === "string") return `${cause.kind}${typeof cause.message === "string" ? `: ${cause.message}` : ""}`;
  return null;
}
