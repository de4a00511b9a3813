/** The catalogue as the admin panel creates it: one schema, five tables. */
export const CATALOGUE_SCHEMA = "content";

/** In an order that respects the foreign keys: the entities, then the links between them. */
export const CATALOGUE_TABLES = ["genre", "person", "film_work", "genre_film_work", "person_film_work"] as const;
export type CatalogueTable = (typeof CATALOGUE_TABLES)[number];

/** The tables with a `modified` column, whose `(modified, id)` cursors may be configured. */
export const SOURCE_TABLES = ["genre", "person", "film_work"] as const satisfies readonly CatalogueTable[];
export type SourceTable = (typeof SOURCE_TABLES)[number];
