#!/usr/bin/env bash
# Set up (or update) the virtual environment in .venv: CPU torch first, then the project and its test tools.
# Safe to run again: pip skips what is already installed, and the built llama.cpp wheel is cached.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# The CPU build of torch; a plain `torch` requirement would pull a multi-GB CUDA build.
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[dev]"
echo "setup done: .venv is ready"
