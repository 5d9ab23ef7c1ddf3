#!/usr/bin/env bash
# Set up a virtual environment and open the app on the sample batch.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
exec .venv/bin/streamlit run app.py "$@"
