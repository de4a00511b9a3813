import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Catalogue } from "./support/catalogue.ts";
import { createTestDatabase, openTransaction, type TestDatabase } from "./support/database.ts";
import { dropIndices, indexedTitle, uniqueIndexName } from "./support/engine.ts";
import {
  etlEnv,
  expectIndexEqualsCatalogue,
  logEntries,
  logMessages,
  runCli,
  startCli,
  type EtlTarget,
  type RunningCli,
  writtenInLogs,
} from "./support/etl.ts";
import { freePort } from "./support/ports.ts";
import { parseMetrics, sampleValue } from "./support/prometheus.ts";
import { startPushgateway, type RunningPushgateway } from "./support/pushgateway.ts";
import { sleep, waitFor } from "./support/wait.ts";

/** A watcher's poll interval far beyond every wait below: what arrives, arrives by notification. */
const INTERVAL_S = "300";

describe("--watch wakes on change and serves metrics", () => {
  let db: TestDatabase;
  let catalogue: Catalogue;
  let target: EtlTarget;
  let watcher: RunningCli;
  let metricsUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase({ films: 150, seed: 61 });
    catalogue = new Catalogue(db.url);
    target = { databaseUrl: db.url, index: uniqueIndexName() };
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}`;
    watcher = startCli(["--watch"], etlEnv(target, { ETL_WATCH_INTERVAL_S: INTERVAL_S, METRICS_PORT: String(port) }), {
      timeoutMs: 600_000,
    });
    await waitFor(() => cyclesFinished() >= 1, 90_000, "the first full load");
  });

  afterAll(async () => {
    watcher?.signal("SIGKILL");
    await catalogue?.close();
    await dropIndices(target.index);
    await db?.drop();
  });

  const cyclesFinished = () => logEntries(watcher.stderr()).filter((entry) => entry.msg === "sync finished").length;
  const titleInIndex = (id: string) => indexedTitle(target.index, id);
  const firstFilm = async (offset: number) =>
    (await catalogue.one<{ id: string }>("SELECT id FROM content.film_work ORDER BY id OFFSET $1 LIMIT 1", [offset])).id;

  it("a committed change reaches the index long before the poll interval", async () => {
    const film = await firstFilm(1);
    const started = Date.now();
    await catalogue.query("UPDATE content.film_work SET title = 'woken by NOTIFY' WHERE id = $1", [film]);
    await waitFor(async () => (await titleInIndex(film)) === "woken by NOTIFY", 30_000, "the change in the index");
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it.each([
    ["ROLLBACK", 10],
    ["COMMIT", 11],
  ])(
    "a change held back by another open transaction arrives soon after that transaction ends with %s, which notifies nothing",
    async (end, offset) => {
      // Changes committed after it began wait until it ends.
      const holder = await openTransaction(db.url);
      try {
        const film = await firstFilm(offset);
        const title = `held back, then ${end}`;
        await catalogue.query("UPDATE content.film_work SET title = $2 WHERE id = $1", [film, title]);
        await sleep(1500);
        expect(await titleInIndex(film), "written before the older transaction ended").not.toBe(title);
        await holder.query(end);
        await waitFor(async () => (await titleInIndex(film)) === title, 20_000, "the held-back change in the index");
      } finally {
        await holder.end();
      }
    },
  );

  it("a second watcher given a port already in use exits 2 with one line that names METRICS_PORT", async () => {
    const port = new URL(metricsUrl).port;
    const second = await runCli(["--watch"], etlEnv({ ...target, index: uniqueIndexName() }, { METRICS_PORT: port }), {
      timeoutMs: 60_000,
    });
    expect(second.code, second.stderr).toBe(2);
    const errors = logEntries(second.stderr).filter((entry) => entry.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(new RegExp(`METRICS_PORT=${port}: another process listens there`));
    expect(second.stderr).not.toMatch(/\n\s+at /);
  });

  it("LISTEN survives its connection being terminated, and no change made meanwhile is missed", async () => {
    const [session] = await catalogue.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'movies-etl listen'",
    );
    expect(session).toBeDefined();
    const film = await firstFilm(2);
    await catalogue.query("SELECT pg_terminate_backend($1)", [session!.pid]);
    // Made while the listener is down: its notification is lost, the change is not.
    await catalogue.query("UPDATE content.film_work SET title = 'while nobody listened' WHERE id = $1", [film]);
    await waitFor(async () => (await titleInIndex(film)) === "while nobody listened", 60_000, "the change made while down");
    await waitFor(() => /listening for changes again/.test(logMessages(watcher.stderr())), 30_000, "the listener back");

    const after = await firstFilm(3);
    await catalogue.query("UPDATE content.film_work SET title = 'heard again' WHERE id = $1", [after]);
    await waitFor(async () => (await titleInIndex(after)) === "heard again", 30_000, "a change after the reconnect");
  });

  it("/metrics parses, and its counters match what the watcher wrote; /healthz says healthy", async () => {
    const written = () => writtenInLogs(watcher.stderr());
    // A scrape between two log reads that agree: no cycle finished in between.
    const quietScrape = async () => {
      for (;;) {
        const [logged, cycles] = [written(), cyclesFinished()];
        const families = parseMetrics(await (await fetch(`${metricsUrl}/metrics`)).text());
        if (written() === logged && cyclesFinished() === cycles) return { families, logged, cycles };
      }
    };
    const labels = { index: target.index };
    // A cycle still running has counted its batches but not logged its summary yet: the two
    // agree only between cycles, so wait for a scrape where they do (a wrong count never would).
    let before: ReturnType<typeof parseMetrics> = [];
    await waitFor(
      async () => {
        const scrape = await quietScrape();
        before = scrape.families;
        return sampleValue(before, "movies_etl_documents_written_total", labels) === scrape.logged;
      },
      30_000,
      "the written counter to equal what the logs say",
    );
    expect(sampleValue(before, "movies_etl_documents_deleted_total", labels)).toBe(0);
    // Caught up, nothing is pending and the lag is 0 (a cycle may still be finishing: wait for it).
    await waitFor(
      async () => {
        const families = parseMetrics(await (await fetch(`${metricsUrl}/metrics`)).text());
        return (
          sampleValue(families, "movies_etl_lag_seconds", labels) === 0 &&
          sampleValue(families, "movies_etl_pending_changes", { ...labels, source: "change_log" }) === 0
        );
      },
      30_000,
      "lag 0 once caught up",
    );
    expect(sampleValue(before, "movies_etl_circuit_state", { ...labels, dependency: "postgres" })).toBe(0);
    expect(sampleValue(before, "movies_etl_last_success_timestamp_seconds", labels)).toBeGreaterThan(Date.now() / 1000 - 600);

    const doomed = await firstFilm(4);
    const cycles = cyclesFinished();
    await catalogue.query("DELETE FROM content.film_work WHERE id = $1", [doomed]);
    await waitFor(() => cyclesFinished() > cycles, 30_000, "the cycle after a delete");
    await waitFor(
      async () => {
        const { families: after, logged: loggedAfter, cycles: cyclesAfter } = await quietScrape();
        return (
          sampleValue(after, "movies_etl_documents_deleted_total", labels) === 1 &&
          sampleValue(after, "movies_etl_documents_written_total", labels) === loggedAfter &&
          sampleValue(after, "movies_etl_cycles_total", { ...labels, outcome: "ok" }) === cyclesAfter
        );
      },
      30_000,
      "the counters to equal what the logs say after the delete",
    );

    const health = await fetch(`${metricsUrl}/healthz`);
    expect(health.status).toBe(200);
    await expectIndexEqualsCatalogue(target);
  });
});

describe("a one-shot run and the Pushgateway", () => {
  let db: TestDatabase;
  let target: EtlTarget;
  let gateway: RunningPushgateway;

  beforeAll(async () => {
    db = await createTestDatabase({ films: 40, seed: 62 });
    target = { databaseUrl: db.url, index: uniqueIndexName() };
    gateway = await startPushgateway();
  });

  afterAll(async () => {
    await gateway?.stop();
    await dropIndices(target.index);
    await db?.drop();
  });

  it("pushes what it wrote, grouped by job and index", async () => {
    const result = await runCli([], etlEnv(target, { PUSHGATEWAY_URL: gateway.url }));
    expect(result.code, result.stderr).toBe(0);
    const families = parseMetrics(await (await fetch(`${gateway.url}/metrics`)).text());
    const labels = { job: "movies_etl", index: target.index };
    expect(sampleValue(families, "movies_etl_documents_written_total", labels)).toBe(40);
    expect(sampleValue(families, "movies_etl_cycles_total", { ...labels, outcome: "ok" })).toBe(1);
    expect(sampleValue(families, "movies_etl_last_success_timestamp_seconds", labels)).toBeGreaterThan(Date.now() / 1000 - 120);
  });
});
