import type { Guard } from "../resilience/policies.ts";
import { path, type Engine } from "./engine.ts";
import { needs } from "./privileges.ts";

interface IdsPage {
  hits?: { hits?: Array<{ _id: string; sort?: unknown[] }> };
}

/** Every document id in the index, in ascending order (search_after on the `id` keyword, no sources). */
export async function* indexedIds(engine: Engine, index: string, guard: Guard, pageSize = 5000): AsyncGenerator<string> {
  let searchAfter: unknown[] | undefined;
  for (;;) {
    const cursor = searchAfter;
    const { body } = await guard((signal) =>
      engine.request<IdsPage>(
        {
          method: "POST",
          path: path(index, "_search"),
          body: {
            size: pageSize,
            _source: false,
            sort: [{ id: "asc" }],
            ...(cursor ? { search_after: cursor } : {}),
            query: { match_all: {} },
            track_total_hits: false,
          },
        },
        needs("read", index),
        signal,
      ),
    );
    const hits = body.hits?.hits ?? [];
    for (const hit of hits) yield hit._id;
    if (hits.length < pageSize) return;
    searchAfter = hits[hits.length - 1]!.sort;
  }
}
