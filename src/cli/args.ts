import { parseArgs } from "node:util";
import { ConfigError } from "../errors.ts";

export type Command = "sync" | "status" | "verify" | "reindex" | "help" | "version";

export interface CliArgs {
  command: Command;
  watch: boolean;
  json: boolean;
  /** Flags that override environment variables, by variable name. */
  overrides: Record<string, string | undefined>;
}

export const USAGE = `movies-etl: keeps an Elasticsearch index of movies in step with the PostgreSQL catalogue

Usage: npx tsx src/main.ts [command] [options]

Commands:
  (none)     run one sync cycle and exit
  status     show cursors, pending changes, index and catalogue counts
  verify     compare every document with the catalogue; exit 5 on any difference
  reindex    build a new versioned index, fill and check it, swap the alias atomically
  help       this text

Options:
  --watch                 keep running cycles (sync only)
  --interval <seconds>    pause between cycles with --watch   (ETL_WATCH_INTERVAL_S)
  --index <name>          index alias                         (ELASTICSEARCH_INDEX)
  --batch-size <n>        films per batch                     (ETL_BATCH_SIZE)
  --tables <list>         cursor tables, e.g. genre,person    (ETL_TABLES)
  --log-format <f>        auto | json | pretty                (ETL_LOG_FORMAT)
  --json                  machine-readable output for status and verify
  -h, --help              this text
  --version               the version, the runtime and its heap limit

Exit codes: 0 ok (also when another run holds the lock), 1 internal error,
2 configuration error, 3 dependency unavailable, 4 documents rejected,
5 index differs from the catalogue, 130/143 stopped by SIGINT/SIGTERM.
Environment variables are listed in the README.`;

const COMMANDS: readonly Command[] = ["sync", "status", "verify", "reindex", "help"];

export function parseCliArgs(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        watch: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", default: false },
        interval: { type: "string" },
        index: { type: "string" },
        "batch-size": { type: "string" },
        tables: { type: "string" },
        "log-format": { type: "string" },
      },
    });
  } catch (error) {
    throw new ConfigError([(error as Error).message + " (see --help)"]);
  }
  const { values, positionals } = parsed;
  const problems: string[] = [];
  if (positionals.length > 1) problems.push(`one command at a time, got: ${positionals.join(" ")}`);
  const name = positionals[0] ?? "sync";
  if (!(COMMANDS as readonly string[]).includes(name)) problems.push(`unknown command "${name}" (see --help)`);
  const command: Command = values.help ? "help" : values.version ? "version" : (name as Command);
  if (values.watch && command !== "sync") problems.push("--watch applies to sync only");
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    command,
    watch: values.watch,
    json: values.json,
    overrides: {
      ETL_WATCH_INTERVAL_S: values.interval,
      ELASTICSEARCH_INDEX: values.index,
      ETL_BATCH_SIZE: values["batch-size"],
      ETL_TABLES: values.tables,
      ETL_LOG_FORMAT: values["log-format"],
    },
  };
}
