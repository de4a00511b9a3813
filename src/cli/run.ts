import packageJson from "../../package.json" with { type: "json" };
import { createApp, type App } from "../app.ts";
import { reindexCommand } from "../commands/reindex.ts";
import { statusCommand } from "../commands/status.ts";
import { syncCommand } from "../commands/sync.ts";
import { verifyCommand } from "../commands/verify.ts";
import { loadConfig, requestedLogFormat, secretsOf, type Config } from "../config.ts";
import { EtlError, ExitCode, describeError } from "../errors.ts";
import { createLogger, scrubber } from "../log.ts";
import { preflight } from "../preflight.ts";
import { parseCliArgs, USAGE, type CliArgs } from "./args.ts";
import { describeRuntime } from "./memory-settings.ts";
import { installShutdown } from "./shutdown.ts";

const print = (line: string) => process.stdout.write(line + "\n");

/** Parses, builds the app, runs a command, maps errors to exit codes. */
export async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  let config: Config;
  try {
    args = parseCliArgs(argv);
    if (args.command === "help") {
      print(USAGE);
      return ExitCode.ok;
    }
    if (args.command === "version") {
      print(`movies-etl ${packageJson.version}\n${describeRuntime(process)}`);
      return ExitCode.ok;
    }
    config = loadConfig(process.env, args.overrides);
  } catch (error) {
    return reportStartupError(error);
  }

  const log = createLogger({ level: config.logLevel, format: config.logFormat, secrets: secretsOf(config) });
  const shutdown = installShutdown(log, config.shutdownTimeoutS);
  let app: App | undefined;
  try {
    app = await createApp(config, log);
    const code = await run(app, args, shutdown);
    return shutdown.signalExitCode() ?? code;
  } catch (error) {
    if (error instanceof EtlError) {
      log.error(error.message, { exitCode: error.exitCode });
      return error.exitCode;
    }
    log.error(`unexpected error: ${describeError(error)}`, { stack: (error as Error)?.stack });
    return ExitCode.internal;
  } finally {
    shutdown.dispose();
    await app?.close();
  }
}

async function run(app: App, args: CliArgs, shutdown: ReturnType<typeof installShutdown>): Promise<number> {
  await preflight(app);
  switch (args.command) {
    case "status":
      return statusCommand(app, { json: args.json, print });
    case "verify":
      return verifyCommand(app, { json: args.json, print });
    case "reindex":
      return reindexCommand(app, shutdown);
    default:
      return syncCommand(app, shutdown, { watch: args.watch });
  }
}

/** Before the logger exists: one plain line, secrets scrubbed anyway. */
function reportStartupError(error: unknown): number {
  let secrets: string[] = [];
  try {
    secrets = secretsOf(loadConfig(process.env));
  } catch {
    // the config itself is what failed; URL passwords are still scrubbed below
  }
  const scrub = scrubber(secrets);
  const log = createLogger({ level: "error", format: requestedLogFormat(process.env), secrets });
  if (error instanceof EtlError) {
    log.error(scrub(error.message), { exitCode: error.exitCode });
    return error.exitCode;
  }
  log.error(scrub(`unexpected error: ${describeError(error)}`));
  return ExitCode.internal;
}
