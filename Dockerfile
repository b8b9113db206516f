# syntax=docker/dockerfile:1
#
# kasa2mqtt image: TP-Link Kasa cloud to MQTT bridge.
#
#   docker build -t kasa2mqtt:local --build-arg VERSION="$(node -p "require('./package.json').version")" .
#   docker run --rm -it --env-file .env -v "$PWD/data:/data" kasa2mqtt:local
#
# Builds with BuildKit (buildx, Docker 23+) and with the legacy builder alike (Debian 12's
# docker-compose 1.29 uses the legacy one): no `RUN --mount` and no other BuildKit-only syntax.
# The `syntax` line above is a comment to the legacy builder.
#
# Node 22 (security support until 2027-04-30); Node 20 is end-of-life. The runtime dependencies
# are pure JavaScript, so Alpine's musl libc is fine.
ARG NODE_VERSION=22

# ---- build: compile TypeScript (needs the dev dependencies) ---------------------------------
FROM node:${NODE_VERSION}-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs its install script (package.json `allowScripts` denies
# them for npm 11; the npm 10 shipped with Node 22 does not know that key).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- deps: production dependencies only --------------------------------------------------------
# A separate stage rather than `npm prune` after the build: it runs in parallel with the build and
# is exactly what test/docker/prodInstall.test.ts reproduces without a Docker engine.
FROM node:${NODE_VERSION}-alpine AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime ----------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-alpine AS runtime
ARG VERSION=dev
# The user the daemon runs as. The Home Assistant add-on images are built with RUN_AS=root
# (.github/workflows/release.yml): the Supervisor mounts a root-owned /data into add-ons.
ARG RUN_AS=node
LABEL org.opencontainers.image.title="kasa2mqtt" \
      org.opencontainers.image.description="Bridge TP-Link Kasa devices to MQTT through the TP-Link cloud, with MFA over MQTT and Home Assistant discovery" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}"

# tini as PID 1: forwards SIGTERM/SIGINT to node (which then publishes offline and disconnects
# cleanly) and reaps zombies. Works with a plain `docker run`, so compose needs no `init: true`.
RUN apk add --no-cache tini

ENV NODE_ENV=production \
    DATA_DIR=/data \
    HEALTH_PORT=8080 \
    HEALTH_HOST=0.0.0.0

WORKDIR /app
# The application files stay owned by root: the `node` user can read them but not change them.
# Only /data (session, topic keys, client id) is writable.
COPY package.json ./
COPY certs ./certs
# `kasa2mqtt --help` points to it, as to the README.
COPY config.example.env ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data

VOLUME ["/data"]
# The official node images ship a `node` user (uid/gid 1000).
USER ${RUN_AS}
# GET /healthz (liveness), GET /readyz (readiness) and GET /metrics (Prometheus).
EXPOSE 8080

# Liveness: GET /healthz on HEALTH_PORT answers 200 while the process and its MQTT connections are
# alive, whatever the cloud session does (waiting for an MFA code is no reason to restart). Asked
# with the image's busybox wget: a second node process per probe would cost ~47 MB and ~80 ms.
# A wildcard HEALTH_HOST (0.0.0.0, ::) is asked on 127.0.0.1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/bin/sh", "-c", "host=${HEALTH_HOST:-127.0.0.1}; case $host in 0.0.0.0|::) host=127.0.0.1;; esac; wget -q -T 4 -O /dev/null http://$host:$HEALTH_PORT/healthz"]

ENTRYPOINT ["/sbin/tini", "--"]
# No node flags: dist/cli.js sets V8's memory flags itself (src/v8HeapFlags.ts), so the image runs
# the bridge as `kasa2mqtt` and `npm start` do. Source maps are off (~5 MB): stack traces name
# dist/*.js, which tsc keeps line for line close to src/; `-e NODE_OPTIONS=--enable-source-maps`
# turns them on.
CMD ["node", "dist/cli.js"]
