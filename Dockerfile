# calf-cds: CDS Hooks 2.0 service image (non-root, serves on 0.0.0.0:8080).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CALF_CDS_HOST=0.0.0.0 \
    CALF_CDS_PORT=8080 \
    CALF_CDS_PROFILE=prod \
    CALF_CDS_CARDS_DIR=/app/cards \
    CALF_CDS_DATABASE_URL=sqlite:////data/calf_cds.sqlite3

WORKDIR /app
COPY pyproject.toml README.md ./
COPY cds_service ./cds_service
COPY cards ./cards
RUN pip install --no-cache-dir '.[postgres,redis]' \
    && useradd --system --uid 10001 --home-dir /app calfcds \
    && mkdir -p /data && chown calfcds /data

USER calfcds
EXPOSE 8080
VOLUME ["/data"]
CMD ["calf-cds", "serve"]
