"""What every fuzz test asserts about an entry point, and the suite's budget.

For each generated input a command (its `main`, through helpers.cli.run_command,
as `python -m helpers.X` runs it) must either succeed, or exit 2 with exactly one
'error: ...' line; never a traceback (any other exception fails the test with
it), never a half-written output: on failure the watched paths are as before and
no temp file is left; and every call stays within `SECONDS` and `PEAK_BYTES`
(Python and numpy allocations, traced by tracemalloc).

Budget: a fixed, derandomized set of inputs by default (CI: the same inputs every
run, the whole suite in well under a minute); more, and fresh random ones, with

    SKELETON_ACTIONS_FUZZ_EXAMPLES=2000 python -m pytest -q tests/fuzz

(hypothesis prints how to reproduce any failure it finds).
"""
from __future__ import annotations

import contextlib
import io
import os
import time
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, settings

from helpers.cli import run_command

SECONDS = 60.0              # per call: far above a loaded CI machine's worst, far below an amplification's
PEAK_BYTES = 512 << 20      # per call: what a few-KB input may make the code allocate

_EXAMPLES = os.environ.get("SKELETON_ACTIONS_FUZZ_EXAMPLES")
_COMMON = dict(database=None, deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture])


def budget(ci_examples: int) -> settings:
    """@settings of one fuzz test: `ci_examples` fixed inputs by default, SKELETON_ACTIONS_FUZZ_EXAMPLES random ones."""
    if _EXAMPLES:
        return settings(max_examples=int(_EXAMPLES), derandomize=False, **_COMMON)
    return settings(max_examples=ci_examples, derandomize=True, **_COMMON)


def snapshot(*folders: Path) -> dict[str, int]:
    """Every file under `folders` with its size (what 'nothing was written' compares)."""
    found = {}
    for folder in folders:
        if Path(folder).exists():
            for path in Path(folder).rglob("*"):
                found[str(path)] = path.stat().st_size if path.is_file() else -1
    return found


def run_entry(main, argv: list, watch: list[Path]) -> tuple[int, str]:
    """Run a command on generated input and check the module docstring's promises; returns (exit code, stdout)."""
    before = snapshot(*watch)
    out, err = io.StringIO(), io.StringIO()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = run_command(main, [str(a) for a in argv])
            except SystemExit as done:  # argparse
                code = done.code
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    shown = [line.rsplit("\r", 1)[-1] for line in err.getvalue().split("\n")]
    problems = [line for line in shown if line.strip() and not line.startswith("warning:")]
    assert code in (0, 2), (code, err.getvalue())
    if code == 2:
        assert len(problems) == 1 and problems[0].startswith("error: "), err.getvalue()
        assert snapshot(*watch) == before, "a failed command changed its outputs"
    assert "Traceback" not in err.getvalue()
    assert not [p for p in snapshot(*watch) if p.endswith(".tmp") or ".tmp-" in p], "temp files left behind"
    assert seconds < SECONDS, f"{seconds:.1f} s"
    assert peak < PEAK_BYTES, f"{peak / 2**20:.0f} MiB allocated"
    return code, out.getvalue()
