#!/usr/bin/env bash
# The whole test suite: C++ (GoogleTest via ctest) and Python (pytest, including the CLI tests).
# Expects scripts/setup.sh to have run (build/release and .venv exist).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/.venv/bin:$PATH"  # the installed `tsunagu` CLI and Python
ctest --test-dir build/release --output-on-failure -j "$(nproc)"
python -m pytest tests/python -q
