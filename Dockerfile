# syntax=docker/dockerfile:1
# sidekey: the sidecar daemon, its CLI and the Kubernetes injector, one image.
#   docker build -t sidekey .
#   docker run --read-only -v sidekey-data:/var/lib/sidekey -v sidekey-run:/run/sidekey sidekey
# The steps below are rehearsed without Docker by test/k8s/image.test.ts:
# keep the two in step.
# Pinned by digest (the multi-platform index of node:24-slim: Node 24.19.0 on Debian bookworm,
# built 2026-08-03, as published in docker-library/repo-info repos/node/remote/24-slim.md).
# A tag moves; a digest does not. Refreshing it is a reviewed change: docs/supply-chain.md.
ARG NODE_IMAGE=node:24-slim@sha256:cd84903a12dbd26b46f1f3b8144a2568c41c5d37ddd0c7a80a34c7a19786b35f

# 1. Build: every dependency, TypeScript → dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY k8s-sidecar ./k8s-sidecar
RUN npm run build

# 2. Production dependencies only, no install scripts.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. Runtime: node, the compiled code, production dependencies; nothing else.
FROM ${NODE_IMAGE} AS runtime
# npm, npx, corepack and yarn are not needed to run sidekey: fewer binaries, fewer CVEs.
# The two directories sidekey writes to belong to its user; everything else is read-only to it.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
 && mkdir -p /var/lib/sidekey /run/sidekey \
 && chown 10001:10001 /var/lib/sidekey /run/sidekey \
 && chmod 0750 /var/lib/sidekey /run/sidekey
ENV NODE_ENV=production \
    SIDEKEY_DATA_DIR=/var/lib/sidekey \
    SIDEKEY_GRPC_SOCKET=/run/sidekey/sidekey.sock
WORKDIR /app
COPY package.json package-lock.json ./
COPY bin ./bin
COPY proto ./proto
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Numeric, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
USER 10001:10001
VOLUME ["/var/lib/sidekey", "/run/sidekey"]
# A young generation of 2 × 2 MiB semi-spaces at most: V8 sizes it from the machine's memory otherwise
# (64 MiB semi-spaces on Node 24 on a large node: 128 MiB of RSS for garbage that dies young).
# 2 MiB keeps 3–9 MiB less RSS than 4 MiB at no measurable CPU cost at 1,000 single-value calls
# a second, but costs 4–9 % on 100-value batches at saturation: a batch-heavy pod may run the
# image with --max-semi-space-size=4 (ADR-19, "Memory, second pass").
# --heap-growing-percent=25: after each full GC the next one is due when the old generation has
# grown by 25 % (V8 picks up to 300 % when no heap limit is set); not a heap limit.
# --v8-pool-size=1: one V8 worker thread for background GC and compilation instead of four. A
# sidecar shares a pod's few cores; four workers woken at every scavenge delayed the main thread:
# hot-reveal p99 at 1,000 req/s −1.5 to −1.9 ms, CPU within noise, 2–3 MiB less RSS (ADR-19, "V8's worker pool").
# docs/architecture.md ADR-19 (and its "memory" part), docs/performance.md "Footprint per pod".
ENTRYPOINT ["node", "--max-semi-space-size=2", "--heap-growing-percent=25", "--v8-pool-size=1", "/app/bin/sidekey.js"]
CMD ["serve"]
