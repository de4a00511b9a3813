import type { Client, estypes } from "@elastic/elasticsearch";

/**
 * A full load runs with refresh off and no replicas: no segment per second to
 * merge later, no second copy to write. The values to restore are kept in the
 * index mapping's `_meta` while the load runs, so that a run after a killed
 * one (which could not restore them) still finds and restores them.
 */
const MARK = "movies_etl_bulk_load";

interface SavedSettings {
  refresh_interval: string | null;
  number_of_replicas: string | null;
}

/** Switches `index` (an index or alias) to bulk-load settings, remembering the current ones. */
export async function beginBulkLoad(client: Client, index: string, signal?: AbortSignal): Promise<void> {
  if (!(await savedSettings(client, index, signal))) {
    const response = await client.indices.getSettings({ index, flat_settings: true }, { signal });
    const settings = (Object.values(response)[0]?.settings ?? {}) as Record<string, string | undefined>;
    const saved: SavedSettings = {
      refresh_interval: settings["index.refresh_interval"] ?? null,
      number_of_replicas: settings["index.number_of_replicas"] ?? null,
    };
    await client.indices.putMapping({ index, _meta: { [MARK]: saved } }, { signal });
  }
  await client.indices.putSettings({ index, settings: { refresh_interval: "-1", number_of_replicas: 0 } }, { signal });
}

/** Restores the settings `beginBulkLoad` saved, if any; true if it did. */
export async function endBulkLoad(client: Client, index: string, signal?: AbortSignal): Promise<boolean> {
  const saved = await savedSettings(client, index, signal);
  if (!saved) return false;
  await client.indices.putSettings({ index, settings: saved as unknown as estypes.IndicesIndexSettings }, { signal });
  await client.indices.putMapping({ index, _meta: {} }, { signal });
  return true;
}

async function savedSettings(client: Client, index: string, signal?: AbortSignal): Promise<SavedSettings | null> {
  const response = await client.indices.getMapping({ index }, { signal });
  const meta = Object.values(response)[0]?.mappings?._meta as Record<string, unknown> | undefined;
  return (meta?.[MARK] as SavedSettings | undefined) ?? null;
}
