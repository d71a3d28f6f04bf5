"""One smoke-mode run of the notebook series per test session, shared by every test that needs executed notebooks.

Building runs all five notebooks (CI set: one epoch of one seed) into a temporary
runs folder, a few minutes on two busy cores, so it happens once, on first use.
The same execution serves the report tests (test_report.py, test_report_browser.py)
and the check that cells marked NBVAL_CHECK_OUTPUT reproduce the committed
notebooks (the executed notebooks are saved beside the report), so the test run
executes the series once.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from helpers.notebook import CONFIG_ENV

_built: dict = {}


def smoke_report() -> Path:
    """index.html of a report built with CI set, SKELETON_ACTIONS_RUNS in a temp folder, default config."""
    if "index" not in _built and "error" not in _built:
        root = Path(tempfile.mkdtemp(prefix="skeleton-report-test-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        changes = {"CI": "true", "SKELETON_ACTIONS_RUNS": str(root / "runs"), CONFIG_ENV: None}
        saved = {key: os.environ.get(key) for key in changes}
        for key, value in changes.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        try:
            from helpers.tools.report import build_report

            # a smoke cell takes seconds: a stuck kernel fails the build in 5 minutes, not the default 30
            _built["index"] = build_report(progress=False, save_notebooks_to=root / "notebooks", timeout=300)
            _built["notebooks"] = root / "notebooks"
        except Exception as error:  # remembered, so a second test module does not rebuild for minutes
            _built["error"] = error
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    if "error" in _built:
        raise RuntimeError(f"building the smoke report failed: {_built['error']}") from _built["error"]
    return _built["index"]


def smoke_notebooks() -> Path:
    """The folder of the executed, cleaned notebooks of the smoke run (`smoke_report` runs it if needed)."""
    smoke_report()
    return _built["notebooks"]
