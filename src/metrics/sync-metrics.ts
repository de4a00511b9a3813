import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Dependency } from "../errors.ts";
import type { CircuitState, ResilienceObserver } from "../resilience/policies.ts";
import type { Backlog } from "../sync/backlog.ts";
import type { SyncOutcome } from "../sync/cycle.ts";

const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, "half-open": 1, open: 2 };

/**
 * The sync's Prometheus metrics (prom-client), on a registry of their own.
 * Counters are fed as batches are acknowledged; the backlog gauges (lag,
 * pending changes) are measured when scraped or pushed.
 */
export class SyncMetrics implements ResilienceObserver {
  /** Everything: what `/metrics` serves. */
  readonly registry: Registry;
  /** Everything but the last success's timestamp, for pushes of a failed run. */
  private readonly withoutSuccess = new Registry();
  private lastProgressMs: number | null = null;
  private readonly written: Counter;
  private readonly deleted: Counter;
  private readonly rejected: Counter;
  private readonly cycles: Counter<"outcome">;
  private readonly cycleDuration: Histogram;
  private readonly lastSuccess: Gauge;
  private readonly retries: Counter<"dependency">;
  private readonly circuit: Gauge<"dependency">;

  readonly index: string;

  constructor(index: string, measureBacklog: () => Promise<Backlog>) {
    this.index = index;
    const successOnly = new Registry();
    const registers = [this.withoutSuccess];
    this.written = new Counter({ name: "movies_etl_documents_written_total", help: "Documents written to the index.", registers });
    this.deleted = new Counter({ name: "movies_etl_documents_deleted_total", help: "Documents deleted from the index.", registers });
    this.rejected = new Counter({
      name: "movies_etl_documents_rejected_total",
      help: "Documents the index rejected, or rows that cannot become one.",
      registers,
    });
    this.cycles = new Counter({
      name: "movies_etl_cycles_total",
      help: "Sync cycles, by outcome (ok, failed).",
      labelNames: ["outcome"],
      registers,
    });
    this.cycleDuration = new Histogram({
      name: "movies_etl_cycle_duration_seconds",
      help: "Duration of sync cycles that finished.",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: "movies_etl_last_success_timestamp_seconds",
      help: "When the last sync cycle finished without error (Unix time).",
      registers: [successOnly],
    });
    this.retries = new Counter({
      name: "movies_etl_retries_total",
      help: "Retries of transient failures.",
      labelNames: ["dependency"],
      registers,
    });
    this.circuit = new Gauge({
      name: "movies_etl_circuit_state",
      help: "Circuit breaker per dependency: 0 closed, 1 half-open, 2 open.",
      labelNames: ["dependency"],
      registers,
    });
    for (const dependency of ["postgres", "elasticsearch"] as const) {
      this.circuit.set({ dependency }, 0);
      this.retries.inc({ dependency }, 0);
    }
    for (const outcome of ["ok", "failed"]) this.cycles.inc({ outcome }, 0);

    // Measured once per scrape, shared by both gauges.
    let measuring: Promise<Backlog> | null = null;
    const backlog = () => (measuring ??= measureBacklog().finally(() => setTimeout(() => (measuring = null), 0)));
    new Gauge({
      name: "movies_etl_lag_seconds",
      help: "Age of the oldest change not yet in the index (NaN before the first full load).",
      registers,
      async collect() {
        this.set((await backlog()).lagSeconds ?? Number.NaN);
      },
    });
    new Gauge({
      name: "movies_etl_pending_changes",
      help: "Changes not yet in the index, per source table and the change log.",
      labelNames: ["source"],
      registers,
      async collect() {
        for (const [source, count] of Object.entries((await backlog()).pending)) this.set({ source }, count ?? 0);
      },
    });
    this.registry = Registry.merge([this.withoutSuccess, successOnly]);
    for (const registry of [this.registry, this.withoutSuccess]) registry.setDefaultLabels({ index });
  }

  batchWritten(written: number, deleted: number): void {
    this.written.inc(written);
    this.deleted.inc(deleted);
    this.lastProgressMs = Date.now();
  }

  documentsRejected(count: number): void {
    this.rejected.inc(count);
  }

  cycleFinished(outcome: SyncOutcome): void {
    this.cycles.inc({ outcome: "ok" });
    this.cycleDuration.observe(outcome.durationMs / 1000);
    this.lastSuccess.setToCurrentTime();
    this.lastProgressMs = Date.now();
  }

  /** The watcher is waiting its turn (another run holds the lock): alive, not stuck. */
  alive(): void {
    this.lastProgressMs = Date.now();
  }

  cycleFailed(): void {
    this.cycles.inc({ outcome: "failed" });
  }

  retried(dependency: Dependency): void {
    this.retries.inc({ dependency });
  }

  circuitChanged(dependency: Dependency, state: CircuitState): void {
    this.circuit.set({ dependency }, CIRCUIT_VALUE[state]);
  }

  /** Milliseconds since a batch was acknowledged or a cycle finished; null before either. */
  sinceProgressMs(now = Date.now()): number | null {
    return this.lastProgressMs === null ? null : now - this.lastProgressMs;
  }

  registryWithoutSuccess(): Registry {
    return this.withoutSuccess;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
