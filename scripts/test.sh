#!/usr/bin/env bash
# Set up a virtual environment with the test extras and run lint, types and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# one test process per core (the tests keep their files, databases and ports apart)
.venv/bin/python -m pytest -n auto
