// Loads the synthetic catalogue (see catalogue-model.ts) into an empty catalogue
// in one transaction: COPY FREEZE into freshly truncated tables, indexes and
// foreign keys rebuilt once at the end, change capture off, then ANALYZE.
import pg from "pg";
import { copyRows, qualified, suspendIndexes } from "./bulk-load.ts";
import {
  catalogueShape,
  filmGenreLinks,
  filmKey,
  filmPersonLinks,
  filmRow,
  genreCount,
  genreIds,
  genreRow,
  personRow,
  type CatalogueShape,
} from "./catalogue-model.ts";
import { filmCopy, genreCopy, genreLinkCopy, personCopy, personLinkCopy } from "./copy-format.ts";

export { CATALOGUE_SCHEMA as catalogueSchema, CATALOGUE_TABLES as catalogueTables } from "../src/catalogue-tables.ts";
import { CATALOGUE_SCHEMA as catalogueSchema, CATALOGUE_TABLES as catalogueTables } from "../src/catalogue-tables.ts";
/** The ETL's own tables, emptied too by a reset. etl_change exists only with change capture. */
const etlTables = ["etl_state", "etl_change"] as const;

export const defaultSeedFilms = 1000;
export const defaultSeed = 1;
const maxSeedFilms = 100_000_000;

export interface SeedOptions {
  databaseUrl: string;
  /** How many films; persons are four times as many. Default 1000. */
  films?: number;
  /** PRNG seed: the same seed and size give byte-identical data. Default 1. */
  seed?: number;
  /** Empty the catalogue (and etl_state, etl_change) first; without it a non-empty catalogue is refused. */
  reset?: boolean;
  /** Milestones, one line each. */
  log?: (line: string) => void;
  /** Called often during each table's load. */
  onProgress?: (progress: SeedProgress) => void;
}

export interface SeedProgress {
  /** A table being loaded, or "indexes" while they are rebuilt. */
  table: string;
  /** Units done of `total`: rows for genre/person/film_work, films for the link tables, statements for indexes. */
  done: number;
  total: number;
  /** Rows loaded so far into `table`. */
  rows: number;
  /** For "indexes": the statement being run. */
  step?: string;
}

export interface SeedResult {
  films: number;
  genres: number;
  persons: number;
  genreLinks: number;
  personLinks: number;
  seconds: number;
}

export class CatalogueNotEmptyError extends Error {
  override name = "CatalogueNotEmptyError";
}

export async function seedCatalogue(options: SeedOptions): Promise<SeedResult> {
  const films = options.films ?? defaultSeedFilms;
  const seed = options.seed ?? defaultSeed;
  if (!Number.isSafeInteger(films) || films < 0 || films > maxSeedFilms)
    throw new RangeError(`films must be an integer from 0 to ${maxSeedFilms}, got ${films}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const log = options.log ?? (() => {});
  const onProgress = options.onProgress ?? (() => {});
  const shape = catalogueShape(seed, films);
  const started = performance.now();

  const client = new pg.Client({ connectionString: options.databaseUrl, application_name: "movies-etl seed" });
  await client.connect().catch((error: unknown) => {
    if ((error as { code?: string }).code === "3D000") {
      throw new Error(`${(error as Error).message}: run \`npm run db:migrate\` first (it creates the database)`);
    }
    throw error;
  });
  try {
    // Bulk loads are not changes for the ETL to replay: the change-capture triggers stand down.
    await client.query("SET movies_etl.capture = off");
    await client.query("BEGIN");
    // Memory for the index builds and the foreign-key checks at the end.
    await client.query("SET LOCAL maintenance_work_mem = '512MB'");
    await client.query("SET LOCAL work_mem = '256MB'");
    const existingEtlTables = await prepareEmptyTables(client, options.reset ?? false, log);
    const suspended = await suspendIndexes(client, catalogueSchema, catalogueTables);

    const timed = async (table: string, load: () => Promise<number>): Promise<number> => {
      const tableStarted = performance.now();
      const rows = await load();
      log(`${table}: ${rows.toLocaleString("en")} rows in ${seconds(tableStarted)} s`);
      return rows;
    };
    const genres = await timed("genre", () => loadGenres(client, shape, onProgress));
    const persons = await timed("person", () => loadPersons(client, shape, onProgress));
    await timed("film_work", () => loadFilms(client, shape, onProgress));
    const genreLinks = await timed("genre_film_work", () => loadGenreLinks(client, shape, onProgress));
    const personLinks = await timed("person_film_work", () => loadPersonLinks(client, shape, onProgress));

    const indexesStarted = performance.now();
    await suspended.restore((step) => onProgress({ table: "indexes", done: step.done, total: step.total, rows: 0, step: step.sql }));
    log(`indexes and foreign keys rebuilt in ${seconds(indexesStarted)} s`);
    await client.query("COMMIT");

    const analyzeStarted = performance.now();
    const analyzed = [...catalogueTables, ...existingEtlTables].map((table) => qualified(catalogueSchema, table));
    await client.query(`ANALYZE ${analyzed.join(", ")}`);
    log(`analyzed in ${seconds(analyzeStarted)} s`);
    return { films, genres, persons, genreLinks, personLinks, seconds: Number(seconds(started)) };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

/**
 * Locks the catalogue, refuses a non-empty one unless `reset`, and truncates the
 * tables (which also lets COPY FREEZE write already-frozen rows). Returns the ETL
 * tables that exist.
 */
async function prepareEmptyTables(client: pg.ClientBase, reset: boolean, log: (line: string) => void): Promise<string[]> {
  const present = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name = ANY($2)`,
    [catalogueSchema, [...catalogueTables, ...etlTables]],
  );
  const presentNames = new Set(present.rows.map((row) => row.table_name));
  const missing = catalogueTables.filter((table) => !presentNames.has(table));
  if (missing.length > 0) {
    throw new Error(`the catalogue tables ${missing.join(", ")} do not exist: run \`npm run db:migrate\` first`);
  }
  const existingEtlTables = etlTables.filter((table) => presentNames.has(table));
  const catalogue = catalogueTables.map((table) => qualified(catalogueSchema, table)).join(", ");
  await client.query(`LOCK TABLE ${catalogue} IN ACCESS EXCLUSIVE MODE`);

  if (reset) {
    const all = [...catalogueTables, ...existingEtlTables].map((table) => qualified(catalogueSchema, table)).join(", ");
    await client.query(`TRUNCATE ${all} RESTART IDENTITY`);
    log(`reset: truncated ${[...catalogueTables, ...existingEtlTables].join(", ")}`);
    return existingEtlTables;
  }
  const nonEmpty: string[] = [];
  for (const table of catalogueTables) {
    const rows = await client.query(`SELECT 1 FROM ${qualified(catalogueSchema, table)} LIMIT 1`);
    if (rows.rowCount) nonEmpty.push(table);
  }
  if (nonEmpty.length > 0) {
    throw new CatalogueNotEmptyError(
      `refusing to seed: the catalogue is not empty (${nonEmpty.join(", ")} have rows). ` +
        `Set SEED_RESET=1 to truncate the catalogue, etl_state and etl_change and seed anew.`,
    );
  }
  await client.query(`TRUNCATE ${catalogue}`);
  return existingEtlTables;
}

type ProgressCallback = (progress: SeedProgress) => void;

/** How often (in units: rows or films) progress is reported. */
const progressEvery = 1000;

/** The rows of entities 0..count-1 (each giving zero or more rows), reporting progress as it goes. */
function* rowsOf<Row>(table: string, count: number, build: (index: number) => Row | Row[], onProgress: ProgressCallback): Generator<Row> {
  let rows = 0;
  for (let index = 0; index < count; index++) {
    const built = build(index);
    if (Array.isArray(built)) {
      rows += built.length;
      yield* built;
    } else {
      rows++;
      yield built;
    }
    if ((index + 1) % progressEvery === 0 || index + 1 === count) onProgress({ table, done: index + 1, total: count, rows });
  }
}

function loadGenres(client: pg.ClientBase, shape: CatalogueShape, onProgress: ProgressCallback): Promise<number> {
  return copyRows(
    client,
    catalogueSchema,
    genreCopy,
    rowsOf("genre", genreCount, (index) => genreRow(shape, index), onProgress),
  );
}

function loadPersons(client: pg.ClientBase, shape: CatalogueShape, onProgress: ProgressCallback): Promise<number> {
  return copyRows(
    client,
    catalogueSchema,
    personCopy,
    rowsOf("person", shape.persons, (index) => personRow(shape, index), onProgress),
  );
}

function loadFilms(client: pg.ClientBase, shape: CatalogueShape, onProgress: ProgressCallback): Promise<number> {
  return copyRows(
    client,
    catalogueSchema,
    filmCopy,
    rowsOf("film_work", shape.films, (index) => filmRow(shape, index), onProgress),
  );
}

/** Link tables: progress counts films (the row total is not known ahead). */
function loadGenreLinks(client: pg.ClientBase, shape: CatalogueShape, onProgress: ProgressCallback): Promise<number> {
  const genres = genreIds(shape);
  const links = rowsOf("genre_film_work", shape.films, (index) => filmGenreLinks(shape, index, filmKey(shape, index), genres), onProgress);
  return copyRows(client, catalogueSchema, genreLinkCopy, links);
}

function loadPersonLinks(client: pg.ClientBase, shape: CatalogueShape, onProgress: ProgressCallback): Promise<number> {
  const links = rowsOf("person_film_work", shape.films, (index) => filmPersonLinks(shape, index, filmKey(shape, index)), onProgress);
  return copyRows(client, catalogueSchema, personLinkCopy, links);
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}
