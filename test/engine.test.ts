// Integration test of the local search engine (test/engine/, scripts/engine.mjs) through the official
// @elastic/elasticsearch client, using the real movies index definition.
// Needs a running engine: `npm run engine:start` (URL from ELASTICSEARCH_URL, default http://127.0.0.1:9200).
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";

import { Client, errors } from "@elastic/elasticsearch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ELASTICSEARCH_URL, engineMode, engineRequest } from "./support/engine.ts";

const node = ELASTICSEARCH_URL;
const indexDefinition = JSON.parse(readFileSync(new URL("../src/load/movies-index.json", import.meta.url), "utf8")) as {
  settings: Record<string, unknown>;
  mappings: Record<string, unknown>;
};

const runId = `${Date.now()}-${randomUUID().slice(0, 8)}`;
const index = `movies-etl-test-${runId}`;
const alias = `movies-etl-test-alias-${runId}`;

type Person = { id: string; name: string };
type Movie = {
  id: string;
  imdb_rating: number;
  genres: string[];
  title: string;
  description: string;
  directors_names: string;
  actors_names: string;
  writers_names: string;
  directors: Person[];
  actors: Person[];
  writers: Person[];
};

function movie(id: string, title: string, description: string, genres: string[], actors: Person[], rating: number): Movie {
  const directors = [{ id: `d-${id}`, name: "George Lucas" }];
  const writers = [{ id: `w-${id}`, name: "Лев Толстой" }];
  return {
    id,
    imdb_rating: rating,
    genres,
    title,
    description,
    directors_names: directors.map((p) => p.name).join(", "),
    actors_names: actors.map((p) => p.name).join(", "),
    writers_names: writers.map((p) => p.name).join(", "),
    directors,
    actors,
    writers,
  };
}

const movies: Movie[] = [
  movie(
    "m1",
    "Звёздные войны",
    "Далёкая галактика, раздираемая войнами.",
    ["Фантастика"],
    [
      { id: "a1", name: "Mark Hamill" },
      { id: "a2", name: "Harrison Ford" },
    ],
    8.6,
  ),
  movie(
    "m2",
    "The Running Man",
    "A wrongly convicted man must survive a televised game show.",
    ["Action", "Sci-Fi"],
    [{ id: "a3", name: "Arnold Schwarzenegger" }],
    6.7,
  ),
  movie("m3", "Мир", "Тихая история о деревне.", ["Drama"], [{ id: "a4", name: "Harrison Ford" }], 7.1),
];

const client = new Client({ node });

async function ids(target: string, query: Record<string, unknown>): Promise<string[]> {
  const res = await client.search<Movie>({ index: target, query, sort: [{ id: "asc" }], size: 100 });
  return res.hits.hits.map((h) => h._source!.id);
}

// The bridge is what this file tests: against stock OpenSearch (ENGINE_FLAVOR=opensearch) it has nothing to check.
const bridged = (await engineMode()) === "bridged";

describe.skipIf(!bridged)("search engine via @elastic/elasticsearch", { timeout: 30_000 }, () => {
  beforeAll(async () => {
    await client.cluster.health({ wait_for_status: "yellow", timeout: "30s" });
  });

  afterAll(async () => {
    await client.indices.delete({ index, ignore_unavailable: true });
    await client.close();
  });

  it("answers with the Elasticsearch product header the client requires", async () => {
    const res = await client.info({}, { meta: true });
    expect(res.headers["x-elastic-product"]).toBe("Elasticsearch");
    expect(res.body.cluster_name).toBe("movies-etl-engine");
  });

  it("answers GET / as Elasticsearch 8 does (the ETL detects the distribution from it)", async () => {
    const info = await client.info();
    expect(info.version.number).toMatch(/^8\./);
    expect(info.version.build_flavor).toBe("default");
    expect((info.version as unknown as Record<string, unknown>).distribution).toBeUndefined();
    expect(info.tagline).toBe("You Know, for Search");
  });

  it("refuses compatible-with versions other than 7 and 8 as Elasticsearch 8 does, and takes plain JSON", async () => {
    const vendor = (version: number) => `application/vnd.elasticsearch+json; compatible-with=${version}`;
    const send = (headers: Record<string, string>, body?: string) =>
      fetch(`${node}/_count`, { method: body ? "POST" : "GET", headers, body }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Record<string, any>,
      }));

    const nine = await send({ accept: vendor(9), "content-type": vendor(9) }, "{}");
    expect(nine.status).toBe(400);
    expect(nine.body.error.type).toBe("media_type_header_exception");
    expect(nine.body.error.reason).toBe("Invalid media-type value on headers [Accept, Content-Type]");
    expect(nine.body.error.caused_by.reason).toMatch(/^Accept version must be either version 8 or 7, but found 9\./);
    expect((await send({ accept: vendor(9) })).status).toBe(400);
    // With a body, both headers carry the same version, or neither does.
    expect((await send({ accept: "application/json", "content-type": vendor(8) }, "{}")).status).toBe(400);
    expect((await send({ accept: vendor(7), "content-type": vendor(8) }, "{}")).status).toBe(400);

    expect((await send({ accept: vendor(8), "content-type": vendor(8) }, "{}")).status).toBe(200);
    expect((await send({ accept: vendor(7), "content-type": vendor(7) }, "{}")).status).toBe(200);
    expect((await send({ accept: `${vendor(8)},text/plain` })).status).toBe(200);
    expect((await send({ accept: "application/json", "content-type": "application/json" }, "{}")).status).toBe(200);
    expect((await send({})).status).toBe(200);
  });

  it("takes request bodies up to Elasticsearch's default http.max_content_length, 100mb", async () => {
    const { body } = await engineRequest("GET", "/_nodes/_local/settings?filter_path=nodes.*.settings.http.max_content_length");
    expect(Object.values(body.nodes as Record<string, any>)[0].settings.http.max_content_length).toBe("100mb");
  });

  it("creates the index from src/load/movies-index.json", async () => {
    const res = await client.indices.create({ index, ...indexDefinition });
    expect(res.acknowledged).toBe(true);

    const mapping = await client.indices.getMapping({ index });
    const mappings = mapping[index]!.mappings;
    expect(String(mappings.dynamic)).toBe("strict");
    expect(mappings.properties!.actors!.type).toBe("nested");

    const analyzed = await client.indices.analyze({ index, analyzer: "ru_en", text: "Войнами и the running" });
    expect(analyzed.tokens!.map((t) => t.token)).toEqual(["войн", "run"]);
  });

  it("bulk-writes documents and rejects one with an unknown field per item (dynamic: strict)", async () => {
    const bad = { id: "bad", title: "Unknown field", not_in_mapping: true };
    const res = await client.bulk({
      refresh: true,
      operations: [...movies, bad].flatMap((doc) => [{ index: { _index: index, _id: doc.id } }, doc]),
    });
    expect(res.errors).toBe(true);
    expect(res.items).toHaveLength(4);
    expect(res.items.slice(0, 3).map((i) => i.index!.status)).toEqual([201, 201, 201]);
    const rejected = res.items[3]!.index!;
    expect(rejected._id).toBe("bad");
    expect(rejected.status).toBe(400);
    expect(rejected.error!.type).toBe("strict_dynamic_mapping_exception");

    await expect(client.index({ index, id: "bad2", document: bad, refresh: true })).rejects.toBeInstanceOf(errors.ResponseError);
  });

  it("counts documents", async () => {
    expect((await client.count({ index })).count).toBe(3);
    expect((await client.count({ index, query: { term: { genres: "Drama" } } })).count).toBe(1);
  });

  it("matches other inflected forms of Russian words", async () => {
    expect(await ids(index, { match: { title: "война" } })).toEqual(["m1"]); // title: "войны"
    expect(await ids(index, { match: { description: "войну" } })).toEqual(["m1"]); // description: "войнами"
    expect(await ids(index, { match: { title: "миром" } })).toEqual(["m3"]); // title: "Мир"
    expect(await ids(index, { match: { writers_names: "толстого" } })).toEqual(["m1", "m2", "m3"]);
    expect(await ids(index, { match: { title: "галактика" } })).toEqual([]);
  });

  it("matches English stemmed forms and keeps title.raw exact", async () => {
    expect(await ids(index, { match: { title: "runs" } })).toEqual(["m2"]); // title: "Running"
    expect(await ids(index, { match: { description: "surviving games" } })).toEqual(["m2"]);
    expect(await ids(index, { term: { "title.raw": "The Running Man" } })).toEqual(["m2"]);
    expect(await ids(index, { term: { "title.raw": "the running man" } })).toEqual([]);
  });

  it("runs nested queries on actors.name", async () => {
    expect(await ids(index, { nested: { path: "actors", query: { match: { "actors.name": "harrison" } } } })).toEqual(["m1", "m3"]);
    // Both conditions must hold for the SAME actor: true only for nested mappings.
    const sameActor = (name: string, id: string) => ({
      nested: {
        path: "actors",
        query: { bool: { must: [{ match: { "actors.name": { query: name, operator: "and" } } }, { term: { "actors.id": id } }] } },
      },
    });
    expect(await ids(index, sameActor("Harrison Ford", "a2"))).toEqual(["m1"]);
    expect(await ids(index, sameActor("Mark Hamill", "a2"))).toEqual([]);
  });

  it("adds, uses and removes an alias", async () => {
    await client.indices.updateAliases({ actions: [{ add: { index, alias } }] });
    expect(await client.indices.existsAlias({ name: alias })).toBe(true);
    expect(await ids(alias, { match: { title: "войны" } })).toEqual(["m1"]);
    expect((await client.count({ index: alias })).count).toBe(3);

    await client.indices.updateAliases({ actions: [{ remove: { index, alias } }] });
    expect(await client.indices.existsAlias({ name: alias })).toBe(false);
    await expect(client.search({ index: alias })).rejects.toMatchObject({ meta: { statusCode: 404 } });
  });

  it("pages with search_after and changes refresh_interval / number_of_replicas", async () => {
    const seen: string[] = [];
    let after: (string | number)[] | undefined;
    for (;;) {
      const page = await client.search<Movie>({ index, size: 2, sort: [{ id: "asc" }], ...(after ? { search_after: after } : {}) });
      const hits = page.hits.hits;
      if (hits.length === 0) break;
      seen.push(...hits.map((h) => h._id!));
      after = hits.at(-1)!.sort as (string | number)[];
    }
    expect(seen).toEqual(["m1", "m2", "m3"]);

    await client.indices.putSettings({ index, settings: { refresh_interval: "-1", number_of_replicas: 0 } });
    let settings = (await client.indices.getSettings({ index }))[index]!.settings!.index!;
    expect(settings.refresh_interval).toBe("-1");
    expect(String(settings.number_of_replicas)).toBe("0");

    await client.indices.putSettings({ index, settings: { index: { refresh_interval: "1s" } } });
    settings = (await client.indices.getSettings({ index }))[index]!.settings!.index!;
    expect(settings.refresh_interval).toBe("1s");
  });

  it("point in time: not at the Elasticsearch path, works at OpenSearch's", async () => {
    // Known difference (see test/engine/README.md): ES 8 uses POST /<index>/_pit, OpenSearch 2 uses
    // POST /<index>/_search/point_in_time and answers { pit_id } instead of { id }.
    await expect(client.openPointInTime({ index, keep_alive: "1m" })).rejects.toBeInstanceOf(errors.ResponseError);

    const pit = await client.transport.request<{ pit_id: string }>({
      method: "POST",
      path: `/${encodeURIComponent(index)}/_search/point_in_time`,
      querystring: { keep_alive: "1m" },
    });
    const first = await client.search<Movie>({ pit: { id: pit.pit_id, keep_alive: "1m" }, size: 2, sort: [{ id: "asc" }] });
    const second = await client.search<Movie>({
      pit: { id: first.pit_id!, keep_alive: "1m" },
      size: 2,
      sort: [{ id: "asc" }],
      search_after: first.hits.hits.at(-1)!.sort!,
    });
    expect([...first.hits.hits, ...second.hits.hits].map((h) => h._id)).toEqual(["m1", "m2", "m3"]);
    await client.transport.request({ method: "DELETE", path: "/_search/point_in_time", body: { pit_id: [pit.pit_id] } });
  });
});
