// Not used by the ETL (see test/bench/README.md, "Full-sync CPU variants"):
// the compact-parts variants of test/bench/batch-variants.ts, measured and
// dismissed at 100k films because the ETL spends more CPU writing the text
// than PostgreSQL saves. Kept, with its unit test, so the variant can be
// measured again (on 1M films, or with other heap settings): reverting the
// commit that moved it here puts it back in src/extract and in readFilmBatch.
//
// The index document of a film, as JSON text, from the compact parts the film
// batch query returns (film columns, genre names, one list of the film's
// people). PostgreSQL orders every list (COLLATE "C", so by UTF-8 bytes, which
// JavaScript's own string order is not): this module only splits and writes,
// it never sorts.
//
// The text is byte for byte what PostgreSQL's json_build_object / json_agg
// wrote before this module existed (`{"id" : "…", "genres" : ["a", "b"]}`):
// the same field order, the same separators, the same string escapes
// (JSON.stringify escapes exactly what PostgreSQL's escape_json does), and the
// rating as PostgreSQL prints a float8.
import { MOVIE_DOCUMENT_FIELDS } from "../../src/movie-document.ts";

/** The document's fields, in the order they are written: the project's own list. */
export const DOCUMENT_FIELDS = MOVIE_DOCUMENT_FIELDS;

export type DocumentField = (typeof DOCUMENT_FIELDS)[number];

/** One row of the film batch query, before it becomes a document. */
export interface CompactFilmRow {
  id: string;
  /** False when the film no longer exists (the row becomes a deletion). */
  found: boolean;
  title: string | null;
  description: string | null;
  /** `rating::text`: PostgreSQL's float8 output, which is also what its json writes. */
  rating: string | null;
  /**
   * Genre names as PostgreSQL's json_agg wrote them (`["a", "b"]`), ordered
   * by name COLLATE "C", id: the document's list as it is; null when none.
   */
  genres: string | null;
  /**
   * The film's people as JSON text, `[[role, person id, name], ...]`, ordered
   * by name COLLATE "C", person id, role, so each role's subsequence is in
   * name, id order; null when none.
   */
  people: string | null;
}

/** A person of the film: role, person id, full name as a JSON string (quoted, escaped). */
export type FilmPerson = readonly [role: string, id: string, name: string];

const quote = JSON.stringify;

/** PostgreSQL's json quotes the float8s that are not JSON numbers. */
function ratingJson(rating: string | null): string {
  if (rating === null) return "null";
  return rating === "NaN" || rating === "Infinity" || rating === "-Infinity" ? quote(rating) : rating;
}

/** The document text of a row, or null when the film is gone. */
export function filmDocument(row: CompactFilmRow): string | null {
  if (!row.found) return null;
  return documentText(row, row.people === null ? [] : escapedPeople(row.people));
}

/**
 * One `["role", "id", "name"]` of PostgreSQL's json text (its json_agg and
 * json_build_array write ", " between items), the strings left escaped.
 */
const PERSON = /\["((?:[^"\\]|\\.)*)", "([^"\\]*)", ("(?:[^"\\]|\\.)*")\](, |\]$)/y;

/**
 * The people of PostgreSQL's json text, their names still JSON strings as
 * PostgreSQL escaped them (so the document needs no parse and no re-escape).
 * Anything but that exact shape is an error, never a person silently lost.
 */
export function escapedPeople(json: string): FilmPerson[] {
  const people: FilmPerson[] = [];
  if (json === "[]") return people;
  if (json[0] !== "[") throw new Error(`people list of unexpected shape: ${json.slice(0, 80)}`);
  PERSON.lastIndex = 1;
  for (;;) {
    const match = PERSON.exec(json);
    if (match === null) throw new Error(`people list of unexpected shape: ${json.slice(0, 80)}`);
    people.push([match[1]!, match[2]!, match[3]!]);
    if (match[4] === "]") return people;
  }
}

/** The document text of an existing film, its people already split out (names as JSON strings). */
export function documentText(row: Omit<CompactFilmRow, "found" | "people">, people: readonly FilmPerson[]): string {
  const directorsNames: string[] = [];
  const actorsNames: string[] = [];
  const writersNames: string[] = [];
  const directors: string[] = [];
  const actors: string[] = [];
  const writers: string[] = [];
  for (const [role, id, name] of people) {
    const person = `{"id" : "${id}", "name" : ${name}}`;
    switch (role) {
      case "director":
        directorsNames.push(name);
        directors.push(person);
        break;
      case "actor":
        actorsNames.push(name);
        actors.push(person);
        break;
      case "writer":
        writersNames.push(name);
        writers.push(person);
        break;
      // any other role is not part of the document
    }
  }
  return (
    `{"id" : "${row.id}", "imdb_rating" : ${ratingJson(row.rating)}, "title" : ${quote(row.title)}, ` +
    `"description" : ${row.description === null ? "null" : quote(row.description)}, ` +
    `"genres" : ${row.genres ?? "[]"}, "directors_names" : ${list(directorsNames)}, "actors_names" : ${list(actorsNames)}, ` +
    `"writers_names" : ${list(writersNames)}, "directors" : ${list(directors)}, "actors" : ${list(actors)}, ` +
    `"writers" : ${list(writers)}}`
  );
}

function list(items: string[]): string {
  return items.length === 0 ? "[]" : `[${items.join(", ")}]`;
}
