#!/usr/bin/env python
"""Make the series notebooks commit-ready.

    python scripts/clean_notebooks.py             # clean notebooks/*.ipynb in place
    python scripts/clean_notebooks.py --execute   # run 01-06 (full default run), store their outputs, clean them

Cleaning removes what changes from run to run or needs a live kernel: execution
timestamps, widget state and widget views, the Python version, odd kernelspecs
(see helpers.tools.report.clean_notebook).  --execute runs the notebooks through
`helpers.tools.report` (fresh kernel each, in order) and so also writes the HTML report;
unset CI for the full run that notebooks are committed with.  Either way the
notebooks are then checked for absolute paths in their outputs (they would name
the machine they ran on): any found are listed and the exit status is 1.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from helpers.notebook import smoke_run  # noqa: E402
from helpers.tools.report import (NOTEBOOK_DIR, NOTEBOOKS, NotebookFailed, absolute_paths, build_report,  # noqa: E402
                                  clean_notebook)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: notebooks/01..06)")
    parser.add_argument("--execute", action="store_true",
                        help="run the notebooks first (fresh kernel each, in order) and store their outputs")
    args = parser.parse_args(argv)
    paths = args.notebooks or [NOTEBOOK_DIR / name for name in NOTEBOOKS]
    if args.execute:
        if smoke_run():
            print("note: CI is set, so this is a smoke run; unset CI for the outputs to commit", file=sys.stderr)
        folders = {path.resolve().parent for path in paths}
        if len(folders) != 1:
            parser.error("--execute takes notebooks from one folder")
        try:
            build_report(paths, save_notebooks_to=folders.pop())
        except NotebookFailed as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    else:
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            nbformat.write(clean_notebook(nb), path)
            print(f"cleaned {path}")
    found = [f"{path.name} {where}" for path in paths for where in absolute_paths(nbformat.read(path, as_version=4))]
    for line in found:
        print(f"absolute path in an output: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
