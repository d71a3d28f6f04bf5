#!/usr/bin/env bash
# The main job: set up, then run the notebook series 01-06 (data, visualisation, the models
# trained, comparison on the test split, your own videos) and write the offline HTML report
# runs/report/index.html.
# CI is unset so that this is the full default run even on a CI machine (CI means smoke run).
# SKELETON_ACTIONS_CONFIG switches the data (e.g. configs/ucf101_5cls.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
env -u CI .venv/bin/python -m helpers.tools.report
