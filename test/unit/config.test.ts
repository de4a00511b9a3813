import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ENV_VARIABLES, loadConfig, secretsOf } from "../../src/config.ts";
import { ConfigError } from "../../src/errors.ts";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("configuration", () => {
  it("has working local defaults", () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBe("postgresql://postgres@127.0.0.1:5432/movies");
    expect(config.elasticsearch).toMatchObject({ url: "http://127.0.0.1:9200", index: "movies" });
    expect(config.tables).toEqual(["genre", "person", "film_work"]);
  });

  it("reports every problem at once", () => {
    const problems = problemsOf({
      DATABASE_URL: "mysql://x",
      ETL_BATCH_SIZE: "-3",
      ETL_TABLES: "film_work,pg_authid",
      ELASTICSEARCH_INDEX: "Movies!",
      ELASTICSEARCH_USERNAME: "elastic",
      ETL_LOG_LEVEL: "loud",
      ETL_FANOUT_DUTY_PCT: "0",
    });
    expect(problems).toHaveLength(7);
    expect(problems.join("\n")).toMatch(/DATABASE_URL.*postgres/);
    expect(problems.join("\n")).toMatch(/ETL_TABLES="film_work,pg_authid": allowed tables are genre, person, film_work/);
    expect(problems.join("\n")).toMatch(/USERNAME and ELASTICSEARCH_PASSWORD must be set together/);
    expect(problems.join("\n")).toMatch(/ETL_FANOUT_DUTY_PCT.*1.*100/);
  });

  it("reads integers written in plain decimal digits only", () => {
    const problems = problemsOf({ ETL_BATCH_SIZE: "0x10", ETL_BULK_CONCURRENCY: "1e1", ETL_FANOUT_DUTY_PCT: "2.5" });
    expect(problems).toHaveLength(3);
    expect(problems.join("\n")).toMatch(/ETL_BATCH_SIZE="0x10": expected an integer from 1 to 10000/);
    expect(loadConfig({}, { ETL_BATCH_SIZE: " 50 " }).batchSize).toBe(50);
  });

  it("flags override the environment", () => {
    expect(loadConfig({ ETL_BATCH_SIZE: "100" }, { ETL_BATCH_SIZE: "7", ETL_TABLES: undefined }).batchSize).toBe(7);
  });

  it("knows which values are secret", () => {
    const config = loadConfig({
      DATABASE_URL: "postgresql://etl:p%40ss%2Fword@db:5432/movies",
      ELASTICSEARCH_API_KEY: "c2VjcmV0LWtleQ==",
    });
    expect(secretsOf(config)).toEqual(expect.arrayContaining(["c2VjcmV0LWtleQ==", "p%40ss%2Fword", "p@ss/word"]));
  });
});

describe("one list of variable names", () => {
  const root = new URL("../../", import.meta.url);
  const read = (file: string) => readFileSync(new URL(file, root), "utf8");

  it("ENV_VARIABLES is exactly what src/config.ts reads", () => {
    const source = read("src/config.ts");
    const reads = new Set([
      ...[...source.matchAll(/read\.\w+\("([A-Z][A-Z0-9_]+)"/g)].map((m) => m[1]!),
      ...[...source.matchAll(/source\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!),
    ]);
    expect([...reads].sort()).toEqual([...ENV_VARIABLES].sort());
  });

  it("the README's configuration table documents exactly those variables", () => {
    const table = read("README.md").split("## Configuration")[1]!.split("\n## ")[0]!;
    const documented = new Set(
      [...table.matchAll(/^\| `([A-Z][A-Z0-9_]+)`(?: \/ `([A-Z][A-Z0-9_]+)`)?/gm)].flatMap((m) => [m[1]!, m[2]].filter(Boolean)),
    );
    expect([...documented].sort()).toEqual([...ENV_VARIABLES].sort());
  });
});
