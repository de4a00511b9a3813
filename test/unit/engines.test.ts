import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { ConfigError, PermissionDeniedError } from "../../src/errors.ts";
import { identifyEngine } from "../../src/load/detect.ts";
import { Engine, EngineConnectionError, EngineResponseError, type EngineInfo, type EngineTransport } from "../../src/load/engine.ts";
import { bulkLoadSettings, creationSettings, credentialsProblem, replicasConfigurable, timeValueMs } from "../../src/load/engine-quirks.ts";
import { indexDefinition } from "../../src/load/index-admin.ts";
import { mergeMeta } from "../../src/load/index-meta.ts";
import { CLUSTER_PRIVILEGE, INDEX_PRIVILEGES } from "../../src/load/privileges.ts";
import { isTransientElasticsearchError } from "../../src/resilience/transient.ts";

/**
 * The decisions that differ per engine, checked without the engine: Elastic
 * Cloud serverless and Elasticsearch 9 cannot run on our machines, so what
 * the ETL sends them is proven here (the real engines cover the rest).
 */
const stateful: EngineInfo = { distribution: "elasticsearch", version: "8.19.0", serverless: false };
const serverless: EngineInfo = { distribution: "elasticsearch", version: "8.11.0", serverless: true };
const opensearch: EngineInfo = { distribution: "opensearch", version: "2.19.6", serverless: false };

describe("detection from GET /", () => {
  const es = (version: Record<string, unknown>) => ({
    status: 200,
    productHeader: "Elasticsearch",
    body: { version, tagline: "You Know, for Search" },
  });

  it("Elasticsearch 8 and 9 by Elastic's product header; serverless by build_flavor", () => {
    expect(identifyEngine(es({ number: "8.19.3", build_flavor: "default" }))).toEqual({
      distribution: "elasticsearch",
      version: "8.19.3",
      serverless: false,
    });
    expect(identifyEngine(es({ number: "9.1.0", build_flavor: "default" }))).toEqual({
      distribution: "elasticsearch",
      version: "9.1.0",
      serverless: false,
    });
    expect(identifyEngine(es({ number: "8.11.0", build_flavor: "serverless" }))).toEqual({
      distribution: "elasticsearch",
      version: "8.11.0",
      serverless: true,
    });
  });

  it("OpenSearch by version.distribution, without the header", () => {
    const answer = { status: 200, productHeader: null, body: { version: { distribution: "opensearch", number: "2.19.6" } } };
    expect(identifyEngine(answer)).toEqual(opensearch);
  });

  it("an Elasticsearch the 8.x client cannot serve, or something else, is a configuration error naming what answered", () => {
    expect(() => identifyEngine(es({ number: "7.17.0" }))).toThrow(/Elasticsearch 7\.17\.0: supported are 8\.x and 9\.x/);
    expect(() => identifyEngine({ status: 200, productHeader: null, body: { hello: "proxy" } })).toThrow(ConfigError);
    // A URL with a path the engine takes for an index name: a configuration error, not an internal one.
    const notFound = { error: { type: "index_not_found_exception", reason: "no such index [nope]" } };
    expect(() => identifyEngine({ status: 404, productHeader: "Elasticsearch", body: notFound })).toThrow(
      /answers GET \/ with 404 index_not_found_exception.*root/,
    );
  });

  it("401 names the credential variables; 403 names the cluster privilege; 503 is an engine error the policy retries", () => {
    const security = { error: { type: "security_exception", reason: "action [cluster:monitor/main] is unauthorized for user [etl]" } };
    expect(() => identifyEngine({ status: 401, productHeader: "Elasticsearch", body: security })).toThrow(
      /ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/,
    );
    expect(() => identifyEngine({ status: 403, productHeader: "Elasticsearch", body: security })).toThrow(
      /cluster privilege cluster:monitor\/main/,
    );
    let unavailable: unknown;
    try {
      identifyEngine({ status: 503, productHeader: null, body: { error: { type: "master_not_discovered_exception" } } });
    } catch (error) {
      unavailable = error;
    }
    expect(unavailable).toBeInstanceOf(EngineResponseError);
    expect(isTransientElasticsearchError(unavailable)).toBe(true);
  });
});

describe("settings per engine", () => {
  const settings = indexDefinition().settings;

  it("stateful Elasticsearch and OpenSearch get the definition's settings as they are", () => {
    expect(creationSettings(stateful, settings)).toEqual(settings);
    expect(creationSettings(opensearch, settings)).toEqual(settings);
  });

  it("serverless never gets number_of_replicas nor a refresh_interval under 5s, flat, prefixed or nested", () => {
    const sent = creationSettings(serverless, settings);
    expect(sent.refresh_interval).toBe("5s");
    expect(sent.analysis).toEqual(settings.analysis);
    expect(settings.gc_deletes).toBe("1h");
    expect(sent.gc_deletes).toBeUndefined();
    expect(
      creationSettings(serverless, {
        number_of_replicas: 1,
        "index.number_of_replicas": "2",
        index: { number_of_replicas: 0, refresh_interval: "500ms" },
      }),
    ).toEqual({
      index: { refresh_interval: "5s" },
    });
    expect(creationSettings(serverless, { refresh_interval: "-1" })).toEqual({ refresh_interval: "-1" });
    expect(creationSettings(serverless, { refresh_interval: "30s", "index.refresh_interval": "1s" })).toEqual({
      refresh_interval: "30s",
      "index.refresh_interval": "5s",
    });
  });

  it("a full load changes refresh and replicas everywhere but on serverless, and reindex copies replicas only where they exist", () => {
    expect(bulkLoadSettings(stateful)).toEqual({ refresh_interval: "-1", number_of_replicas: 0 });
    expect(bulkLoadSettings(opensearch)).toEqual({ refresh_interval: "-1", number_of_replicas: 0 });
    expect(bulkLoadSettings(serverless)).toBeNull();
    expect(replicasConfigurable(serverless)).toBe(false);
    expect(replicasConfigurable(stateful)).toBe(true);
  });

  it("restoring a marker left on serverless drops the replicas it cannot take", () => {
    expect(creationSettings(serverless, { refresh_interval: null, number_of_replicas: "1" })).toEqual({ refresh_interval: null });
  });

  it("time values", () => {
    expect([timeValueMs("1s"), timeValueMs("500ms"), timeValueMs("-1"), timeValueMs("2m"), timeValueMs(250), timeValueMs("soon")]).toEqual([
      1000,
      500,
      -1,
      120_000,
      250,
      null,
    ]);
  });

  it("credentials each engine cannot take", () => {
    const url = "https://search.example:9243";
    expect(credentialsProblem(opensearch, { url, index: "movies", apiKey: "k" })).toMatch(/OpenSearch has no Elasticsearch API keys/);
    expect(credentialsProblem(serverless, { url, index: "movies", username: "etl", password: "p" })).toMatch(
      /serverless has no basic auth.*ELASTICSEARCH_API_KEY/,
    );
    expect(credentialsProblem(serverless, { url, index: "movies", apiKey: "k" })).toBeNull();
    expect(credentialsProblem(stateful, { url, index: "movies", username: "etl", password: "p" })).toBeNull();
  });
});

describe("the mapping's _meta", () => {
  it("keeps every key it is not told to change, and removes only those set to undefined", () => {
    const operator = { owner: "search-team", movies_etl_definition: "abc" };
    expect(mergeMeta(operator, { movies_etl_bulk_load: { refresh_interval: null } })).toEqual({
      ...operator,
      movies_etl_bulk_load: { refresh_interval: null },
    });
    expect(mergeMeta({ ...operator, movies_etl_bulk_load: {} }, { movies_etl_bulk_load: undefined })).toEqual(operator);
  });
});

describe("a missing privilege", () => {
  const refusing: EngineTransport = {
    async request() {
      throw new EngineResponseError(
        403,
        "security_exception",
        "action [indices:data/write/bulk[s]] is unauthorized for user [etl] with effective roles [reader] on indices [movies_20261129t000000000z]",
      );
    },
    async close() {},
  };

  it("ends with a plain message naming the privilege and the index, and is not retried", async () => {
    const engine = new Engine(stateful, refusing);
    const error = await engine
      .request({ method: "POST", path: "/movies/_bulk" }, { privilege: "write", index: "movies" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect((error as Error).message).toMatch(
      /^elasticsearch refused POST \/movies\/_bulk: the credentials lack the index privilege write on movies\. Grant it .*k8s\/elasticsearch-role\.json/,
    );
    expect((error as PermissionDeniedError).exitCode).toBe(2);
    expect(isTransientElasticsearchError(error)).toBe(false);
  });

  it("other engine errors: connection failures and 429/5xx are retried, 4xx are not", () => {
    expect(isTransientElasticsearchError(new EngineConnectionError("ECONNRESET"))).toBe(true);
    expect(isTransientElasticsearchError(new EngineResponseError(429, "es_rejected_execution_exception", undefined))).toBe(true);
    expect(isTransientElasticsearchError(new EngineResponseError(400, "illegal_argument_exception", undefined))).toBe(false);
  });
});

describe("the role shipped beside the manifests", () => {
  const role = (file: string) => JSON.parse(readFileSync(new URL(`../../k8s/${file}`, import.meta.url), "utf8"));

  it("grants exactly the privileges the code asks for, on the alias and its versioned indices", () => {
    const stateful = role("elasticsearch-role.json");
    expect(stateful.cluster).toEqual([CLUSTER_PRIVILEGE]);
    expect(stateful.indices).toHaveLength(1);
    expect(stateful.indices[0].names).toEqual(["movies", "movies_*"]);
    expect([...stateful.indices[0].privileges].sort()).toEqual([...new Set(Object.values(INDEX_PRIVILEGES))].sort());
  });

  it("the serverless role uses builtin privileges only (serverless refuses action names)", () => {
    const privileges: string[] = role("elasticsearch-serverless-role.json").indices[0].privileges;
    expect(privileges.every((p) => !p.includes(":"))).toBe(true);
    expect(privileges).toEqual(expect.arrayContaining(["manage", "read", "write"]));
  });
});
