// `npm run db:seed`: runs `prisma db seed` (which runs the seed command from
// prisma.config.ts, `tsx seed/seed.ts`). Seeding needs no schema engine, but the
// Prisma CLI wants its native binary at start-up and cannot download it on a
// machine without access to the Prisma binaries host; an executable stub lets it
// proceed. With access, `npx prisma db seed` works as is.
import { spawnSync } from "node:child_process";

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= "/bin/false";
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";
const result = spawnSync("npx", ["prisma", "db", "seed", ...process.argv.slice(2)], { stdio: "inherit", env });
process.exit(result.status ?? 1);
