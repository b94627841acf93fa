# First version: one image with the app, its CPU-only dependencies and the knowledge base ingested at build time.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    MOCKINTERVIEW_DATA_DIR=/data \
    MOCKINTERVIEW_KNOWLEDGE_DIR=/srv/mockinterview/knowledge

RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/mockinterview
COPY pyproject.toml README.md ./
COPY app ./app
COPY knowledge ./knowledge
COPY prompts ./prompts
RUN pip install "torch==2.13.0" && pip install .

RUN useradd --create-home --uid 1000 interviewer && mkdir -p /data && chown interviewer /data
USER interviewer
RUN mockinterview ingest

CMD ["mockinterview", "search", "how to detect drift"]
