import type { Privilege } from "./engine.ts";

/**
 * The privileges each call needs, as Elasticsearch role definitions name them
 * (`k8s/elasticsearch-role.json` grants exactly these, and a test checks it).
 * Where a named index privilege would grant more than the call needs (`manage`
 * also deletes indices), the action itself is named.
 */
export const INDEX_PRIVILEGES = {
  /** Resolve an alias, read settings (uuid, replicas) and the mapping's `_meta`. */
  metadata: "view_index_metadata",
  createIndex: "create_index",
  /** A reindex removes its own index when it stops or fails before the swap. */
  deleteIndex: "delete_index",
  /** Create an index behind the alias, swap the alias. */
  aliases: "indices:admin/aliases",
  /** Bulk-load settings and their restore. */
  putSettings: "indices:admin/settings/update",
  /** The mapping's `_meta` (bulk-load marker, definition hash). */
  putMapping: "indices:admin/mapping/put",
  refresh: "maintenance",
  /** Count and page through the documents (`status`, `verify`). */
  read: "read",
  /** Bulk index and delete. */
  write: "write",
} as const;

/** `GET /`, to tell the distribution and flavor. */
export const CLUSTER_PRIVILEGE = "cluster:monitor/main";

export function needs(privilege: keyof typeof INDEX_PRIVILEGES, index: string): Privilege {
  return { privilege: INDEX_PRIVILEGES[privilege], index };
}
