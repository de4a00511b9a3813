# movies-etl container image.
#
#   docker build -t movies-etl .                            # runtime image (last stage)
#   docker build --target migrate -t movies-etl-migrate .   # migrations and seeding
#
# Stages:
#   base     Node 24 LTS on Debian bookworm, with the npm that writes package-lock.json
#   build    full `npm ci` (devDependencies too); its postinstall generates the
#            Prisma client into src/generated/prisma
#   migrate  the build stage as a one-shot tool image: `db:migrate` needs the WASM
#            schema engine, a devDependency, so it cannot run from the runtime image
#   runtime  production dependencies only, the sources and the generated client;
#            runs as an unprivileged user. Built by default (last stage).

# The release the devDependency `node` pins, so the image runs what the tests ran.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS base
# The image ships npm 10, which reads this lockfile differently from npm 11 (the
# version that writes it) and refuses `npm ci`. Pin the project's npm.
ARG NPM_VERSION=11.19.1
RUN npm install --global --no-audit --no-fund "npm@${NPM_VERSION}" \
    && npm cache clean --force
WORKDIR /app

# ---------------------------------------------------------------------------
FROM base AS build
ENV CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1
# Only what `npm ci` and its postinstall (`prisma generate`) read, so that a
# source change does not invalidate the dependency layer.
COPY package.json package-lock.json prisma.config.ts ./
COPY scripts/prisma-generate.mjs ./scripts/
COPY prisma/schema.prisma ./prisma/
RUN npm ci --no-audit --no-fund \
    && test -f src/generated/prisma/client.ts \
    && npm cache clean --force
# The rest of the project (.dockerignore keeps out node_modules, src/generated, tests...).
COPY . .

# ---------------------------------------------------------------------------
FROM build AS migrate
ENV NODE_ENV=production
# The `node` user of the base image; numeric so that Kubernetes can check runAsNonRoot.
USER 1000:1000
STOPSIGNAL SIGTERM
# The same command as `npm run db:migrate`, without npm in between.
# Arguments are passed on, e.g. `--skip-change-capture`.
ENTRYPOINT ["node", "--import", "tsx", "scripts/migrate.ts"]
CMD []

# ---------------------------------------------------------------------------
FROM base AS runtime
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# --omit=dev: production dependencies only.
# --legacy-peer-deps: `prisma` and `typescript` are optional peers of
#   @prisma/client as well as devDependencies, so the lockfile marks them
#   `devOptional`, which --omit=dev alone keeps (with the Prisma CLI, Studio and
#   their trees: about 370 MB instead of 120 MB). Ignoring peer edges leaves them
#   dev-only, and nothing in production needs them.
# --ignore-scripts: no postinstall: the client is generated in the build stage
#   (the generator is a devDependency). tsx stays installed (`npx tsx` is the
#   command for people); the entrypoint does not use it.
RUN npm ci --omit=dev --legacy-peer-deps --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force
COPY tsconfig.json ./
# Sources with the client generated in the build stage (src/generated/prisma).
COPY --from=build /app/src ./src
# Files stay owned by root: the service cannot change its own code, and it
# writes nothing.
USER 1000:1000
# The service handles SIGTERM itself (stops taking batches, saves its state,
# exits within ETL_SHUTDOWN_TIMEOUT_S); node runs as PID 1 and starts no child
# processes, so no init process is needed.
STOPSIGNAL SIGTERM
# node itself rather than `npx tsx`: one process (npx -> tsx CLI -> node would be
# three, with signals relayed between them), no npm cache writes at start-up.
# No loader either: Node 24 strips the types itself (the sources use erasable
# syntax only, `erasableSyntaxOnly`), so no esbuild process, no compile cache to
# write, and the memory settings of src/cli/memory-settings.ts apply as anywhere.
ENTRYPOINT ["node", "src/main.ts"]
# One sync cycle; pass `--watch`, `status`, `verify`, `reindex` or `--help`.
CMD []
