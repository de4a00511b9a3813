import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setupTemplateDatabase } from "./database.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Before any test: a real search engine (the local one is started if none
 * answers on ENGINE_PORT; with ELASTICSEARCH_URL set, that engine is used as it
 * is) and a migrated template database the tests clone.
 */
export default async function setup(): Promise<void> {
  if (!process.env.ELASTICSEARCH_URL) {
    const engine = spawnSync(process.execPath, [path.join(ROOT, "scripts/engine.mjs"), "start"], {
      stdio: "inherit",
      env: process.env,
    });
    if (engine.status !== 0) throw new Error("could not start the search engine (see the lines above)");
  }
  await setupTemplateDatabase();
}
