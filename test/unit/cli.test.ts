import { afterEach, describe, expect, it, vi } from "vitest";
import { parseCliArgs } from "../../src/cli/args.ts";
import { installShutdown } from "../../src/cli/shutdown.ts";
import { ConfigError } from "../../src/errors.ts";
import { createLogger } from "../../src/log.ts";

describe("argument parsing", () => {
  it("no command is one sync cycle; flags become the variables they stand for", () => {
    expect(parseCliArgs([])).toMatchObject({ command: "sync", watch: false, json: false });
    const args = parseCliArgs([
      "--watch",
      "--interval",
      "5",
      "--index",
      "films",
      "--batch-size",
      "50",
      "--tables",
      "genre",
      "--log-format",
      "json",
    ]);
    expect(args.command).toBe("sync");
    expect(args.watch).toBe(true);
    expect(args.overrides).toEqual({
      ETL_WATCH_INTERVAL_S: "5",
      ELASTICSEARCH_INDEX: "films",
      ETL_BATCH_SIZE: "50",
      ETL_TABLES: "genre",
      ETL_LOG_FORMAT: "json",
    });
  });

  it("commands, and --help / --version winning over them", () => {
    expect(parseCliArgs(["status", "--json"])).toMatchObject({ command: "status", json: true });
    expect(parseCliArgs(["verify"]).command).toBe("verify");
    expect(parseCliArgs(["reindex"]).command).toBe("reindex");
    expect(parseCliArgs(["status", "-h"]).command).toBe("help");
    expect(parseCliArgs(["--version"]).command).toBe("version");
  });

  it("every problem at once, as a configuration error", () => {
    let error: unknown;
    try {
      parseCliArgs(["reindx", "status", "--watch"]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "one command at a time, got: reindx status",
      'unknown command "reindx" (see --help)',
      "--watch applies to sync only",
    ]);
    expect(() => parseCliArgs(["--no-such-flag"])).toThrow(/see --help/);
  });
});

describe("shutdown on signals", () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const quiet = createLogger({ level: "error", format: "json", secrets: [], write: () => {} });
  const exits: number[] = [];
  const exit = ((code: number) => {
    exits.push(code);
  }) as (code: number) => never;

  it("the first SIGTERM asks to stop (and aborts the stop signal); the budget then exits with 143", () => {
    vi.useFakeTimers();
    exits.length = 0;
    const shutdown = installShutdown(quiet, 10, exit);
    try {
      expect(shutdown.stopRequested()).toBe(false);
      process.emit("SIGTERM", "SIGTERM");
      expect(shutdown.stopRequested()).toBe(true);
      expect(shutdown.stopSignal.aborted).toBe(true);
      expect(shutdown.signalExitCode()).toBe(143);
      vi.advanceTimersByTime(8_900);
      expect(exits).toEqual([]);
      vi.advanceTimersByTime(200);
      expect(exits).toEqual([143]);
    } finally {
      shutdown.dispose();
    }
  });

  it("a second signal exits at once, SIGINT with 130", () => {
    vi.useFakeTimers();
    exits.length = 0;
    const shutdown = installShutdown(quiet, 10, exit);
    try {
      process.emit("SIGINT", "SIGINT");
      expect(shutdown.signalExitCode()).toBe(130);
      process.emit("SIGINT", "SIGINT");
      expect(exits).toEqual([130]);
    } finally {
      shutdown.dispose();
    }
  });

  it("dispose stops listening and cancels the deadline", () => {
    vi.useFakeTimers();
    exits.length = 0;
    const shutdown = installShutdown(quiet, 2, exit);
    process.emit("SIGTERM", "SIGTERM");
    shutdown.dispose();
    vi.advanceTimersByTime(10_000);
    expect(exits).toEqual([]);
    expect(process.listenerCount("SIGTERM")).toBe(0);
  });
});
