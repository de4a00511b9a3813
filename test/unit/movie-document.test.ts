import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { indexDefinition } from "../../src/load/index-admin.ts";
import { MOVIE_DOCUMENT_FIELDS } from "../../src/movie-document.ts";

/** The document's shape is written in three places; these keep them one. */
describe("one document shape", () => {
  const mapping = indexDefinition().mappings as { properties: Record<string, { type: string; properties?: Record<string, unknown> }> };

  it("the mapping's properties are the type's fields, no more, no fewer", () => {
    expect(Object.keys(mapping.properties).sort()).toEqual([...MOVIE_DOCUMENT_FIELDS].sort());
  });

  it("the people lists are nested objects of id and name, as the type says", () => {
    for (const role of ["directors", "actors", "writers"] as const) {
      expect(mapping.properties[role]!.type).toBe("nested");
      expect(Object.keys(mapping.properties[role]!.properties ?? {}).sort()).toEqual(["id", "name"]);
    }
  });

  it("the batch query builds the type's fields, in the type's order", () => {
    const sql = readFileSync(new URL("../../src/extract/film-batch.ts", import.meta.url), "utf8");
    const built = sql.slice(sql.indexOf("json_build_object("), sql.indexOf(")::text END AS document"));
    const keys = [...built.matchAll(/^\s*'([a-z_]+)', /gm)].map((m) => m[1]);
    expect(keys).toEqual([...MOVIE_DOCUMENT_FIELDS]);
  });
});
