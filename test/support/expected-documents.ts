import type { MovieDocument } from "../../src/movie-document.ts";
import { testPrisma } from "./clients.ts";

export type { MovieDocument };

/** Code point order, as Postgres's "C" collation sorts UTF-8 text. */
export function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * The documents the index should hold, computed independently of the ETL's
 * SQL aggregation: typed Prisma queries with relations, assembled in JS.
 */
export async function expectedDocuments(databaseUrl: string): Promise<Map<string, MovieDocument>> {
  const prisma = testPrisma(databaseUrl);
  try {
    const documents = new Map<string, MovieDocument>();
    let cursor: string | undefined;
    for (;;) {
      const films = await prisma.filmWork.findMany({
        take: 1000,
        ...(cursor ? { skip: 1, cursor: { id: cursor } } : {}),
        orderBy: { id: "asc" },
        include: { genres: { include: { genre: true } }, persons: { include: { person: true } } },
      });
      for (const film of films) {
        const genres = film.genres.map((link) => link.genre).sort((a, b) => byCodePoint(a.name, b.name) || byCodePoint(a.id, b.id));
        const people = (role: string) =>
          film.persons
            .filter((link) => link.role === role)
            .map((link) => ({ id: link.person.id, name: link.person.fullName }))
            .sort((a, b) => byCodePoint(a.name, b.name) || byCodePoint(a.id, b.id));
        const directors = people("director");
        const actors = people("actor");
        const writers = people("writer");
        documents.set(film.id, {
          id: film.id,
          imdb_rating: film.rating,
          title: film.title,
          description: film.description,
          genres: genres.map((g) => g.name),
          directors_names: directors.map((p) => p.name),
          actors_names: actors.map((p) => p.name),
          writers_names: writers.map((p) => p.name),
          directors,
          actors,
          writers,
        });
      }
      if (films.length < 1000) return documents;
      cursor = films[films.length - 1]!.id;
    }
  } finally {
    await prisma.$disconnect();
  }
}
