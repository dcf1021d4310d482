# syntax=docker/dockerfile:1.7
#
# Image of the CRM federation gateway (Hive Gateway on Node 20).
#
#   docker build -f deploy/docker/gateway.Dockerfile -t ghcr.io/example/crm-gateway:0.1.0 .
#
# The build context is the REPOSITORY ROOT; gateway.Dockerfile.dockerignore (read by BuildKit)
# keeps everything but gateway/ out of it. The composed gateway/supergraph.graphql is baked in:
# an image is one version of the supergraph, matching the service images of the same release.

ARG NODE_IMAGE=node:20-slim

# --------------------------------------------------------------------------- build: node_modules
FROM ${NODE_IMAGE} AS build
WORKDIR /app/gateway
COPY gateway/package.json gateway/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund

# --------------------------------------------------------------------------- runtime
FROM ${NODE_IMAGE} AS runtime

RUN groupadd --system --gid 10001 crm \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin crm

WORKDIR /app/gateway
COPY --from=build /app/gateway/node_modules ./node_modules
COPY gateway/package.json gateway/gateway.config.ts gateway/supergraph.graphql ./

# Do not set PORT or HOST here: the hive-gateway CLI reads them and they override the config's
# GATEWAY_PORT / GATEWAY_HOST (gateway/README.md). LOG_LEVEL, if set, must be lower case.
ENV NODE_ENV=production \
    CRM_ENV=production \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=4000

USER 10001:10001
EXPOSE 4000
ENTRYPOINT ["/app/gateway/node_modules/.bin/hive-gateway"]
CMD ["supergraph", "--config-path", "/app/gateway/gateway.config.ts"]
