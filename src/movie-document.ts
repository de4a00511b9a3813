/**
 * The shape of one document in the index: what the film batch builds in SQL,
 * what `movies-index.json` maps, and what the tests' independent oracle
 * computes. `test/unit/movie-document.test.ts` holds the three together.
 */
export interface MovieDocument {
  id: string;
  imdb_rating: number | null;
  title: string;
  description: string | null;
  genres: string[];
  directors_names: string[];
  actors_names: string[];
  writers_names: string[];
  directors: PersonRef[];
  actors: PersonRef[];
  writers: PersonRef[];
}

export interface PersonRef {
  id: string;
  name: string;
}

/** The document's fields in the order the batch query writes them. */
export const MOVIE_DOCUMENT_FIELDS = [
  "id",
  "imdb_rating",
  "title",
  "description",
  "genres",
  "directors_names",
  "actors_names",
  "writers_names",
  "directors",
  "actors",
  "writers",
] as const satisfies ReadonlyArray<keyof MovieDocument>;

/** Fails to compile if a field of MovieDocument is missing from MOVIE_DOCUMENT_FIELDS. */
type Unlisted = Exclude<keyof MovieDocument, (typeof MOVIE_DOCUMENT_FIELDS)[number]>;
export const EVERY_FIELD_LISTED: [Unlisted] extends [never] ? true : Unlisted = true;
