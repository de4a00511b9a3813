// The synthetic catalogue as pure functions of (seed, size, index): any row can
// be rebuilt alone, so the loader streams each table in its own pass without
// keeping anything in memory, and the same seed always gives the same data.
import { entityUuid, Random, Stream } from "./random.ts";
import { formatUtcDate } from "./timestamps.ts";
import { english, genres, russian, type Language } from "./words.ts";

export interface CatalogueShape {
  seed: number;
  films: number;
  /** About four per film, shared across films. */
  persons: number;
}

export function catalogueShape(seed: number, films: number): CatalogueShape {
  return { seed, films, persons: films * 4 };
}

export const genreCount = genres.length;
export const roles = ["director", "writer", "actor"] as const;
export type Role = (typeof roles)[number];
/** Most people a film can have in each role. */
export const maxPeoplePerRole: Record<Role, number> = { director: 3, writer: 5, actor: 15 };

/** Timestamps are spread over five years from here (never the clock). */
const windowStart = Date.UTC(2020, 0, 1);
const windowLength = Date.UTC(2025, 0, 1) - windowStart;
const hour = 3_600_000;

export interface GenreRow {
  id: string;
  name: string;
  description: string | null;
  created: number;
  modified: number;
}

export interface PersonRow {
  id: string;
  fullName: string;
  created: number;
  modified: number;
}

/** What links to a film need of it. */
export interface FilmKey {
  id: string;
  created: number;
}

export interface FilmRow extends FilmKey {
  title: string;
  description: string | null;
  /** `YYYY-MM-DD` */
  creationDate: string | null;
  rating: number | null;
  type: "movie" | "tv_show";
  modified: number;
}

export interface GenreLinkRow {
  id: string;
  genreId: string;
  filmWorkId: string;
  created: number;
}

export interface PersonLinkRow {
  id: string;
  personId: string;
  filmWorkId: string;
  role: Role;
  created: number;
}

/** A created/modified pair inside the window, modified never before created (and often soon after). */
function createdAndModified(random: Random): { created: number; modified: number } {
  const created = windowStart + Math.floor(random.next() * windowLength);
  const untilEnd = windowStart + windowLength - created;
  const modified = created + Math.floor(random.next() ** 3 * untilEnd);
  return { created, modified };
}

export function genreRow(shape: CatalogueShape, index: number): GenreRow {
  const random = new Random(shape.seed, Stream.genre, index);
  const id = entityUuid(shape.seed, Stream.genre, index);
  const genre = genres[index]!;
  // Genres come first: created in the window's first month.
  const created = windowStart + Math.floor(random.next() * 30 * 24 * hour);
  const modified = created + Math.floor(random.next() ** 2 * (windowStart + windowLength - created));
  return { id, name: genre.name, description: genre.description, created, modified };
}

export function genreIds(shape: CatalogueShape): string[] {
  return Array.from({ length: genreCount }, (_, index) => genreRow(shape, index).id);
}

export function personId(shape: CatalogueShape, index: number): string {
  return entityUuid(shape.seed, Stream.person, index);
}

export function personRow(shape: CatalogueShape, index: number): PersonRow {
  const random = new Random(shape.seed, Stream.person, index);
  const id = personId(shape, index);
  const language = random.chance(0.5) ? russian : english;
  const fullName = `${random.pick(language.firstNames)} ${random.pick(language.lastNames)}`;
  const { created, modified } = createdAndModified(random);
  return { id, fullName, created, modified };
}

function filmRandom(shape: CatalogueShape, index: number): { random: Random; key: FilmKey; modified: number } {
  const random = new Random(shape.seed, Stream.film, index);
  const id = entityUuid(shape.seed, Stream.film, index);
  const { created, modified } = createdAndModified(random);
  return { random, key: { id, created }, modified };
}

export function filmKey(shape: CatalogueShape, index: number): FilmKey {
  return filmRandom(shape, index).key;
}

export function filmRow(shape: CatalogueShape, index: number): FilmRow {
  const { random, key, modified } = filmRandom(shape, index);
  const language = random.chance(0.5) ? russian : english;
  return {
    id: key.id,
    created: key.created,
    modified,
    title: filmTitle(random, language),
    description: random.chance(0.2) ? null : `${random.pick(language.descriptionOpenings)} ${random.pick(language.descriptionEndings)}`,
    creationDate: random.chance(0.1) ? null : calendarDate(random),
    rating: random.chance(0.1) ? null : random.int(0, 100) / 10,
    type: random.chance(0.8) ? "movie" : "tv_show",
  };
}

function filmTitle(random: Random, language: Language): string {
  const base = `${random.pick(language.adjectives)} ${random.pick(language.nouns).toLowerCase()}`;
  const shape = random.weighted([6, 2, 1]);
  if (shape === 1) return `${base}${random.pick(language.titleLinks)}${random.pick(language.nouns).toLowerCase()}`;
  if (shape === 2) return `${base}${random.pick(language.sequelMarks)}`;
  return base;
}

/** A release date between 1950 and 2024. */
function calendarDate(random: Random): string {
  return formatUtcDate(Date.UTC(1950, 0, 1) + random.int(0, 75 * 365) * 24 * hour);
}

/** 1–3 distinct genres. */
export function filmGenreLinks(shape: CatalogueShape, index: number, film: FilmKey, allGenreIds: readonly string[]): GenreLinkRow[] {
  const random = new Random(shape.seed, Stream.filmGenres, index);
  const count = 1 + random.weighted([50, 35, 15]);
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, allGenreIds.length)) chosen.add(random.int(0, allGenreIds.length - 1));
  return [...chosen].map((genre, position) => ({
    id: entityUuid(shape.seed, Stream.filmGenres, linkKey(index, position)),
    genreId: allGenreIds[genre]!,
    filmWorkId: film.id,
    created: film.created + random.int(0, hour),
  }));
}

/**
 * About 5% of films have nobody; the others 0–3 directors, 0–5 writers and
 * 0–15 actors (at least one person). Popular people recur across films, and
 * some films have a director who also wrote or acts in it.
 */
export function filmPersonLinks(shape: CatalogueShape, index: number, film: FilmKey): PersonLinkRow[] {
  const random = new Random(shape.seed, Stream.filmPeople, index);
  if (shape.persons === 0 || random.chance(0.05)) return [];
  const counts: Record<Role, number> = {
    director: random.weighted([5, 70, 20, 5]),
    writer: random.int(0, maxPeoplePerRole.writer),
    actor: random.int(0, maxPeoplePerRole.actor),
  };
  if (counts.director + counts.writer + counts.actor === 0) counts.actor = 1;

  const people: Record<Role, number[]> = { director: [], writer: [], actor: [] };
  for (const role of roles) people[role] = distinctPeople(random, shape.persons, counts[role]);
  const director = people.director[0];
  if (director !== undefined) {
    for (const [role, probability] of [
      ["writer", 0.15],
      ["actor", 0.05],
    ] as const) {
      const cast = people[role];
      if (random.chance(probability) && !cast.includes(director) && cast.length < maxPeoplePerRole[role]) cast.push(director);
    }
  }

  const links: PersonLinkRow[] = [];
  for (const role of roles) {
    for (const person of people[role]) {
      links.push({
        id: entityUuid(shape.seed, Stream.filmPeople, linkKey(index, links.length)),
        personId: personId(shape, person),
        filmWorkId: film.id,
        role,
        created: film.created + random.int(0, hour),
      });
    }
  }
  return links;
}

/** `count` different people, the first persons far more often than the last (a few stars, many extras). */
function distinctPeople(random: Random, persons: number, count: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, persons)) chosen.add(Math.floor(random.next() ** 2 * persons));
  return [...chosen];
}

/** Unique per (film, position in film): at most 32 links of a kind per film. */
function linkKey(filmIndex: number, position: number): number {
  return filmIndex * 32 + position;
}
