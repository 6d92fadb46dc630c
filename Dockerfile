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

# ---- runtime ----------------------------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    APOLLO_TELEMETRY_DISABLED=1 \
    NODE_OPTIONS=--import=./kernel/src/telemetry/register.ts
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
