# The thalassa-secrets-operator container image. docs/container-image.md explains it.
#
# Elsewhere this is an ordinary Dockerfile on public bases:
#   docker build -t thalassa-secrets-operator .
# On this project's machines (no container registry) scripts/image/build-image.sh builds it on
# local bases made from Debian packages and the npm registry (scripts/image/build-base-images.sh).
#
# A runtime base must have Node at /nodejs/bin/node (the distroless layout) and no shell is needed.
ARG BUILD_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# --- build: compile src/ to dist/, then keep only the production dependencies --------------------
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
# Dependencies first, so that this layer is reused until the lock file changes.
# --ignore-scripts: the one install script package.json allows is the `node` devDependency's, which
# downloads a second Node binary (the build base already has Node 24); the others are denied anyway.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# `npm run build` is tsc -p tsconfig.build.json. Then drop the devDependencies (TypeScript, Vitest,
# the `node` binary package, ...), npm's cache, and what no production process reads in
# node_modules: type declarations, TypeScript sources (Node does not strip types under
# node_modules) and source maps, about half of @kubernetes/client-node. Last, check that it starts.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && rm -rf node_modules/.cache /root/.npm \
 && find node_modules -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' \) -delete \
 && find node_modules -type d -empty -delete \
 && test ! -e node_modules/node \
 && node dist/main.js --version

# --- runtime: Node 24 and the compiled operator, nothing else ---------------------------------------
FROM ${RUNTIME_IMAGE}
WORKDIR /app
# Owned by root and not writable by the operator's user; nothing is written at run time, so the
# root filesystem can be read-only. dist/version.js reads /app/package.json.
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
ENV NODE_ENV=production
# glibc's malloc, told to give memory back: at most two arenas (not eight per core for Node's
# threads), and buffers of 128 KiB and more (API list pages, watch chunks) mapped on their own, so
# that freeing them returns them. Measured at 10,000 resources: 34 MiB less RSS at rest, the same
# peak (docs/benchmarks.md, "Memory"). The benchmark runs the operator with these same variables.
ENV MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_TRIM_THRESHOLD_=131072
# 65532 is distroless' "nonroot"; numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
# Exec form, absolute path: no shell, and arguments given to the container go to the operator.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/main.js"]
CMD []
EXPOSE 8080 8081

# Last, so that a new revision or date only changes the image's metadata.
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=https://github.com/thalassa-cloud/thalassa-secrets-operator
LABEL org.opencontainers.image.title="thalassa-secrets-operator" \
      org.opencontainers.image.description="Kubernetes operator that syncs secrets from Thalassa Cloud Secrets Manager into native Secrets and keeps them current." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"
