#!/usr/bin/env bash
# The whole test suite: set up, then run pytest on tests/.  The notebooks run once, inside it
# (tests/tools/report_build.py, under the smoke switch CI=true: one epoch of one seed): that one
# execution serves the report tests and the check that cells marked NBVAL_CHECK_OUTPUT give the
# committed outputs again (the rule of `pytest --nbval-lax`, applied to the executed notebooks).
# Real-data tests read ../shared/data or $SKELETON_ACTIONS_SHARED_DATA; the report's browser test
# needs headless Chromium, installed here when missing and possible (root or passwordless sudo + apt).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; fi
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; }; then
    echo "Installing chromium (Debian package) for the report's browser test..."
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends chromium; } >/dev/null 2>&1 \
      || echo "warning: could not install chromium; the browser test skips (fails with CI set)" >&2
  else
    echo "note: chromium not found and cannot be installed here; the browser test skips (fails with CI set)" >&2
  fi
fi
# on every core (pytest-xdist); tests that share one expensive build run in one worker (tests/conftest.py).
# nbval's plugin is not needed here (the notebooks are checked by tests/tools) and takes a second to load
# in each process.
.venv/bin/python -m pytest -q -n auto -p no:nbval tests "$@"
