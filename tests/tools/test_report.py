import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.evaluation.comparison import BEST_MARK
from helpers.notebook import SERIES_MODELS
from helpers.tools.report import (CHECK_MARKER, NOTEBOOK_DIR, NOTEBOOKS, NotebookFailed, absolute_paths, build_report,
                                  checked_output_differences, clean_notebook, main, network_references)
from tests.tools.report_build import smoke_notebooks, smoke_report


@pytest.fixture(scope="module")
def report_index():
    return smoke_report()


def test_smoke_report_has_index_and_a_page_per_notebook(report_index):
    folder = report_index.parent
    assert folder.name == "report_smoke"          # CI runs never replace runs/report
    index = report_index.read_text()
    for name in NOTEBOOKS:
        page = folder / name.replace(".ipynb", ".html")
        assert page.is_file(), page
        assert f'href="{page.name}"' in index
    assert "failed in cell" not in index
    table = re.search(r'<table id="summary">.*?</table>', index, re.S)
    assert table, "index.html has no summary table"
    names = re.findall(r"<tr(?: class=\"best\")?><td>([^<]+)</td>", table.group(0))
    assert [name.replace(f" {BEST_MARK}", "") for name in names] == list(SERIES_MODELS)
    assert sum(name.endswith(BEST_MARK) for name in names) == 1 and table.group(0).count('class="best"') == 1
    assert "test accuracy % (117 clips)" in table.group(0) and "fresh test accuracy % (" in table.group(0)
    assert re.search(r'<ul id="verdicts"><li>test split: improved - baseline = [+-]\d+\.\d points', index)
    assert "SMOKE run" in index


def test_report_pages_load_nothing_from_the_network(report_index):
    for page in sorted(report_index.parent.glob("*.html")):
        text = page.read_text()
        assert network_references(text) == [], page.name
        assert not re.search(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""",
                             text, re.I), page.name
        assert "require.js" not in text and "mathjax" not in text.lower(), page.name


def test_report_pages_embed_figures_and_the_animation(report_index):
    folder = report_index.parent
    for name in NOTEBOOKS:
        text = (folder / name.replace(".ipynb", ".html")).read_text()
        assert 'src="data:image/png;base64,' in text, name
    animation = (folder / "02_skeleton_visualization.html").read_text()
    assert 'id="_anim_slider' in animation and "fa fa-" not in animation


def test_network_references_flags_resources_not_hyperlinks():
    page = """<html><head><link rel="stylesheet" href="https://cdn.example/x.css">
    <script src="//cdn.example/require.js"></script><style>body { background: url('https://x/y.png') }</style>
    </head><body><a href="https://example.org">a link</a><img src="data:image/png;base64,AAAA">
    <img src="figure.png"><div style="background-image: url(http://x/z.png)"></div></body></html>"""
    found = network_references(page)
    assert len(found) == 4
    assert not any("example.org" in item for item in found)


def test_clean_notebook_drops_volatile_metadata_and_widget_views():
    widget = new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                                              "text/plain": "HBox()"})
    text = new_output("stream", name="stdout", text="kept\n")
    cell = new_code_cell("print('kept')", outputs=[widget, text], execution_count=1)
    cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    nb = new_notebook(cells=[cell], metadata={"widgets": {"state": {}},
                                              "language_info": {"name": "python", "version": "3.11.7"},
                                              "kernelspec": {"name": "venv-odd", "display_name": "odd"}})
    clean_notebook(nb)
    assert "widgets" not in nb.metadata and "version" not in nb.metadata.language_info
    assert nb.metadata.kernelspec["name"] == "python3"
    assert "execution" not in nb.cells[0].metadata
    assert [output.output_type for output in nb.cells[0].outputs] == ["stream"]


def test_a_failing_notebook_stops_the_run_naming_notebook_and_cell(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("SKELETON_ACTIONS_RUNS", str(tmp_path / "runs"))
    broken = tmp_path / "07_broken.ipynb"
    never = tmp_path / "08_never_run.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# broken"), new_code_cell("x = 1"),
                                       new_code_cell("raise ValueError('boom in the third cell')")]), broken)
    nbformat.write(new_notebook(cells=[new_code_cell("print('should not run')")]), never)
    with pytest.raises(NotebookFailed) as failure:
        build_report([broken, never], out_dir=tmp_path / "report", progress=False)
    message = str(failure.value)
    assert failure.value.notebook == "07_broken.ipynb" and failure.value.cell_number == 3
    assert "07_broken.ipynb" in message and "cell 3" in message and "boom in the third cell" in message
    # the failed page (with its traceback) and the index are still written; the later notebook never ran
    assert "boom in the third cell" in (tmp_path / "report" / "07_broken.html").read_text()
    index = (tmp_path / "report" / "index.html").read_text()
    assert "failed in cell 3" in index and not (tmp_path / "report" / "08_never_run.html").exists()
    # the command says the same on stderr and exits non-zero
    assert main([str(broken), "--out", str(tmp_path / "report2")]) == 1
    assert "07_broken.ipynb failed in cell 3" in capsys.readouterr().err


def test_checked_cells_reproduce_the_committed_notebooks():
    """The cells marked NBVAL_CHECK_OUTPUT give the committed outputs again (the smoke run's execution)."""
    executed = smoke_notebooks()
    checked = 0
    for name in NOTEBOOKS:
        committed = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
        checked += sum(CHECK_MARKER in cell.source for cell in committed.cells)
        assert checked_output_differences(committed, nbformat.read(executed / name, as_version=4)) == [], name
    assert checked >= 10                                          # the marked cells of 01-04


def test_checked_output_comparison_finds_a_changed_output():
    checked = new_code_cell(f"{CHECK_MARKER}\nprint(1)", outputs=[new_output("stream", name="stdout", text="1\n")])
    free = new_code_cell("print(2)", outputs=[new_output("stream", name="stdout", text="2\n")])
    expected = new_notebook(cells=[new_markdown_cell("# t"), checked, free])
    same = nbformat.from_dict(expected)
    same.cells[2].outputs = []                                   # unchecked cells may differ
    same.cells[1].outputs = [new_output("stream", name="stdout", text="1"), new_output("stream", name="stdout",
                                                                                      text="\n")]
    assert checked_output_differences(expected, same) == []      # split streams join as nbval joins them
    changed = nbformat.from_dict(expected)
    changed.cells[1].outputs = [new_output("stream", name="stdout", text="one\n")]
    assert checked_output_differences(expected, changed) == [
        "cell 2 ('print(1)'): expected [('stream:stdout', '1\\n')], got [('stream:stdout', 'one\\n')]"]
    edited = nbformat.from_dict(expected)
    edited.cells[2].source = "print(3)"
    assert "code cells differ" in checked_output_differences(expected, edited)[0]


def test_committed_notebooks_carry_no_absolute_paths():
    for name in NOTEBOOKS:
        assert absolute_paths(nbformat.read(NOTEBOOK_DIR / name, as_version=4)) == [], name


def test_absolute_paths_are_found_in_text_not_in_images_or_relative_paths():
    outputs = [new_output("stream", name="stdout", text="saved to runs/series/baseline/best.pt\n"
                                                        "log /home/me/project/runs/x/train.log\n"),
               new_output("display_data", data={"text/html": '<img src="data:image/png;base64,ab/cd/ef+/gh">',
                                                "text/plain": "a/b/c and 1/5/15 min", "image/png": "/x/y/z"})]
    nb = new_notebook(cells=[new_code_cell("x", outputs=outputs)])
    assert absolute_paths(nb) == ["cell 1: /home/me/project/runs/x/train.log"]


def test_a_dying_kernel_is_a_named_failure_too(tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("SKELETON_ACTIONS_RUNS", str(tmp_path / "runs"))
    dying = tmp_path / "09_dying.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("import os; os._exit(3)")]), dying)
    with pytest.raises(NotebookFailed, match="(?s)09_dying.ipynb failed in cell 2 .*the kernel died") as failure:
        build_report([dying], out_dir=tmp_path / "report", progress=False)
    assert failure.value.cell_number == 2
    assert "failed in cell 2" in (tmp_path / "report" / "index.html").read_text()
