#!/usr/bin/env bash
# The whole test suite: set up, then run pytest (real-data tests read ../shared/data or
# $SKELETON_ACTIONS_SHARED_DATA).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest -q tests "$@"
