#!/usr/bin/env bash
# The whole test suite: set up, run pytest on tests/, then run the notebooks under the smoke
# switch (CI=true: 1 epoch) with nbval; --nbval-lax compares only cells marked NBVAL_CHECK_OUTPUT.
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
.venv/bin/python -m pytest -q tests "$@"
CI=true .venv/bin/python -m pytest -q --nbval-lax --nbval-current-env notebooks
