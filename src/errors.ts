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
  constructor(dependency: Dependency, cause: unknown) {
    super(`${dependency} is unavailable: ${describeError(cause)}`, { cause });
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

/** A row the catalogue returned that cannot become a document. */
export class MalformedRowError extends EtlError {
  readonly exitCode = ExitCode.internal;
  constructor(filmId: string, problem: string) {
    super(`film ${filmId}: malformed row: ${problem}`);
    this.name = "MalformedRowError";
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
