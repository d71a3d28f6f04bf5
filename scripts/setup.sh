#!/usr/bin/env bash
# Create .venv (once) and install the pinned requirements and the helpers package into it.
# requirements-nodeps.txt (mediapipe) is installed without its declared dependencies: see that file.
# The installer is uv when it can be had (pip installs uv itself, pinned): it installs the same pinned
# files in about a third of pip's time.  uv does not read pip's configuration, so the index settings
# that pip would use (its environment variables, else its config files) are handed to it; this is how
# `torch==2.13.0` resolves to the same CPU wheel with either installer.  Without uv, pip does it all.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.requirements.sha
wanted=$(cat requirements.txt requirements-nodeps.txt pyproject.toml | sha256sum | cut -d' ' -f1)
[ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ] && exit 0

pip=(.venv/bin/python -m pip)
"${pip[@]}" install --quiet --upgrade pip

pip_setting() {  # pip's value of a setting: PIP_<NAME> if set, else its config files' global.<name>
  local variable="PIP_$(echo "$1" | tr 'a-z-' 'A-Z_')"
  if [ -n "${!variable:-}" ]; then echo "${!variable}"; else "${pip[@]}" config get "global.$1" 2>/dev/null || true; fi
}

install_all() {  # the three installs, with the installer command given as arguments
  "$@" -r requirements.txt && "$@" --no-deps -r requirements-nodeps.txt && "$@" --no-deps -e .
}

with_pip=("${pip[@]}" install --quiet)
if "${pip[@]}" install --quiet uv==0.13.8 >/dev/null 2>&1; then
  with_uv=(.venv/bin/uv pip install --python .venv/bin/python --quiet --compile-bytecode
           --index-strategy unsafe-best-match)   # like pip: the best match across every index
  index_url=$(pip_setting index-url)
  [ -n "$index_url" ] && with_uv+=(--index-url "$index_url")
  for option in extra-index-url find-links constraint; do
    for value in $(pip_setting "$option"); do with_uv+=("--$option" "$value"); done
  done
  install_all "${with_uv[@]}" || { echo "note: uv failed; installing with pip" >&2; install_all "${with_pip[@]}"; }
else
  echo "note: uv could not be installed; installing with pip" >&2
  install_all "${with_pip[@]}"
fi
echo "$wanted" > "$stamp"
