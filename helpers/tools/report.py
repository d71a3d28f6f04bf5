"""Command: run the notebook series 01-06 and write an offline HTML report.

    python -m helpers.tools.report [--out DIR] [--no-execute] [--timeout S] [NOTEBOOK ...]

Each notebook runs top to bottom on a fresh kernel (nbclient), in order; a
failing cell stops the run and is named (notebook, cell number, first line).
The report folder (runs/report, or runs/report_smoke when CI is set) receives
one HTML page per notebook and index.html: a summary table of every model
(from the comparison notebook 05 saves) with links to the pages.  Pages use
nbconvert's `basic` template inside a minimal page with inline CSS, images are
embedded, and nothing is loaded from the network: the report opens offline by
double-click.  Settings are the series' own (helpers.notebook): SKELETON_ACTIONS_CONFIG
picks the config, CI makes it a quick smoke run.
"""
from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import re
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
from tqdm.auto import tqdm

from helpers.cli import run_command
from helpers.errors import UserInputError
from helpers.evaluation.comparison import BEST_MARK, load_comparison, percent_table, table_from_comparison
from helpers.io import atomic_write_text
from helpers.notebook import SeriesSettings, smoke_run
from helpers.paths import PROJECT_ROOT, runs_dir

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
NOTEBOOKS = (
    "01_data_splitting.ipynb",
    "02_skeleton_visualization.ipynb",
    "03_baseline_training.ipynb",
    "04_improved_training.ipynb",
    "05_comparative_evaluation.ipynb",
    "06_your_own_videos.ipynb",
)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


class NotebookFailed(RuntimeError):
    """A cell raised: names the notebook, the cell (1-based, all cells counted) and the error."""

    def __init__(self, notebook: str, cell_number: int, source: str, error: str):
        self.notebook, self.cell_number = notebook, cell_number
        first_line = next((line for line in source.splitlines() if line.strip()), "")
        super().__init__(f"notebook {notebook} failed in cell {cell_number} ({first_line.strip()!r}):\n{error}")


def report_dir(smoke: bool | None = None) -> Path:
    """runs/report, or runs/report_smoke for smoke runs (so they never replace a full report)."""
    smoke = smoke_run() if smoke is None else smoke
    return runs_dir() / ("report_smoke" if smoke else "report")


# ---- executing and cleaning notebooks -------------------------------------------

def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip what changes from run to run or needs a live kernel; returns `nb` (changed in place).

    Removes execution timestamps, widget state and widget views (progress bars,
    the frame player: without a kernel they show nothing), and the Python
    version; sets the standard python3 kernelspec.
    """
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    language = nb.metadata.get("language_info")
    if language:
        language.pop("version", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)
        if cell.cell_type == "code":
            cell.outputs = _merge_streams([output for output in cell.outputs
                                           if WIDGET_VIEW not in output.get("data", {})])
    return nb


def _merge_streams(outputs: list) -> list:
    """Join neighbouring stream outputs of the same name (split apart by removed progress bars)."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.output_type == "stream" and previous is not None and previous.output_type == "stream"
                and previous.name == output.name):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


# an absolute POSIX path of two or more parts, not inside a word, URL or relative path
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/(?:[\w.-]+/)+[\w.-]*")
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\\\s]+")   # base64 may be wrapped with '\\'+newline
CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"


def _output_texts(output) -> list[str]:
    """The text of one output: stream text, error text, every text/* or JSON item (images left out)."""
    if output.output_type == "stream":
        return [output.text]
    if output.output_type == "error":
        return [f"{output.ename}: {output.evalue}"]
    return [value if isinstance(value, str) else json.dumps(value) for key, value in output.get("data", {}).items()
            if not key.startswith("image/")]


def absolute_paths(nb: nbformat.NotebookNode) -> list[str]:
    """Absolute file paths printed in a notebook's outputs (they name the machine it ran on), as 'cell N: path'."""
    found = []
    for number, cell in enumerate(nb.cells, 1):
        for output in cell.get("outputs", []):
            for text in _output_texts(output):
                found += [f"cell {number}: {path}" for path in _ABSOLUTE_PATH.findall(_DATA_URI.sub("", text))]
    return found


def _comparable(outputs: list) -> list[tuple[str, str]]:
    """(kind, text) pairs of outputs as nbval --nbval-lax compares them: no images, metadata or counts."""
    pairs = []
    for output in _merge_streams([nbformat.from_dict(o) for o in outputs]):
        if output.output_type == "stream":
            pairs.append((f"stream:{output.name}", output.text))
        elif output.output_type == "error":
            pairs.append(("error", f"{output.ename}: {output.evalue}"))
        else:
            pairs += [(key, value if isinstance(value, str) else json.dumps(value, sort_keys=True))
                      for key, value in sorted(output.get("data", {}).items())
                      if not key.startswith("image/") and key != WIDGET_VIEW]
    return pairs


def checked_output_differences(expected: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> list[str]:
    """Cells marked `# NBVAL_CHECK_OUTPUT` whose outputs in `executed` differ from `expected` (the committed
    notebook), one message per cell; empty when all agree.  The same rule as `pytest --nbval-lax`, applied to
    a notebook that already ran, so one execution serves the report and this check."""
    messages = []
    code_cells = [(n, c) for n, c in enumerate(expected.cells, 1) if c.cell_type == "code"]
    executed_cells = [c for c in executed.cells if c.cell_type == "code"]
    if [c.source for _, c in code_cells] != [c.source for c in executed_cells]:
        return ["the executed notebook's code cells differ from the expected notebook's"]
    for (number, cell), ran in zip(code_cells, executed_cells):
        if CHECK_MARKER not in cell.source:
            continue
        want, got = _comparable(cell.outputs), _comparable(ran.outputs)
        if want != got:
            first_line = cell.source.replace(CHECK_MARKER, "").strip().splitlines()[0] if cell.source.strip() else ""
            messages.append(f"cell {number} ({first_line[:60]!r}): expected {want!r}, got {got!r}")
    return messages


def _kernel_env() -> dict:
    """The kernel's environment: ours, with the project importable even without `pip install -e .`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    env.pop("MPLBACKEND", None)  # let ipykernel choose its inline backend
    return env


def execute_notebook(path: str | Path, timeout: int = 1800, progress: bool = True) -> nbformat.NotebookNode:
    """Run a notebook top to bottom on a fresh kernel (working folder: the notebook's own).

    Raises NotebookFailed naming the failing cell; the partly executed notebook
    (with the traceback) is attached as `error.nb`.
    """
    # nbclient starts Jupyter machinery: imported only when notebooks are executed (not for --no-execute)
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    code_cells = sum(cell.cell_type == "code" for cell in nb.cells)
    # a live bar on a terminal; one line per cell in a log
    bar = tqdm(total=code_cells, desc=path.stem, unit="cell", leave=False,
               disable=not (progress and sys.stderr.isatty()))
    current = {"index": 0, "code": 0}

    def on_cell_start(cell, cell_index, **_):
        current["index"] = cell_index
        if cell.cell_type != "code":
            return
        current["code"] += 1
        first_line = next((line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")), "")
        bar.set_postfix_str(first_line[:40])
        if progress and bar.disable:
            print(f"  {path.stem}: cell {current['code']}/{code_cells}: {first_line[:60]}", flush=True)

    def on_cell_executed(**_):
        bar.update(1)

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            on_cell_start=on_cell_start, on_cell_executed=on_cell_executed,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute(cwd=str(path.parent), env=_kernel_env())
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        index = current["index"]
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()   # no terminal colours
        if isinstance(error, DeadKernelError):   # killed or crashed: no traceback to show
            message = f"the kernel died ({message}): killed from outside, out of memory, or a crash"
        failure = NotebookFailed(path.name, index + 1, nb.cells[index].source, message[-2000:])
        failure.nb = clean_notebook(nb)
        raise failure from None
    finally:
        bar.close()
    return clean_notebook(nb)


# ---- HTML -----------------------------------------------------------------------

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 0;
       color: #222; background: #fafafa; line-height: 1.45; }
header { background: #243447; color: #fff; padding: 0.6em 1.5em; }
header a { color: #cfe3ff; margin-right: 1.2em; text-decoration: none; }
header a.current { color: #fff; font-weight: bold; }
main { max-width: 1150px; margin: 0 auto; padding: 1em 1.5em 3em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #eef2f6; }
td:first-child, th:first-child { text-align: left; }
pre { white-space: pre-wrap; word-wrap: break-word; margin: 0; font-size: 0.85em; }
img { max-width: 100%; height: auto; }
.cell { margin: 0.9em 0; }
.input_area { background: #f3f5f7; border: 1px solid #dde2e7; border-radius: 4px; padding: 0.4em 0.6em;
              overflow-x: auto; }
.prompt { color: #6a7a8a; font-family: monospace; font-size: 0.8em; }
.input_prompt, .output_prompt { display: none; }
.output_area { padding: 0.3em 0.6em; overflow-x: auto; }
.output_stderr { background: #fff4f4; }
.output_error pre { color: #a00; }
.text_cell_render h1 { border-bottom: 2px solid #243447; padding-bottom: 0.2em; }
.text_cell_render code, td code { background: #eef1f4; padding: 0 0.2em; border-radius: 3px; }
.note { color: #555; font-size: 0.92em; }
.failed { color: #b00; font-weight: bold; }
.ok { color: #176b2c; }
tr.best td { font-weight: bold; background: #fff8dc; }
.animation button { font-size: 14px; line-height: 22px; }
.anchor-link { visibility: hidden; margin-left: 0.3em; text-decoration: none; color: #8aa; }
h1:hover .anchor-link, h2:hover .anchor-link, h3:hover .anchor-link { visibility: visible; }
"""


def _page(title: str, body: str, nav: str) -> str:
    from pygments.formatters import HtmlFormatter  # with nbconvert: only when pages are written

    css = _CSS + HtmlFormatter(style="default").get_style_defs(".highlight")
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n"
            f"<header>{nav}</header>\n<main>\n{body}\n</main>\n</body>\n</html>\n")


def _nav(pages: list[str], current: str | None) -> str:
    marker = ' class="current"' if current is None else ""
    links = [f"<a href=\"index.html\"{marker}>Report</a>"]
    for page in pages:
        label = Path(page).stem.replace("_", " ")
        marker = ' class="current"' if page == current else ""
        links.append(f"<a href=\"{page}\"{marker}>{html.escape(label)}</a>")
    return "".join(links)


def notebook_html(nb: nbformat.NotebookNode) -> str:
    """The notebook's cells as an HTML fragment (nbconvert `basic` template, images inline)."""
    from nbconvert import HTMLExporter  # about a second to import: only when pages are written

    exporter = HTMLExporter(template_name="basic", embed_images=True)
    body, _ = exporter.from_notebook_node(nb)
    return body


class _ResourceScanner(HTMLParser):
    """Collects every attribute or CSS url() that would load something from the network."""

    _LOADING = {"src", "srcset", "data", "poster", "background", "href", "action", "formaction"}
    _URL = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
    _CSS_URL = re.compile(r"(?:url\(\s*['\"]?|@import\s+['\"])\s*((?:https?:)?//[^'\")\s]+)", re.IGNORECASE)

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            # a plain hyperlink loads nothing; every other src/href does
            if name in self._LOADING and not (tag == "a" and name == "href") and self._URL.match(value):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name == "style":
                self.found += self._CSS_URL.findall(value)

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.found += self._CSS_URL.findall(data)


def network_references(page: str) -> list[str]:
    """Everything in an HTML page that would fetch a resource from the network (empty for an offline page)."""
    scanner = _ResourceScanner()
    scanner.feed(page)
    scanner.close()
    return scanner.found


def _write_page(path: Path, page: str) -> None:
    found = network_references(page)
    if found:
        raise RuntimeError(f"{path.name}: the page would load from the network: {', '.join(found[:5])}")
    atomic_write_text(path, page)
    path.chmod(0o644)  # a report is for reading: not the private mode of the temp file it was written to


def summary_html(comparison: dict | None) -> str:
    """The models table (id="summary") from the comparison notebook 05 saved: percent, clip counts, the best
    model marked (helpers.evaluation.comparison.percent_table), then which differences the data support."""
    if not comparison:
        return "<p class=\"note\">No model comparison yet: notebook 05 did not run or did not save one.</p>"
    table = percent_table(table_from_comparison(comparison)).reset_index()
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in table.columns)
    rows = []
    for _, row in table.iterrows():
        best = str(row["model"]).endswith(BEST_MARK)
        cells = "".join(f"<td>{html.escape(str(value))}</td>" for value in row)
        rows.append(f"<tr class=\"best\">{cells}</tr>" if best else f"<tr>{cells}</tr>")
    verdicts = "".join(f"<li>{html.escape(text)}</li>" for text in comparison.get("verdicts") or [])
    context = [f"<li>{BEST_MARK} best: highest mean macro-F1 on the largest test set; scores are mean ± standard "
               "deviation over the training seeds; &Delta; is the difference to the baseline in points</li>"]
    for key, label in (("dataset", "data"), ("fresh_test", "fresh test set"), ("config", "config"),
                       ("split", "split"), ("baseline", "differences to"), ("latency_note", "timing")):
        if comparison.get(key) is not None:
            context.append(f"<li>{label}: <code>{html.escape(str(comparison[key]))}</code></li>")
    return (f"<table id=\"summary\"><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>\n"
            + (f"<ul id=\"verdicts\">{verdicts}</ul>\n" if verdicts else "")
            + f"<ul class=\"note\">{''.join(context)}</ul>")


def index_html(runs: list[dict], comparison: dict | None, smoke: bool, pages: list[str]) -> str:
    items = []
    for run in runs:
        label = html.escape(Path(run["page"]).stem.replace("_", " "))
        if run.get("error"):
            status = f"<span class=\"failed\">failed in cell {run['cell']}</span>"
        elif run.get("seconds") is None:
            status = "<span class=\"note\">stored outputs (not executed)</span>"
        else:
            status = f"<span class=\"ok\">ran in {run['seconds']:.0f} s</span>"
        items.append(f"<li><a href=\"{run['page']}\">{label}</a> &mdash; {status}</li>")
    mode = ("SMOKE run (CI set): 1 epoch of one seed, numbers mean nothing" if smoke
            else "full run")
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    body = (f"<h1>Skeleton action recognition: report</h1>\n"
            f"<p class=\"note\">{html.escape(mode)}; built {stamp}.</p>\n"
            f"<h2>Models on the test split</h2>\n{summary_html(comparison)}\n"
            f"<h2>Notebooks</h2>\n<ol>{''.join(items)}</ol>\n")
    return _page("Skeleton action recognition: report", body, _nav(pages, None))


# ---- the whole run ----------------------------------------------------------------

def build_report(notebooks: list[str | Path] | None = None, out_dir: str | Path | None = None,
                 execute: bool = True, timeout: int = 1800, save_notebooks_to: str | Path | None = None,
                 progress: bool = True) -> Path:
    """Run `notebooks` (default: the series 01-06) in order and write the HTML report; returns index.html.

    With `save_notebooks_to`, the executed and cleaned notebooks are written there
    as well (e.g. back into notebooks/ to commit them with their outputs).
    A failing notebook stops the run: its page (with the traceback) and the
    index are still written, then NotebookFailed is raised.
    """
    smoke = smoke_run()
    paths = [Path(p) for p in notebooks] if notebooks else [NOTEBOOK_DIR / name for name in NOTEBOOKS]
    for path in paths:
        if not path.is_file():
            raise UserInputError(f"{path}: notebook not found")
    out_dir = Path(out_dir) if out_dir else report_dir(smoke)
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = [f"{path.stem}.html" for path in paths]
    runs: list[dict] = []
    failure: NotebookFailed | None = None
    if progress:
        what = ("exporting stored outputs" if not execute else "SMOKE run (CI set)" if smoke else "full run")
        print(f"Report: {len(paths)} notebooks, {what}, into {out_dir}", flush=True)
    for number, (path, page) in enumerate(zip(paths, pages), 1):
        start = time.perf_counter()
        run = {"page": page, "seconds": None}
        if execute:
            try:
                nb = execute_notebook(path, timeout, progress)
            except NotebookFailed as error:
                failure, nb = error, error.nb
                run.update(error=str(error), cell=error.cell_number)
            run["seconds"] = time.perf_counter() - start
        else:
            nb = clean_notebook(nbformat.read(path, as_version=4))
        if progress:
            state = "FAILED" if failure else (f"{run['seconds']:.0f} s" if execute else "exported")
            print(f"[{number}/{len(paths)}] {path.name}: {state}", flush=True)
        _write_page(out_dir / page, _page(path.stem, notebook_html(nb), _nav(pages, page)))
        if save_notebooks_to is not None and failure is None:
            Path(save_notebooks_to).mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, Path(save_notebooks_to) / path.name)
        runs.append(run)
        if failure:
            break
    for path, page in zip(paths[len(runs):], pages[len(runs):]):
        runs.append({"page": page, "seconds": None, "error": "not run", "cell": "-"})
    comparison_path = SeriesSettings.from_env(smoke).comparison_path
    comparison = None
    if comparison_path.is_file():
        comparison = load_comparison(comparison_path)
    index = out_dir / "index.html"
    _write_page(index, index_html(runs, comparison, smoke, pages))
    if failure:
        raise failure
    if progress:
        print(f"Report written: {index}", flush=True)
    return index


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.tools.report",
        description="Run the notebooks 01-06 in order on fresh kernels and write an offline HTML report "
                    "(runs/report/index.html; runs/report_smoke with CI set). SKELETON_ACTIONS_CONFIG picks "
                    "the config (default configs/synthetic.yaml).")
    parser.add_argument("notebooks", nargs="*", help="notebooks to run, in order (default: notebooks/01..06)")
    parser.add_argument("--out", help="report folder (default: runs/report, or runs/report_smoke when CI is set)")
    parser.add_argument("--no-execute", action="store_true",
                        help="export the notebooks' stored outputs without running them")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell (default 1800)")
    parser.add_argument("--save-notebooks", metavar="DIR",
                        help="also write the executed, cleaned notebooks into DIR (e.g. notebooks)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    start = time.perf_counter()
    try:
        build_report(args.notebooks or None, args.out, not args.no_execute, args.timeout, args.save_notebooks)
    except NotebookFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
