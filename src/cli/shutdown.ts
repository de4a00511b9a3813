import type { Logger } from "../log.ts";

export interface Shutdown {
  stopRequested(): boolean;
  /** Aborted when a stop is requested, for waits that cannot poll. */
  stopSignal: AbortSignal;
  /** The exit code a stop by signal ends with, or null. */
  signalExitCode(): number | null;
  dispose(): void;
}

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * SIGTERM/SIGINT: take no new batch, let the batch in flight finish and save
 * its state. If that does not happen within the budget, exit anyway: state is
 * saved after every batch, so the abandoned batch is simply redone next run.
 * A second signal exits at once.
 */
export function installShutdown(log: Logger, budgetS: number, exit: (code: number) => never = process.exit): Shutdown {
  let signalName: keyof typeof SIGNAL_EXIT_CODES | null = null;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const stopping = new AbortController();

  const onSignal = (name: keyof typeof SIGNAL_EXIT_CODES) => {
    if (signalName !== null) {
      log.warn(`second ${name}: exiting now`);
      exit(SIGNAL_EXIT_CODES[name]);
    }
    signalName = name;
    log.info(`${name} received: finishing the batch in flight, then stopping`, { budgetS });
    stopping.abort();
    deadline = setTimeout(
      () => {
        log.warn("shutdown budget spent: abandoning the batch in flight; the next run redoes it");
        exit(SIGNAL_EXIT_CODES[name]);
      },
      Math.max(budgetS * 1000 - 1000, 500),
    );
    deadline.unref?.();
  };
  const onTerm = () => onSignal("SIGTERM");
  const onInt = () => onSignal("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);

  return {
    stopRequested: () => signalName !== null,
    stopSignal: stopping.signal,
    signalExitCode: () => (signalName === null ? null : SIGNAL_EXIT_CODES[signalName]),
    dispose() {
      clearTimeout(deadline);
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
    },
  };
}
