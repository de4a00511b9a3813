// Prisma's WebAssembly schema engine (migrations, diffs) driven through the pg
// driver adapter: what `prisma migrate` does, without the native engine binary.
//
// The package's entry point imports its .wasm file as an ES module, which Node 20
// allows only behind --experimental-wasm-modules and which Vitest's module runner
// cannot load. So the module is instantiated here by hand from its JS glue, which
// works in plain Node, under tsx and inside Vitest alike.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import * as glue from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";
import pg from "pg";

export type { SchemaEngine } from "@prisma/schema-engine-wasm";

/** Entities that Prisma should leave alone: none, the schema owns them all. */
export const noSchemaFilter = { externalTables: [], externalEnums: [] };

/** The few WebAssembly calls used here (the ES2023 lib and @types/node 20 declare none). */
const webAssembly = (
  globalThis as unknown as {
    WebAssembly: { instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }> };
  }
).WebAssembly;

let engineModule: Promise<typeof glue> | undefined;

function loadEngineModule(): Promise<typeof glue> {
  engineModule ??= (async () => {
    const require = createRequire(import.meta.url);
    const glueFile = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const bytes = await readFile(join(dirname(glueFile), "schema_engine_bg.wasm"));
    const { instance } = await webAssembly.instantiate(bytes, { "./schema_engine_bg.js": withTrackedTimers(glue) });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return engineModule;
}

/**
 * The engine arms 10-second timers (timeouts racing its queries) and never
 * clears them, so a process that is done would linger 10 s before exiting.
 * Its timers are tracked here and unref'd once the engine is done with them.
 */
const pendingEngineTimers = new Set<NodeJS.Timeout>();

function withTrackedTimers(bindings: typeof glue): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...bindings };
  for (const name of Object.keys(bindings).filter((key) => key.startsWith("__wbg_setTimeout_"))) {
    imports[name] = (callback: () => void, milliseconds: number) => {
      const timer = setTimeout(() => {
        pendingEngineTimers.delete(timer);
        callback();
      }, milliseconds >>> 0);
      pendingEngineTimers.add(timer);
      return timer;
    };
  }
  return imports;
}

function releaseEngineTimers(): void {
  for (const timer of pendingEngineTimers) timer.unref();
  pendingEngineTimers.clear();
}

export interface EngineLogRecord {
  level: string;
  message: string;
}

/**
 * Runs `work` with a schema engine connected to `databaseUrl`, then frees the
 * engine and closes its connections.
 */
export async function withSchemaEngine<T>(
  databaseUrl: string,
  work: (engine: SchemaEngine) => Promise<T>,
  onLog: (record: EngineLogRecord) => void = () => {},
): Promise<T> {
  const { SchemaEngine } = await loadEngineModule();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, Client: EngineClient });
  try {
    const adapterFactory = bindMigrationAwareSqlAdapterFactory(withWholeScripts(new PrismaPg(pool as unknown as PgPoolOfAdapter)));
    const engine = await SchemaEngine.new({ datamodels: undefined }, (line: string) => onLog(parseLogLine(line)), adapterFactory);
    try {
      return await work(engine);
    } finally {
      engine.free();
    }
  } finally {
    await pool.end();
    releaseEngineTimers();
  }
}

/**
 * @prisma/adapter-pg 7.10 runs a migration script by splitting it on every `;`,
 * which breaks any function body (`$$ ... ; ... $$`) and any string holding a
 * semicolon. Here a script goes to the server whole, in one simple-protocol
 * query: PostgreSQL runs it as one implicit transaction, so a failing migration
 * leaves nothing half-applied (and, as with Prisma's native engine, a migration
 * cannot use CREATE INDEX CONCURRENTLY).
 */
function withWholeScripts(factory: PrismaPg): SqlMigrationAwareDriverAdapterFactory {
  const patch = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    adapter.executeScript = async (script) => {
      // No parameters and no statement name: pg uses the simple query protocol.
      await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
    };
    return adapter;
  };
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => patch(await factory.connect()),
    connectToShadowDb: async () => patch(await factory.connectToShadowDb()),
  };
}

const charTypeOid = 18;
const textTypeOid = 25;

/**
 * A pg client that reports PostgreSQL's internal one-byte `"char"` columns
 * (`pg_class.relkind`, `pg_constraint.contype`, …) as text. @prisma/adapter-pg
 * 7.10 does not map that type, so every schema description the engine runs
 * (diffs against a live database) failed with "Column type 'char' could not be
 * deserialized from the database". Its values already arrive as strings.
 */
class EngineClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    const patched = (...args: unknown[]): unknown => {
      const callback = args.at(-1);
      if (typeof callback === "function") {
        // pg.Pool#query passes a callback.
        args[args.length - 1] = (error: unknown, result: unknown) => callback(error, reportCharColumnsAsText(result));
        return query(...args);
      }
      const result = query(...args);
      return isPromise(result) ? result.then(reportCharColumnsAsText) : result;
    };
    Object.assign(this, { query: patched });
  }
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function reportCharColumnsAsText(result: unknown): unknown {
  const fields = (result as { fields?: { dataTypeID: number }[] } | null)?.fields;
  for (const field of fields ?? []) {
    if (field.dataTypeID === charTypeOid) field.dataTypeID = textTypeOid;
  }
  return result;
}

/** @prisma/adapter-pg ships its own copy of @types/pg; the runtime class is the same. */
type PgPoolOfAdapter = Extract<ConstructorParameters<typeof PrismaPg>[0], { totalCount: number }>;

function parseLogLine(line: string): EngineLogRecord {
  try {
    const parsed = JSON.parse(line) as { level?: string; fields?: { message?: string } };
    return { level: parsed.level ?? "INFO", message: parsed.fields?.message ?? line };
  } catch {
    return { level: "INFO", message: line };
  }
}
