"""notebooks/inspect_traces.ipynb runs top to bottom on a small fit (executed with nbclient, as nbmake would)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "inspect_traces.ipynb"


@pytest.mark.slow  # 10 s (a kernel, a fit); make test-slow
def test_inspect_traces_notebook_runs(tmp_path, monkeypatch):
    """Run as a user would, with MPLBACKEND=Agg set (as on a server or in CI): the figures still show inline."""
    from simulate import synthetic_fits

    panel, fits = synthetic_fits(tmp_path)
    monkeypatch.setenv("COUPPROOF_FIT", str(fits / "m1_marginal.nc"))
    monkeypatch.setenv("COUPPROOF_PANEL", str(panel))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("Table 1 Model 1 (m1)" in o.get("text", "") for o in outputs)
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 4  # trace, rank, pair, slopes
    assert any("ccode_a" in o.get("data", {}).get("text/plain", "") for o in outputs)  # labelled group effects


def test_the_notebook_finds_the_build_from_any_folder(tmp_path, monkeypatch):
    """Its default paths are the project's build/, whether it runs in notebooks/ or the project root."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    root = NOTEBOOK.parents[1]
    monkeypatch.delenv("COUPPROOF_FIT", raising=False)
    monkeypatch.delenv("COUPPROOF_PANEL", raising=False)
    for folder in (root, root / "notebooks", root / "docs"):
        monkeypatch.chdir(folder)
        names: dict = {}
        exec(first.source, names)  # noqa: S102 - the notebook's own first cell
        assert names["FIT"] == root / "build" / "fits" / "m4_marginal.nc"
        assert names["PANEL"] == root / "build" / "panel.nc"
