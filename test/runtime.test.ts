// The runtime every command of the project gets: Node 24 (pinned as the
// devDependency `node`, whose binary npm scripts and npx find first), and the
// service's V8 heap limits whichever way it is started.
import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { V8_MEMORY_FLAGS } from "../src/cli/memory-settings.ts";
import { ROOT, runCli, type ProcessResult } from "./support/etl.ts";

const FLAGS = `V8 heap flags: ${V8_MEMORY_FLAGS.join(" ")};`;

/** A shell user's PATH: whatever npm put in front of it for this test run removed. */
function userPath(): string {
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => !dir.includes("node_modules"))
    .join(path.delimiter);
}

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { PATH: userPath(), HOME: process.env.HOME ?? "/tmp", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe("the runtime", () => {
  it("the tests run on Node 24", () => {
    expect(process.version).toMatch(/^v24\./);
  });

  it("the documented command, `npx tsx src/main.ts`, runs on Node 24 with the heap limits", async () => {
    const result = await run("npx", ["tsx", "src/main.ts", "--version"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Node v24.`);
    expect(result.stdout).toContain(FLAGS);
  });

  it("`npm start` too", async () => {
    const result = await run("npm", ["start", "--silent", "--", "--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Node v24.`);
    expect(result.stdout).toContain(FLAGS);
  });

  it("the processes the tests start (process.execPath with tsx) too", async () => {
    const result = await runCli(["--version"], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^movies-etl \d+\.\d+\.\d+\nNode v24\.\d+\.\d+; V8 heap flags: .*; heap limit \d+ MB\n$/);
    expect(result.stdout).toContain(FLAGS);
  });

  it("the image's command, Node's own type stripping without tsx, loads every module", async () => {
    // `status` loads the whole service, the generated Prisma client included; with
    // no database to reach it still fails the way a configuration problem does.
    const version = await run(process.execPath, ["src/main.ts", "--version"]);
    expect(version.stderr).toBe("");
    expect(version.stdout).toContain(FLAGS);
    const status = await run(process.execPath, ["src/main.ts", "status"], { ELASTICSEARCH_URL: "ftp://nowhere", ETL_LOG_FORMAT: "json" });
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/ELASTICSEARCH_URL: expected a http: or https: URL/);
  });

  it("heap settings of the user's own, in NODE_OPTIONS, win", async () => {
    const result = await runCli(["--version"], { NODE_OPTIONS: "--max-old-space-size=300" });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("V8 heap flags: none;");
    const limitMb = Number(/heap limit (\d+) MB/.exec(result.stdout)?.[1]);
    // 300 MB of old generation plus V8's own young generation; 4 GB here without the flag.
    expect(limitMb).toBeGreaterThan(300);
    expect(limitMb).toBeLessThan(1000);
  });
});
