# syntax=docker/dockerfile:1.7
#
# Image of one CRM Python service (a member of the uv workspace), e.g. crm-clients.
#
#   docker build -f deploy/docker/python-service.Dockerfile --build-arg SERVICE=clients \
#       -t ghcr.io/example/crm-clients:0.1.0 .
#
# The build context is the REPOSITORY ROOT (the whole workspace and its one uv.lock are needed);
# what is left out of it is listed in python-service.Dockerfile.dockerignore (BuildKit reads the
# ignore file named after the Dockerfile; .crm/ with the development private key is excluded).
#
# The image runs `crm-<SERVICE>` (entry point, through the /usr/local/bin/crm-service link) with
# `serve` as the default command; `docker run IMAGE migrate` / `sdl` run the other sub-commands.

ARG PYTHON_IMAGE=python:3.11-slim

# --------------------------------------------------------------------------- build: the venv
FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
ARG UV_VERSION=0.13.9
RUN test -n "${SERVICE}" || { echo "build arg SERVICE is required (e.g. --build-arg SERVICE=clients)" >&2; exit 1; }

RUN pip install --no-cache-dir "uv==${UV_VERSION}"
# The analytics service lays out PDFs with WeasyPrint (Pango, HarfBuzz) in DejaVu Sans, the font
# its report files and client briefs embed (docs/reports.md, "Files"); the others need no libraries.
RUN if [ "${SERVICE}" = "analytics" ]; then \
        apt-get update \
     && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
            libharfbuzz-subset0 fonts-dejavu-core \
     && rm -rf /var/lib/apt/lists/*; \
    fi

# The venv lives at /app/.venv in both stages (console scripts carry its absolute path); workspace
# members are installed as wheels (--no-editable), so the runtime stage needs no source tree.
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package crm-${SERVICE}

# Fail the build, not the rollout: the console script exists and the package imports.
RUN /app/.venv/bin/crm-${SERVICE} --help > /dev/null \
 && /app/.venv/bin/crm-${SERVICE} sdl > /dev/null

# --------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
# The analytics service lays out PDFs with WeasyPrint (Pango, HarfBuzz) in DejaVu Sans, the font
# its report files and client briefs embed (docs/reports.md, "Files"); the others need no libraries.
RUN if [ "${SERVICE}" = "analytics" ]; then \
        apt-get update \
     && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
            libharfbuzz-subset0 fonts-dejavu-core \
     && rm -rf /var/lib/apt/lists/*; \
    fi

RUN groupadd --system --gid 10001 crm \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin crm

COPY --from=build /app/.venv /app/.venv
# Exec-form ENTRYPOINT cannot expand a build arg: a fixed link names the service's console script.
RUN ln -s /app/.venv/bin/crm-${SERVICE} /usr/local/bin/crm-service

ENV PATH=/app/.venv/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CRM_ENV=production \
    SERVICE_HOST=0.0.0.0 \
    CRM_SERVICE=${SERVICE}

LABEL org.opencontainers.image.title="crm-${SERVICE}" \
      org.opencontainers.image.description="CRM ${SERVICE} service (GraphQL subgraph, outbox relay, event consumers)"

WORKDIR /app
USER 10001:10001
# SERVICE_PORT defaults per service (clients 8101, activities 8102, ...): docs/conventions.md.
ENTRYPOINT ["crm-service"]
CMD ["serve"]
