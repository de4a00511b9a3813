// Runs `prisma generate` after install. Generation does not need Prisma's native
// schema engine, but the CLI tries to download it at start-up; on a machine that
// cannot reach the Prisma binaries host an executable stub lets the CLI proceed.
import { spawnSync } from "node:child_process";

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= "/bin/false";
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";
const result = spawnSync("npx", ["prisma", "generate"], { stdio: "inherit", env });
process.exit(result.status ?? 1);
