#!/usr/bin/env bash
# Create .venv (once) and install the pinned requirements and the helpers package into it.
# requirements-nodeps.txt (mediapipe) is installed without its declared dependencies: see that file.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.requirements.sha
wanted=$(cat requirements.txt requirements-nodeps.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # --no-compile: bytecode is written on first import, for the modules used (compiling every file
  # of every package at install time took half of the installation)
  .venv/bin/python -m pip install --quiet --no-compile -r requirements.txt
  .venv/bin/python -m pip install --quiet --no-compile --no-deps -r requirements-nodeps.txt
  .venv/bin/python -m pip install --quiet --no-deps -e .
  echo "$wanted" > "$stamp"
fi
