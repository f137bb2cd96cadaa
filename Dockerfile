# Batchiepatchie: one image for every role (api, worker, scheduler, migrate, simulate).
# Stages: `build` compiles the server (dist/), the simulator and the UI with all
# dependencies; `deps` installs production dependencies only; `runtime` takes the
# two, runs as the unprivileged `node` user and never sees a compiler.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY frontend/package.json frontend/
COPY packages/aws-batch-simulator/package.json packages/aws-batch-simulator/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY frontend/package.json frontend/
COPY packages/aws-batch-simulator/package.json packages/aws-batch-simulator/
# Optional peers (typescript, react, @types) are in the lockfile for the dev tree: --omit=optional keeps them out.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=deps /app/package.json /app/package-lock.json ./
COPY packages/aws-batch-simulator/package.json packages/aws-batch-simulator/
COPY --from=build /app/packages/aws-batch-simulator/dist packages/aws-batch-simulator/dist
COPY --from=build /app/dist dist
COPY --from=build /app/frontend/dist frontend/dist
COPY bin bin
COPY config config
USER node
EXPOSE 5454
# The API's /healthz by default; a worker or scheduler answers it on its metrics_port
# (set BATCHIEPATCHIE_METRICS_PORT and HEALTHCHECK_URL, as docker-compose.yml does).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["node", "bin/healthcheck"]
ENTRYPOINT ["node", "bin/batchiepatchie"]
