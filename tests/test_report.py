"""The Bayesian report from small saved fits: every section present, every figure a valid PNG, tables written,
problems shown as banners, and bad input refused."""

from __future__ import annotations

import matplotlib.image
import pytest
from typer.testing import CliRunner

from coupproof.cli import app

runner = CliRunner()
SECTIONS = ("Overview: the interactions", "Population parameters", "Sign of the interaction", "Marginal effect of counterbalancing",
            "Sampling diagnostics", "Posterior predictive checks", "Model comparison by leave-one-dyad-out")


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A synthetic panel in the real schema, Models 1 and 3 fitted briefly, and their frequentist results."""
    from simulate import synthetic_fits

    root = tmp_path_factory.mktemp("report")
    panel, fits = synthetic_fits(root, "m1,m3")
    result = _run("freq", "--models", "m1,m3", "--panel", panel, "--out", root / "freq")
    assert result.exit_code == 0, result.output
    return root, panel, fits


def test_report_has_every_section_and_valid_figures(fitted):
    root, panel, fits = fitted
    out = root / "report"
    result = _run("report", "--model", "m1,m3", "--fits", fits, "--panel", panel, "--freq",
                  root / "freq" / "fits.json", "--out", out, "--ppc-draws", "20", "--sensitivity", root / "none")
    assert result.exit_code == 0, result.output
    text = (out / "report.html").read_text()
    assert "No prior-sensitivity results yet" in text
    for section in SECTIONS:
        assert section in text, section
    assert "FIT FAILED ITS DIAGNOSTICS" in text  # 60 draws cannot reach ESS 400: the banner must show
    assert "m1, m3 (new_defense_pact, sample sample_no_controls)" in text
    figures = sorted((out / "figures").glob("*.png"))
    expected = {f"{m}_{kind}.png" for m in ("m1", "m3") for kind in
                ("marginal_effects", "predicted", "trace", "rank", "energy", "ppc_counts", "calibration")}
    assert expected <= {f.name for f in figures}
    for path in figures:
        image = matplotlib.image.imread(path)
        assert image.ndim == 3 and min(image.shape[:2]) > 100, path
    assert text.count("data:image/png;base64,") == len(figures)  # every figure embedded
    assert (out / "figures" / "compare_m1_m3.png").exists()
    tables = {p.name for p in (out / "tables").glob("*.csv")}
    assert {"m1_population.csv", "m1_marginal_effects.csv", "m3_ppc_decade.csv", "loo.csv", "overview.csv"} <= tables
    import pandas as pd

    overview = pd.read_csv(out / "tables" / "overview.csv")
    assert list(overview["model"]) == ["m1", "m3"] and overview["freq"].notna().all()


def test_missing_and_foreign_fits_are_shown_and_a_damaged_one_refused(fitted, tmp_path):
    root, panel, fits = fitted
    folder = tmp_path / "fits"
    folder.mkdir()
    (folder / "m1_marginal.nc").write_bytes((fits / "m1_marginal.nc").read_bytes())
    (folder / "m3_marginal.nc").write_bytes(b"not a netCDF file")
    other = tmp_path / "other_panel.nc"
    from simulate import synthetic_panel_file

    synthetic_panel_file(other, seed=5)  # different contents, different checksum
    result = _run("report", "--model", "m1,m3", "--fits", folder, "--panel", other, "--out", tmp_path / "report")
    assert result.exit_code == 2 and "m3_marginal.nc: not a readable fit file" in " ".join(result.output.split())
    assert not (tmp_path / "report").exists()
    result = _run("report", "--model", "m1,h1", "--fits", folder, "--panel", other, "--freq",
                  tmp_path / "absent.json", "--out", tmp_path / "report", "--ppc-draws", "10")
    assert result.exit_code == 0, result.output
    text = " ".join((tmp_path / "report" / "report.html").read_text().split())
    assert "h1: " in text and "fit file not found" in text
    assert "the fit was made from a different panel" in text
    assert "frequentist results not found" in text


def test_report_bad_input(tmp_path, fitted):
    _root, panel, _fits = fitted
    (tmp_path / "fits").mkdir()
    result = _run("report", "--fits", tmp_path / "fits", "--panel", panel, "--out", tmp_path / "r")
    assert result.exit_code == 2 and "no readable fit" in result.output
    result = _run("report", "--model", "m9", "--panel", panel)
    assert result.exit_code == 2 and "unknown model(s) m9" in result.output
    assert not (tmp_path / "r").exists()
