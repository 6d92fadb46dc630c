# One image for every WidgeTDC process; docker-compose.yml picks the process per service:
#   node gateway/src/index.ts            (default CMD)
#   node subgraphs/<name>/src/index.ts   (knowledge, agent, governance, audit)
#   node scripts/migrate.ts              (one-shot migrations)
# TypeScript runs as is on Node 24 (type stripping), so there is no build step.

# ---- production dependencies ------------------------------------------------------------------
# The npm package `node` (the Node 24 binary used by `npm run`) is a devDependency: the image uses
# the base image's Node 24 instead, so installing production dependencies only is enough.
# --ignore-scripts: no production dependency needs an install script.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- app: the runtime of every process ---------------------------------------------------------
FROM node:24-bookworm-slim AS app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    APOLLO_TELEMETRY_DISABLED=1
WORKDIR /app
# Everything below stays owned by root and read-only to the `node` user that runs the processes.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json supergraph.yaml ./
COPY kernel ./kernel
COPY events ./events
COPY contracts ./contracts
COPY subgraphs ./subgraphs
COPY gateway ./gateway
COPY migrations ./migrations
COPY schema ./schema
COPY scripts ./scripts
# The writable folders: WIDGETDC_DATA_DIR's default (embedded database and dev issuer keys), used
# only when no DATABASE_URL / AUTH_JWKS_URL is given.
RUN mkdir .data && chown node:node .data
# The audit service's checkpoint volume (AUDIT_ANCHOR_DIR); a new named volume takes this owner.
RUN mkdir -p /var/lib/widgetdc/audit-anchors && chown node:node /var/lib/widgetdc/audit-anchors
USER node
EXPOSE 4000 4001 4002 4003 4004
# No HEALTHCHECK: docker-compose.yml probes each service's own /ready.
CMD ["node", "gateway/src/index.ts"]

# ---- backup: the runtime plus pg_dump/pg_restore of the server's major version ------------------
# docker-compose.yml's `backup` service (npm run backup on a schedule). Debian's own client is 15;
# pg_dump must be at least the server's version, so it comes from the PostgreSQL project's apt repository.
FROM app AS backup
ARG PG_MAJOR=17
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && install -d /usr/share/postgresql-common/pgdg \
 && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
 && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}" \
 && rm -rf /var/lib/apt/lists/*
RUN mkdir /backups && chown node:node /backups
USER node
CMD ["node", "scripts/backup.ts", "--dir", "/backups", "--keep", "14", "--every", "1440"]

# ---- runtime (the default target): every process but the backup ------------------------------------
FROM app AS runtime
CMD ["node", "gateway/src/index.ts"]
