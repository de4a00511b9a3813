import type { Engine } from "./engine.ts";
import { EngineResponseError } from "./engine.ts";
import { bulkLoadSettings, creationSettings } from "./engine-quirks.ts";
import { flatSettings, putIndexSettings } from "./index-admin.ts";
import { BULK_LOAD_KEY, readMeta, updateMeta } from "./index-meta.ts";

/**
 * A full load runs with refresh off and no replicas: no segment per second to
 * merge later, no second copy to write. The values to restore are kept in the
 * index mapping's `_meta` while the load runs, so that a run after a killed
 * one (which could not restore them) still finds and restores them.
 *
 * Neither step may wedge later runs: a settings change the engine refuses is
 * reported and the marker dropped, so the next run does not meet it again.
 * Where the engine manages these settings itself (serverless) none is sent.
 */

interface SavedSettings {
  refresh_interval: string | null;
  number_of_replicas: string | null;
}

/** What happened to the settings; `refused` carries the engine's reason. */
export type BulkLoadOutcome = { kind: "applied" } | { kind: "not-needed" } | { kind: "refused"; reason: string };

/** Switches `index` (an index or alias) to bulk-load settings, remembering the current ones. */
export async function beginBulkLoad(engine: Engine, index: string, signal?: AbortSignal): Promise<BulkLoadOutcome> {
  const wanted = bulkLoadSettings(engine.info);
  if (!wanted) return { kind: "not-needed" };
  if ((await readMeta(engine, index, signal))[BULK_LOAD_KEY] === undefined) {
    const settings = Object.values(await flatSettings(engine, index, "index.refresh_interval,index.number_of_replicas", signal))[0] ?? {};
    const saved: SavedSettings = {
      refresh_interval: (settings["index.refresh_interval"] as string | undefined) ?? null,
      number_of_replicas: (settings["index.number_of_replicas"] as string | undefined) ?? null,
    };
    await updateMeta(engine, index, { [BULK_LOAD_KEY]: saved }, signal);
  }
  try {
    await putIndexSettings(engine, index, wanted, signal);
    return { kind: "applied" };
  } catch (error) {
    if (!isRefusal(error)) throw error;
    // The load runs with the index's own settings: nothing to restore.
    await updateMeta(engine, index, { [BULK_LOAD_KEY]: undefined }, signal);
    return { kind: "refused", reason: error.message };
  }
}

/** Restores the settings `beginBulkLoad` saved, if any, and drops the marker. */
export async function endBulkLoad(engine: Engine, index: string, signal?: AbortSignal): Promise<BulkLoadOutcome> {
  const saved = (await readMeta(engine, index, signal))[BULK_LOAD_KEY];
  if (saved === undefined) return { kind: "not-needed" };
  let outcome: BulkLoadOutcome = { kind: "applied" };
  if (!isSavedSettings(saved)) {
    outcome = { kind: "refused", reason: `unreadable ${BULK_LOAD_KEY} in _meta: ${JSON.stringify(saved)}` };
  } else {
    // A marker an older version left on serverless may hold what serverless refuses.
    const restore = creationSettings(engine.info, { ...saved });
    try {
      if (Object.keys(restore).length > 0) await putIndexSettings(engine, index, restore, signal);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      outcome = { kind: "refused", reason: error.message };
    }
  }
  await updateMeta(engine, index, { [BULK_LOAD_KEY]: undefined }, signal);
  return outcome;
}

/** The engine answered and said no (a bad value, a setting it does not allow): asking again cannot help. */
function isRefusal(error: unknown): error is EngineResponseError {
  return error instanceof EngineResponseError && error.status >= 400 && error.status < 500 && error.status !== 403 && error.status !== 429;
}

function isSavedSettings(value: unknown): value is SavedSettings {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  return Object.entries(value).every(
    ([key, v]) =>
      (key === "refresh_interval" || key === "number_of_replicas") && (v === null || typeof v === "string" || typeof v === "number"),
  );
}
