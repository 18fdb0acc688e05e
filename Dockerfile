# syntax=docker/dockerfile:1
# Hearth: one Bun process. Three stages so the runtime image carries neither dev dependencies
# nor build tooling, and nothing from the build host (node_modules is rebuilt for Linux here:
# @node-rs/argon2 ships per-platform binaries).

# The slim Debian variant: glibc (the native argon2 binary and PGlite's wasm run as tested), and it
# already has the non-root user "bun" (uid 1000). Pin a patch version; bump it deliberately.
ARG BUN_IMAGE=oven/bun:1.4.5-slim

# --- deps: production dependencies only, exactly as locked -----------------------------------
FROM ${BUN_IMAGE} AS deps
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production

# --- build: vendors htmx/alpine into public/vendor and bundles src/client into public/build ----
FROM ${BUN_IMAGE} AS build
WORKDIR /app
COPY package.json bun.lock ./
# All dependencies: the bundler may need dev-only packages; none of them reach the runtime image.
RUN bun install --frozen-lockfile
COPY . .
RUN bun scripts/build.ts && test -f public/build/manifest.json

# --- runtime ---------------------------------------------------------------------------------
FROM ${BUN_IMAGE} AS runtime
WORKDIR /app

# NODE_ENV=production: the app generates nothing and exits if a secret is missing.
# JWT keys come from Docker secrets (compose.yml), never from the environment.
ENV NODE_ENV=production \
    DATA_DIR=/app/data \
    LISTEN_ADDR=0.0.0.0:8080 \
    STATIC_FILES_PATH=/app/public \
    JWT_PRIVATE_KEY_PATH=/run/secrets/jwt_private_key \
    JWT_PUBLIC_KEY_PATH=/run/secrets/jwt_public_key

# Code and assets are owned by root and read-only to the app user: a compromised process
# cannot rewrite the server or the JavaScript it serves.
COPY --from=deps /app/node_modules ./node_modules
# tsconfig.json is needed at run time: Bun reads the JSX settings (hono/jsx) from it.
COPY package.json bun.lock tsconfig.json ./
COPY --from=build /app/src ./src
COPY --from=build /app/views ./views
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/scripts ./scripts
COPY --from=build /app/public ./public

# The only writable path. A named volume mounted here starts with this ownership.
RUN mkdir -p /app/data && chown bun:bun /app/data
VOLUME ["/app/data"]

USER bun
EXPOSE 8080

# No curl in the image: the check is a 5-second fetch in Bun (scripts/healthcheck.ts) of GET /readyz
# (database reachable, migrations applied, Redis when configured). Orchestrators with separate
# probes use GET /livez for liveness and GET /readyz for readiness (docs/operations.md).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["bun", "scripts/healthcheck.ts", "/readyz"]

# Bun directly (not the base image's wrapper script) so `docker compose run hearth <script.ts>`
# runs any script, and SIGTERM reaches the server (compose.yml adds an init process).
ENTRYPOINT ["bun"]
CMD ["src/main.ts"]
