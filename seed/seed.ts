// `npm run db:seed` (prisma db seed) / `tsx seed/seed.ts`: loads a deterministic
// synthetic catalogue. Environment: DATABASE_URL (default the local movies
// database), SEED_FILMS (default 1000), SEED (default 1), SEED_RESET=1 to empty
// a non-empty catalogue first.
import { databaseUrlFromEnv, redactDatabaseUrl } from "../scripts/db-url.ts";
import { createProgressReporter } from "./progress-reporter.ts";
import { defaultSeed, defaultSeedFilms, seedCatalogue } from "./seed-catalogue.ts";

function integerFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw.replaceAll("_", ""));
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got "${raw}"`);
  return value;
}

async function main(): Promise<void> {
  const databaseUrl = databaseUrlFromEnv();
  const films = integerFromEnv("SEED_FILMS", defaultSeedFilms);
  const seed = integerFromEnv("SEED", defaultSeed);
  const reset = process.env.SEED_RESET === "1";
  const reporter = createProgressReporter();
  reporter.line(`seeding ${redactDatabaseUrl(databaseUrl)}: ${films.toLocaleString("en")} films, SEED=${seed}${reset ? ", reset" : ""}`);
  const result = await seedCatalogue({
    databaseUrl,
    films,
    seed,
    reset,
    log: (line) => reporter.line(`seed ${line}`),
    onProgress: (progress) => reporter.progress(progress),
  });
  reporter.line(
    `seeded ${result.films.toLocaleString("en")} films, ${result.persons.toLocaleString("en")} persons, ${result.genres} genres, ` +
      `${(result.genreLinks + result.personLinks).toLocaleString("en")} links in ${result.seconds} s`,
  );
}

main().catch((error: unknown) => {
  console.error(`seed failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
