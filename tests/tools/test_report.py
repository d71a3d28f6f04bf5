import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.tools.report import (NOTEBOOKS, NotebookFailed, build_report, clean_notebook, main, network_references)
from helpers.notebook import SERIES_MODELS
from tests.tools.report_build import smoke_report


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
    for model in SERIES_MODELS:
        assert f"<td>{model}</td>" in table.group(0)
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
