import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Scratch files of the bench (ndjson of documents); ignored by git. */
export const WORK_DIR = path.join(ROOT, ".bench");
