// Rows to PostgreSQL's COPY text format: tab-separated, \N for NULL, one line a row.
import type { FilmRow, GenreLinkRow, GenreRow, PersonLinkRow, PersonRow } from "./catalogue-model.ts";
import { formatUtcTimestamp as timestamp } from "./timestamps.ts";

const needsEscape = /[\\\t\n\r]/;

const nullValue = "\\N";

function text(value: string): string {
  if (!needsEscape.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (char) => ({ "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" })[char]!);
}

function nullableText(value: string | null): string {
  return value === null ? nullValue : text(value);
}

export interface CopyTable<Row> {
  table: string;
  columns: readonly string[];
  format(row: Row): string;
}

export const genreCopy: CopyTable<GenreRow> = {
  table: "genre",
  columns: ["id", "name", "description", "created", "modified"],
  format: (row) =>
    `${row.id}\t${text(row.name)}\t${nullableText(row.description)}\t${timestamp(row.created)}\t${timestamp(row.modified)}\n`,
};

export const personCopy: CopyTable<PersonRow> = {
  table: "person",
  columns: ["id", "full_name", "created", "modified"],
  format: (row) => `${row.id}\t${text(row.fullName)}\t${timestamp(row.created)}\t${timestamp(row.modified)}\n`,
};

export const filmCopy: CopyTable<FilmRow> = {
  table: "film_work",
  columns: ["id", "title", "description", "creation_date", "rating", "type", "created", "modified"],
  format: (row) =>
    `${row.id}\t${text(row.title)}\t${nullableText(row.description)}\t${row.creationDate ?? nullValue}\t` +
    `${row.rating === null ? nullValue : row.rating.toFixed(1)}\t${row.type}\t${timestamp(row.created)}\t${timestamp(row.modified)}\n`,
};

export const genreLinkCopy: CopyTable<GenreLinkRow> = {
  table: "genre_film_work",
  columns: ["id", "genre_id", "film_work_id", "created"],
  format: (row) => `${row.id}\t${row.genreId}\t${row.filmWorkId}\t${timestamp(row.created)}\n`,
};

export const personLinkCopy: CopyTable<PersonLinkRow> = {
  table: "person_film_work",
  columns: ["id", "person_id", "film_work_id", "role", "created"],
  format: (row) => `${row.id}\t${row.personId}\t${row.filmWorkId}\t${row.role}\t${timestamp(row.created)}\n`,
};
