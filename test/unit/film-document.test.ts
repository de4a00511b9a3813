import { describe, expect, it } from "vitest";
import { type CompactFilmRow, DOCUMENT_FIELDS, type DocumentField, escapedPeople, filmDocument } from "../bench/film-document.ts";
import type { MovieDocument } from "../support/expected-documents.ts";

// The document's fields are exactly the oracle's, both ways (compile time).
type Missing = Exclude<keyof MovieDocument, DocumentField>;
type Unknown = Exclude<DocumentField, keyof MovieDocument>;
const noneMissing: [Missing, Unknown] extends [never, never] ? true : false = true;

/** A people list as PostgreSQL's json_agg(json_build_array(...))::text writes it. */
const pgJson = (people: string[][]) => `[${people.map((p) => `[${p.map((s) => JSON.stringify(s)).join(", ")}]`).join(", ")}]`;

const row = (over: Partial<CompactFilmRow> = {}): CompactFilmRow => ({
  id: "00000000-0000-4000-8000-000000000001",
  found: true,
  title: "T",
  description: null,
  rating: null,
  genres: null,
  people: null,
  ...over,
});

describe("film document text", () => {
  it("writes every field of the document, in DOCUMENT_FIELDS order", () => {
    expect(noneMissing).toBe(true);
    const document = JSON.parse(filmDocument(row())!) as MovieDocument;
    expect(Object.keys(document)).toEqual([...DOCUMENT_FIELDS]);
    expect(document).toEqual({
      id: "00000000-0000-4000-8000-000000000001",
      imdb_rating: null,
      title: "T",
      description: null,
      genres: [],
      directors_names: [],
      actors_names: [],
      writers_names: [],
      directors: [],
      actors: [],
      writers: [],
    });
  });

  it("is the text PostgreSQL's json_build_object wrote: separators, rating as given, strings escaped", () => {
    const text = filmDocument(
      row({
        rating: "8",
        title: 'a "q" \\ \b\f\n\r\t\u0001\u001f\u007f \u2028 שלום 😀',
        description: "d",
        genres: `["Drama", "Action"]`,
        people: pgJson([
          ["actor", "id-b", "B"],
          ["director", "id-a", "A"],
          ["actor", "id-a", "A"],
          ["producer", "id-c", "C"],
          ["writer", "id-d", "D"],
        ]),
      }),
    );
    expect(text).toBe(
      '{"id" : "00000000-0000-4000-8000-000000000001", "imdb_rating" : 8, ' +
        '"title" : "a \\"q\\" \\\\ \\b\\f\\n\\r\\t\\u0001\\u001f\u007f \u2028 שלום 😀", "description" : "d", ' +
        '"genres" : ["Drama", "Action"], "directors_names" : ["A"], "actors_names" : ["B", "A"], "writers_names" : ["D"], ' +
        '"directors" : [{"id" : "id-a", "name" : "A"}], "actors" : [{"id" : "id-b", "name" : "B"}, {"id" : "id-a", "name" : "A"}], ' +
        '"writers" : [{"id" : "id-d", "name" : "D"}]}',
    );
  });

  it("keeps PostgreSQL's order (no sorting of its own) and its float8 text", () => {
    const people = pgJson([
      ["actor", "1", "\uffff"],
      ["actor", "2", "😀"],
    ]);
    const document = JSON.parse(filmDocument(row({ rating: "1e-05", people }))!) as MovieDocument;
    expect(document.actors_names).toEqual(["\uffff", "😀"]);
    expect(filmDocument(row({ rating: "1e+15" }))).toContain('"imdb_rating" : 1e+15,');
    expect(filmDocument(row({ rating: "-0" }))).toContain('"imdb_rating" : -0,');
  });

  it("takes the people's names as PostgreSQL escaped them, and refuses a list of any other shape", () => {
    const names = ['a "q", ["x", "y"] \\', "\n\u0001", "], [", "😀"];
    const json = pgJson(names.map((name, i) => ["actor", `id-${i}`, name]));
    expect(escapedPeople(json)).toEqual(names.map((name, i) => ["actor", `id-${i}`, JSON.stringify(name)]));
    expect(escapedPeople("[]")).toEqual([]);
    for (const bad of [
      '[["actor","1","A"]]',
      '[["actor", "1", "A"] ["actor", "2", "B"]]',
      '[["actor", "1", "A"], ',
      '{"a" : 1}',
      '[["actor", "1", 2]]',
    ]) {
      expect(() => escapedPeople(bad), bad).toThrow(/unexpected shape/);
    }
  });

  it("quotes the ratings JSON has no number for, as PostgreSQL's json did; a gone film has no document", () => {
    expect(filmDocument(row({ rating: "NaN" }))).toContain('"imdb_rating" : "NaN",');
    expect(filmDocument(row({ rating: "-Infinity" }))).toContain('"imdb_rating" : "-Infinity",');
    expect(filmDocument(row({ found: false, title: null }))).toBeNull();
  });
});
