# calf-cds: CDS Hooks 2.0 service image (non-root, serves on 0.0.0.0:8080, SQLite on /data).
#
# Base image pinned by digest. python:3.11-slim (Debian 12 "bookworm", then the same image
# as python:3.11-slim-bookworm), digest as pulled and printed by a docker-library
# maintainer in https://github.com/docker-library/python/issues/923 (2024-04-25):
#   "Digest: sha256:6d2502238109c929569ae99355e28890c438cb11bc88ef02cd189c173b3db07c".
# To take a newer patch release: `docker buildx imagetools inspect python:3.11-slim` and
# replace the digest (a test checks the pin's shape; no Docker engine runs in CI).
FROM python:3.11-slim@sha256:6d2502238109c929569ae99355e28890c438cb11bc88ef02cd189c173b3db07c

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CALF_CDS_HOST=0.0.0.0 \
    CALF_CDS_PORT=8080 \
    CALF_CDS_PROFILE=prod \
    CALF_CDS_DATABASE_URL=sqlite:////data/calf_cds.sqlite3

# 1. Dependencies exactly as locked: every file is checked against its hash, nothing is resolved.
COPY requirements.lock requirements-build.lock /src/
RUN pip install --require-hashes --no-deps -r /src/requirements.lock -r /src/requirements-build.lock

# 2. The service (cards/ ships inside it as cds_service.cards), built with the locked setuptools.
COPY pyproject.toml setup.py README.md /src/
COPY cds_service /src/cds_service
COPY cards /src/cards
RUN pip install --no-deps --no-build-isolation /src \
    && rm -rf /src \
    && useradd --system --uid 10001 --home-dir /app --create-home calfcds \
    && mkdir -p /data && chown calfcds /data

WORKDIR /app
USER calfcds
EXPOSE 8080
VOLUME ["/data"]
# Liveness: /healthz answers while the process is up (the orchestrator restarts it otherwise).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('CALF_CDS_PORT', '8080') + '/healthz', timeout=2)"]
# The prod profile refuses to start without CALF_CDS_AUTH_TRUSTED_ISSUERS and their keys
# (CALF_CDS_AUTH_ISSUER_JWKS or a jku allowlist): see the README, "Docker".
CMD ["calf-cds", "serve"]
