import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setupTemplateDatabase } from "./database.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Before any test: a real search engine (started if none answers; a no-op
 * otherwise) and a migrated template database the tests clone.
 */
export default async function setup(): Promise<void> {
  const engine = spawnSync(process.execPath, [path.join(ROOT, "scripts/engine.mjs"), "start"], {
    stdio: "inherit",
    env: process.env,
  });
  if (engine.status !== 0) throw new Error("could not start the search engine (see the lines above)");
  await setupTemplateDatabase();
}
