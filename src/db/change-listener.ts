import pg from "pg";
import type { Logger } from "../log.ts";

/** The channel the change-capture triggers notify (migration change_capture_v2). */
export const CHANGE_CHANNEL = "movies_etl_change";

export interface ChangeListener {
  close(): Promise<void>;
}

/**
 * LISTENs on a connection of its own and calls `onChange` for every
 * notification. A notification is only a wake-up call, the change log stays
 * the source of truth, so a dropped connection is simply reopened (with
 * backoff), and `onChange` is called once it is back, since changes made
 * while it was down sent notifications nobody heard.
 */
export function listenForChanges(
  databaseUrl: string,
  onChange: () => void,
  log: Logger,
  options: { maxReconnectDelayMs?: number } = {},
): ChangeListener {
  const maxDelayMs = options.maxReconnectDelayMs ?? 30_000;
  let client: pg.Client | null = null;
  let closed = false;
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const connect = async (): Promise<void> => {
    if (closed) return;
    const next = new pg.Client({ connectionString: databaseUrl, application_name: "movies-etl listen", keepAlive: true });
    let dropped = false;
    const drop = (reason: unknown) => {
      if (dropped || closed) return;
      dropped = true;
      client = null;
      next.end().catch(() => {});
      scheduleReconnect(reason);
    };
    next.on("error", drop);
    next.on("end", () => drop(new Error("connection closed")));
    next.on("notification", () => onChange());
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (error) {
      drop(error);
      return;
    }
    if (closed) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    if (failures > 0) {
      log.info("listening for changes again", { after: failures });
      onChange();
    }
    failures = 0;
  };

  const scheduleReconnect = (reason: unknown) => {
    failures++;
    const delayMs = Math.min(maxDelayMs, 250 * 2 ** Math.min(failures, 10));
    log.warn("the change listener's connection dropped; polling until it is back", {
      reason: reason instanceof Error ? reason.message : String(reason),
      retryInMs: delayMs,
    });
    retryTimer = setTimeout(() => void connect(), delayMs);
  };

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      await client?.end().catch(() => {});
    },
  };
}
