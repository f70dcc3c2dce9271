"""The stages as a Python user calls them: each result written to a folder and read back is the same result (tables,
figures, fits), the panel and frequentist stages run on a synthetic panel, and the settings refuse bad values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import coupproof as cp
from coupproof.stages.base import names

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))  # stand-in figure bytes: results carry figures as bytes


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from simulate import synthetic_panel_file

    root = tmp_path_factory.mktemp("stages")
    return root, synthetic_panel_file(root / "panel.nc")


def assert_tables_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal after a CSV round trip: missing values as NaN (None in object columns reads back as NaN)."""
    a, b = (t.reset_index(drop=True).astype(object).where(t.reset_index(drop=True).notna(), np.nan) for t in (a, b))
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_panel_result_round_trip(synthetic, tmp_path):
    _root, path = synthetic
    panel = cp.PanelResult.read(path)
    assert panel.check is None and "directed dyad-years" in panel.summary()
    written = panel.write(tmp_path / "copy.nc")
    again = cp.PanelResult.read(written)
    xr.testing.assert_identical(panel.panel, again.panel)


def test_frequentist_stage_round_trip_with_a_paper_figure(synthetic, tmp_path):
    root, path = synthetic
    specs = tmp_path / "specs.toml"
    specs.write_text('[m1f]\nbase = "m1"\nfigures = ["figure1_marginal_effects"]\n')
    settings = cp.FrequentistSettings(models=("m1", "m1f", "m3"), panel=path, specs=specs)
    result = cp.frequentist(settings, cp.stages.QUIET)
    assert [f.model for f in result.fits] == ["m1", "m1f", "m3"]
    assert list(result.curves) == ["figure1_marginal_effects"] and result.figures["figure1_marginal_effects"][:4] \
        == b"\x89PNG"
    assert set(result.curves["figure1_marginal_effects"]["moderator"]) == {"threat_a"}
    result.write(tmp_path / "freq")
    again = cp.FrequentistResult.read(tmp_path / "freq")
    assert [(f.model, f.part, f.params) for f in again.fits] == [(f.model, f.part, f.params) for f in result.fits]
    assert again.metadata["panel_checksum"] == result.metadata["panel_checksum"] != ""
    assert_tables_equal(again.comparison, result.comparison)
    assert_tables_equal(again.curves["figure1_marginal_effects"], result.curves["figure1_marginal_effects"])
    assert again.figures == result.figures


def test_fits_result_round_trip(tmp_path):
    from simulate import fake_record

    from models.specs import PAPER_MODELS

    tree = xr.DataTree.from_dict({"posterior": xr.Dataset(
        {"coef": (("chain", "draw", "coef_term"), np.arange(12.0).reshape(1, 4, 3))},
        coords={"coef_term": ["Intercept", "a", "b"]})})
    tree.attrs = fake_record(PAPER_MODELS["m1"], n_rows=40).to_attrs()
    result = cp.FitsResult({"m1": cp.Fit(tree)})
    assert result.paths(tmp_path) == {"m1": tmp_path / "m1_marginal.nc"}
    result.write(tmp_path)
    again = cp.FitsResult.read(tmp_path, {"m1": PAPER_MODELS["m1"], "m3": PAPER_MODELS["m3"]}, missing_ok=True)
    assert list(again.fits) == ["m1"] and again.failed == []
    xr.testing.assert_identical(again.fits["m1"].idata["posterior"].to_dataset(), tree["posterior"].to_dataset())
    assert again.fits["m1"].record == result.fits["m1"].record


def test_sensitivity_and_prior_comparison_results_round_trip(tmp_path):
    from coupproof.stages.sensitivity import PriorSetRefits

    scaling = pd.DataFrame({"model": ["m4", "m4"], "parameter": ["coef[a]", "dyad_sd"], "prior": [0.01, 0.2],
                            "likelihood": [0.1, 0.3], "diagnosis": ["\N{CHECK MARK}", "prior-data conflict"]})
    table = pd.DataFrame({"model": ["m4"], "prior_set": ["default"], "term": ["a:b"], "mean": [-1.5]})
    curves = pd.DataFrame({"model": ["m4"], "value": [0.1], "effect": [0.2], "prior_set": ["default"]})
    result = cp.SensitivityResult(scaling, {"m4": PriorSetRefits(table, curves, {"forest": PNG, "effects": PNG})})
    result.write(tmp_path)
    again = cp.SensitivityResult.read(tmp_path)
    assert_tables_equal(again.power_scaling, scaling)
    assert_tables_equal(again.prior_sets["m4"].table, table)
    assert_tables_equal(again.prior_sets["m4"].curves, curves)
    assert again.prior_sets["m4"].figures == {"forest": PNG, "effects": PNG}
    comparison = cp.PriorComparisonResult(pd.DataFrame({"model": ["m4"], "meets_criterion": [True]}), PNG)
    comparison.write(tmp_path)  # the same folder as the sensitivity results, as `make priors` writes
    read = cp.PriorComparisonResult.read(tmp_path)
    assert read.met == 1 and read.figure == PNG and (tmp_path / "prior_defaults.md").is_file()
    assert cp.PriorComparisonResult.read(tmp_path / "nothing") is None
    assert cp.SensitivityResult.read(tmp_path / "nothing").empty


def test_robustness_result_round_trip(tmp_path):
    from inference.frequentist import FitResult
    from reports.robustness import paper_layout

    fit = FitResult("m4", "logit", ["Intercept", "a:b"], [-8.0, -1.25], [[1.0, 0.0], [0.0, 0.25]], 1000, 100, 9,
                    -50.5, True, "logit")
    findings = pd.DataFrame({"variant": ["main"], "model": ["m4"], "term": ["a:b"], "freq_estimate": [-1.25],
                             "as_in_main_table": ["yes"]})
    estimates = pd.DataFrame({"variant": ["main"], "model": ["m4"], "estimate": [-1.25]})
    result = cp.RobustnessResult({"main": paper_layout([fit])}, estimates, findings, PNG, {"variants": []})
    result.write(tmp_path)
    again = cp.RobustnessResult.read(tmp_path)
    pd.testing.assert_frame_equal(again.tables["main"].astype(str), result.tables["main"].astype(str))
    assert again.tables["main"].loc["a:b", "m4"] == "-1.250 (0.500)*"
    assert_tables_equal(again.findings, findings)
    assert_tables_equal(again.estimates, estimates)
    assert again.forest == PNG and again.timing == {"variants": []}
    assert cp.RobustnessResult.read(tmp_path / "nothing") is None


def test_calibration_result_round_trip(tmp_path):
    from coupproof.stages.calibration import CaseResult

    pits = xr.Dataset({"coef[a]": ("simulation", [0.1, 0.5, 0.9]), "I(x ** 2 / 100)": ("simulation", [0.2, 0.4, 0.6])},
                      coords={"simulation": [0, 1, 2]})
    tests = pd.DataFrame({"quantity": ["coef[a]", "I(x ** 2 / 100)"], "p_holm": [0.5, 0.7], "passed": [True, True]})
    families = pd.DataFrame({"case": ["tiny"], "family": ["logit"], "verdict": ["calibrated"]})
    recovery = pd.DataFrame({"quantity": ["coef[a]"], "coverage_94": [0.9], "case": ["recover"]})
    power = pd.DataFrame({"case": ["tiny", "tiny"], "error": ["none (the case as it is)", "shifted"],
                          "simulations": [20, 20], "flagged": [False, True], "flag_rate": [0.06, 0.91]})
    result = cp.CalibrationResult(families, {"tiny": CaseResult(pits, tests, PNG)}, recovery, None, {},
                                  {"seconds": 1.5, "mle_model": "none"}, power)
    result.write(tmp_path)
    again = cp.CalibrationResult.read(tmp_path)
    assert_tables_equal(again.families, families)
    assert_tables_equal(again.cases["tiny"].tests, tests)
    xr.testing.assert_equal(again.cases["tiny"].pits[list(pits.data_vars)], pits)
    assert again.cases["tiny"].plot == PNG and again.mle is None and again.meta["seconds"] == 1.5
    assert_tables_equal(again.recovery, recovery)
    assert_tables_equal(again.power, power)


def test_report_result_round_trip(tmp_path):
    table = pd.DataFrame({"model": ["m1"], "mean": [0.25]})
    result = cp.ReportResult("<html>report</html>", {"m1_trace": PNG}, {"overview": table})
    page = result.write(tmp_path)
    assert page == tmp_path / "report.html"
    again = cp.ReportResult.read(tmp_path)
    assert again.html == result.html and again.figures == {"m1_trace": PNG}
    assert_tables_equal(again.tables["overview"], table)
    with pytest.raises(FileNotFoundError, match="no report there"):
        cp.ReportResult.read(tmp_path / "nothing")


def test_settings_refuse_bad_values():
    with pytest.raises(ValueError, match="retries must be a whole number from 0 to 3, got -1"):
        cp.FitSettings(retries=-1)
    with pytest.raises(ValueError, match="--loglik-every must be at least 1, got 0"):
        cp.FitSettings(loglik_every=0)
    with pytest.raises(ValueError, match="--design must be one of dyad, country_year, pact, got 'monthly'"):
        cp.PanelSettings(design="monthly")
    with pytest.raises(ValueError, match="--simulations must be at least 2, got 1"):
        cp.CalibrationSettings(simulations=1)
    with pytest.raises(ValueError, match="--ppc-draws must be at least 1, got 0"):
        cp.ReportSettings(ppc_draws=0)
    assert names("all", ["m1", "m2"]) == ("m1", "m2") and names(" m1, ,m4 ", []) == ("m1", "m4")
    with pytest.raises(ValueError, match="--model names no model"):
        names(" , ", ["m1"])


def test_one_retry_rule():
    from inference.refits import Refit, longer
    from inference.settings import SamplerSettings
    from models.priors import load_priors

    settings = SamplerSettings(draws=300, tune=100)
    assert settings.longer() == SamplerSettings(draws=600, tune=200)
    assert longer(Refit("default", load_priors(), settings)).settings == settings.longer()
