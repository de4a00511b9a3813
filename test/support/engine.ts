import { Client } from "@elastic/elasticsearch";
import { randomBytes } from "node:crypto";

export const ELASTICSEARCH_URL = process.env.ELASTICSEARCH_URL ?? `http://127.0.0.1:${process.env.ENGINE_PORT ?? "9200"}`;

export function engineClient(url = ELASTICSEARCH_URL): Client {
  return new Client({ node: url, maxRetries: 0, requestTimeout: 60_000 });
}

/** A fresh alias name for one test; `dropIndices` removes everything under it. */
export function uniqueIndexName(prefix = "movies_test"): string {
  return `${prefix}_${randomBytes(5).toString("hex")}`;
}

export async function dropIndices(alias: string, url = ELASTICSEARCH_URL): Promise<void> {
  const client = engineClient(url);
  try {
    const indices = await client.cat.indices({ index: `${alias}*`, format: "json" }).catch(() => []);
    for (const { index } of indices as Array<{ index?: string }>) {
      if (index) await client.indices.delete({ index }).catch(() => {});
    }
  } finally {
    await client.close();
  }
}

/** Every document in the index (or alias), by id, after a refresh. */
export async function indexedDocuments(alias: string, url = ELASTICSEARCH_URL): Promise<Map<string, unknown>> {
  const client = engineClient(url);
  try {
    await client.indices.refresh({ index: alias });
    const documents = new Map<string, unknown>();
    let searchAfter: string[] | undefined;
    for (;;) {
      const response = await client.search({
        index: alias,
        size: 5000,
        sort: [{ id: "asc" }],
        search_after: searchAfter,
        query: { match_all: {} },
      });
      for (const hit of response.hits.hits) {
        if (documents.has(hit._id!)) throw new Error(`document ${hit._id} returned twice`);
        documents.set(hit._id!, hit._source);
      }
      if (response.hits.hits.length < 5000) return documents;
      searchAfter = response.hits.hits[response.hits.hits.length - 1]!.sort as string[];
    }
  } finally {
    await client.close();
  }
}
