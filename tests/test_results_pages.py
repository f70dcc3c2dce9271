"""The results pages (`coupproof results`, docs/results/): generated from a small hand-made build folder, written by
the stages' own result classes, they carry that build's numbers as the pages format them, say which outputs are not
built and with which make target, and read back as written."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import coupproof as cp
from coupproof.stages import QUIET
from coupproof.stages.results import INDEX, PAGES, ResultsPages, ResultsSettings, number, results_pages

CHECKSUM = "feedc0ffee0123456789abcdef"


def frequentist(model: str, part: str = "logit") -> cp.FrequentistResult:
    from inference.frequentist import FitResult

    fit = FitResult(model, part, ["Intercept", "a:b"], [-8.25, -5.7512], [[1.0, 0.0], [0.0, 1.7512 ** 2]], 434833, 14180,
                    98, -721.37, True, "logit")
    comparison = pd.DataFrame({
        "model": [model] * 3, "part": [part] * 3, "term": ["Intercept", "a:b", "N"], "ours": [-8.25, -5.7512, 434833.0],
        "our_se": [1.0, 1.7512, np.nan], "paper": [-7.9, -7.67, 420551.0], "paper_se": [0.6, 1.9, np.nan],
        "diff_in_paper_se": [-0.583, 1.0112, np.nan], "sign_agrees": [True, True, None],
        "within_2_paper_se": [True, True, None]})
    return cp.FrequentistResult([fit], {"panel_checksum": CHECKSUM}, comparison, {}, {})


def saved_fit(path, wall_seconds: float, passed: bool = True) -> None:
    from simulate import fake_record

    from inference.settings import SamplerSettings
    from models.specs import PAPER_MODELS

    tree = xr.DataTree.from_dict({"posterior": xr.Dataset(
        {"coef": (("chain", "draw", "coef_term"), np.zeros((1, 4, 2)))}, coords={"coef_term": ["Intercept", "a"]})})
    tree.attrs = fake_record(PAPER_MODELS["m4"], sampler=SamplerSettings(draws=1234, tune=321),
                             wall_seconds=wall_seconds, n_rows=434833, n_groups=14180, n_events=98,
                             diagnostics_passed=passed,
                             diagnostics_problems=() if passed else ("R-hat 1.02 > 1.01",)).to_attrs()
    cp.Fit(tree).save(path)


def squeeze(text: str) -> str:
    """A page with runs of spaces made one (Markdown tables pad their cells)."""
    return re.sub(r" +", " ", text)


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """A build folder with the paper study's outputs (no panel, no bench), one further study's frequentist results
    and nothing of the other."""
    from coupproof.stages.sensitivity import PriorSetRefits

    root = tmp_path_factory.mktemp("results") / "build"
    frequentist("m4").write(root / "freq")
    saved_fit(root / "fits" / "m4_marginal.nc", wall_seconds=152.23)
    old = xr.DataTree.from_dict({"posterior": xr.Dataset({"x": ("draw", np.zeros(3))})})
    old.attrs = {"model": "m1"}  # a fit of an older format: no format version
    old.to_netcdf(root / "fits" / "m1_marginal.nc", engine="h5netcdf")
    overview = pd.DataFrame({"model": ["m4"], "interaction": ["a:b"], "label": ["counterbalancing x threat to B"],
                             "mean": [-5.3612], "sd": [1.9234], "hdi_lower": [-9.0567], "hdi_upper": [-1.9012],
                             "pr_negative": [0.9971], "freq": [-5.7512], "freq_se": [1.7512], "paper": [-7.67],
                             "paper_se": [1.9]})
    loo = pd.DataFrame({"model": ["m4"], "grouping": ["dyad"], "elpd_loo": [-721.234], "se": [91.04], "p_loo": [9.87],
                        "groups": [14180], "k_above_threshold": [0], "k_threshold": [0.67], "k_max": [0.5123]})
    cp.ReportResult("<html></html>", {}, {"overview": overview, "loo": loo}).write(root / "report")
    scaling = pd.DataFrame({"model": ["m4", "m4"], "parameter": ["coef[a:b]", "coef[military_regime_a]"],
                            "prior": [0.01, 0.0789], "likelihood": [0.09, 0.11],
                            "diagnosis": ["\N{CHECK MARK}", "potential prior-data conflict"]})
    sets = pd.DataFrame({"model": ["m4", "m4"], "prior_set": ["default", "slopes_tight"], "term": ["a:b", "a:b"],
                         "mean": [-5.36, -2.3412], "sd": [1.92, 1.3601], "hdi_lower": [-9.06, -4.8712],
                         "hdi_upper": [-1.9, 0.1534], "pr_negative": [0.997, 0.957], "dyad_sd": [0.4, 0.3912],
                         "diagnostics_passed": [True, True]})
    curves = pd.DataFrame({"model": ["m4"], "value": [0.1], "effect": [0.2], "prior_set": ["default"]})
    cp.SensitivityResult(scaling, {"m4": PriorSetRefits(sets, curves)}).write(root / "sensitivity")
    defaults = pd.DataFrame({"model": ["m4"], "part": ["logit"], "term": ["a:b"], "freq_estimate": [-5.75],
                             "freq_se": [1.75], "mean_default": [-5.3612], "mean_regularising": [-4.2312],
                             "mean_wide": [-5.6123], "sd_default": [1.92], "shift_default_se": [0.1434],
                             "shift_regularising_se": [0.7911], "within_tolerance": [True],
                             "flagged_under_default": ["none"], "meets_criterion": [True],
                             "diagnostics_passed": [True]})
    cp.PriorComparisonResult(defaults).write(root / "sensitivity")
    findings = pd.DataFrame({"variant": ["raw_count"], "model": ["m4"], "term": ["a:b"], "freq_estimate": [-1.6612],
                             "freq_se": [0.4612], "freq_p": [0.00031], "freq_converged": [True],
                             "bayes_mean": [-1.3812], "bayes_sd": [0.51], "bayes_lower": [-2.3112],
                             "bayes_upper": [-0.3412], "bayes_diagnostics_passed": [False],
                             "main_table": ["negative, significant"], "as_in_main_table": ["yes; Bayes: yes"]})
    cp.RobustnessResult({}, pd.DataFrame({"variant": ["raw_count"]}), findings, None,
                        {"variants": ["raw_count"], "frequentist_seconds": 81.6, "bayesian_fits": 2,
                         "bayesian_from_cache": 1, "bayesian_fit_seconds": 5980.3,
                         "bayesian_seconds": 5072.4, "cpus": 2, "scheduler": "LocalCluster"}).write(root / "robustness")
    families = pd.DataFrame({"case": ["logit_dyad"], "family": ["logit, dyad intercept integrated out"],
                             "simulations": [100], "parameters passing": ["13 of 13"],
                             "worst parameter": ["coef[shared_defense_pact]"], "worst p (Holm)": [0.4412],
                             "events (median)": [412.0], "fits with divergences": [0], "verdict": ["calibrated"]})
    recovery = pd.DataFrame({"quantity": ["dyad_sd"], "simulations": [10], "truth": [0.3981], "posterior_mean": [0.4142],
                             "coverage_50": [0.9], "coverage_94": [1.0], "mean_z": [0.01712], "case": ["recovery_m4"]})
    mle = pd.DataFrame({"parameter": ["a:b", "log-likelihood (own rule)"], "kernel": [-5.742912, -710.135912],
                        "kernel_se": [1.92012, np.nan], "reference": [-5.742911, -710.135987],
                        "difference_in_se": [2.4e-10, np.nan]})
    power = pd.DataFrame({"case": ["logit_dyad"] * 2, "error": ["none (the case as it is)", "sd x 1.2"],
                          "simulations": [100, 100], "pool": [100, 300], "flagged": [False, True],
                          "flag_rate": [np.nan, 0.8312]})
    cp.CalibrationResult(families, {}, recovery, mle, {"kernel_iterations": 32},
                         {"seconds": 4380.2, "mle_model": "m4"}, power).write(root / "validate")
    check = pd.DataFrame({"model": ["m4"], "label": ["Table 1 Model 4"], "quantity": ["event rate"],
                          "in_data": [0.000225312], "prior_low": [1.0312e-5], "prior_median": [0.0312],
                          "prior_high": [0.91234], "percentile": [0.2312], "simulations": [400], "inside": [True]})
    cp.PriorCheckResult(check, b"", {"simulations": 400}).write(root / "prior_check" / "paper")
    frequentist("dca2").write(root / "country_year" / "freq")
    return root


@pytest.fixture(scope="module")
def pages(build):
    return results_pages(ResultsSettings(build=build, out=build.parent / "pages"), QUIET)


def test_every_page_is_written_and_read_back(pages, build):
    out = build.parent / "pages"
    paths = pages.write(out)
    assert sorted(p.name for p in paths) == sorted([INDEX, *PAGES])
    assert ResultsPages.read(out).pages == pages.pages
    for name, text in pages.pages.items():
        assert text.startswith("# "), name
        assert f"Generated by `coupproof results` from `{build}`" in text and f"panel checksum {CHECKSUM[:12]};" in text
        assert "do not edit by hand" in text


def test_numbers_of_the_build_as_the_pages_format_them(pages):
    reproduction = pages.pages["reproduction.md"]
    assert "-5.75 (1.75)" in reproduction and "-7.67 (1.90)" in reproduction and "1.01" in reproduction
    assert "| m4 | logit | 2 | 2 | 2 |" in squeeze(reproduction)  # 2 coefficients compared, 2 agree in sign, 2 near
    bayesian = pages.pages["bayesian.md"]
    assert "-5.36 (1.92)" in bayesian and "[-9.06, -1.90]" in bayesian and "0.997" in bayesian
    assert "-721 (91.0)" in bayesian and "14,180" in bayesian and "0.512" in bayesian
    assert "m4_marginal.nc" in bayesian and "1,234" in bayesian and "321" in bayesian and "152" in bayesian
    assert "m1_marginal.nc" in bayesian and "written by another version of coupproof" in bayesian
    priors = pages.pages["priors.md"]
    assert "-4.23" in priors and "-5.61" in priors and "0.143" in priors and "0.791" in priors
    assert "1 of 1 interactions meet the criterion" in priors
    assert "coef[military_regime_a]" in priors and "0.0789" in priors and "coef[a:b]" not in priors
    assert "-2.34 (1.36)" in priors and "[-4.87, 0.153]" in priors and "0.391" in priors
    robustness = pages.pages["robustness.md"]
    assert "-1.66 (0.461)" in robustness and "0.000310" in robustness and "[-2.31, -0.341]" in robustness
    assert "81.6 s" in robustness and "2 Bayesian fits (1 read from the cache) in 5,072 s" in robustness
    assert "the fits' own wall times, whenever made, sum to 5,980 s." in robustness
    calibration = pages.pages["calibration.md"]
    assert "coef[shared_defense_pact]" in calibration and "0.441" in calibration and "412" in calibration
    assert "0.398" in calibration and "0.0171" in calibration
    assert "-5.74291 (1.92012)" in calibration and "-710.136" in calibration and "2.40e-10" in calibration
    assert "sd x 1.2" in calibration and "0.831" in calibration and "300" in calibration
    assert "1 of 1 values inside the central 90%" in priors and "0.000225" in priors
    assert "0.0312 [1.03e-05, 0.912]" in priors
    assert "The prior predictive check (country_year): not built" in priors and "`make prior-check`" in priors
    studies = pages.pages["studies.md"]
    assert "dca2" in studies and "-5.75 (1.75)" in studies and "434,833" in studies


def test_missing_outputs_say_which_target_builds_them(pages):
    assert "The panel: not built" in pages.pages["reproduction.md"] and "run `make data`" in pages.pages[
        "reproduction.md"]
    assert "not built" in pages.pages["speed.md"] and "`make bench`" in pages.pages["speed.md"]
    studies = pages.pages["studies.md"]
    assert "The study: not built" in studies and "`make institutions`" in studies
    assert "The report: not built" in studies and "`make dca`" in studies
    index = pages.pages[INDEX]
    assert all(f"]({name})" in index for name in PAGES)
    assert "| benchmarks | `" in squeeze(index) and "| not built | `make bench` |" in squeeze(index)
    assert "| frequentist results | `" in squeeze(index) and "| built | `make freq` |" in squeeze(index)


def test_an_empty_build_gives_every_page_without_failing(tmp_path):
    found = results_pages(ResultsSettings(build=tmp_path / "build", out=tmp_path / "pages"), QUIET)
    assert sorted(found.pages) == sorted([INDEX, *PAGES])
    assert "panel checksum unknown" in found.pages[INDEX]
    assert found.pages[INDEX].count("not built") >= 12


def test_a_selection_of_pages_leaves_the_others_and_the_index_alone(build):
    found = results_pages(ResultsSettings(build=build, out=build.parent / "pages", pages=("priors", "robustness")),
                          QUIET)
    assert sorted(found.pages) == ["priors.md", "robustness.md"]
    assert "-4.23" in found.pages["priors.md"] and "81.6 s" in found.pages["robustness.md"]
    with pytest.raises(ValueError, match="unknown results page.*'prior'.*the pages are reproduction, bayesian"):
        ResultsSettings(pages=("prior",))


def test_cells_are_rounded_readably():
    assert [number(v) for v in (506665.0, -10.0455, 0.5, 2.4e-10, 1234.5, True, None, float("nan"), "m4")] == \
        ["506,665", "-10.0", "0.500", "2.40e-10", "1,234", "yes", "", "", "m4"]


def test_speed_page_from_the_bench_records(tmp_path):
    import json

    bench = tmp_path / "build" / "bench"
    bench.mkdir(parents=True)
    (bench / "panel_build.json").write_text(json.dumps({
        "benchmark": "full panel build", "runs": [{"process_wall_seconds": 5.43, "rows": 781409}],
        "best_wall_seconds": 5.43, "peak_memory_gb": 0.812, "meets_goals": True}))
    (bench / "frequentist.json").write_text(json.dumps({
        "benchmark": "six paper models", "load_panel_seconds": 1.25, "per_model_seconds": {"m4": 0.77},
        "total_seconds": 4.91, "goal_seconds": 120.0}))
    (bench / "bayes_summary.md").write_text("Machine: 2 cores.\n\n| model | wall time (s) |\n|---|---|\n| m4 | 152.2 |\n")
    (bench / "bayes.json").write_text(json.dumps({
        "m4_ess_per_second_ratio": 294.3, "m4_gradient_costs": {"marginal_gradient_ms_sigma_1": 21.04},
        "goals": {"no divergences": True}}))
    (bench / "your_data.json").write_text(json.dumps({  # as `python -m benchmarks.your_data --no-fit` writes it
        "routes": {"panel": {"rows": 434833, "groups": 14180, "make_seconds": 1.0, "gradient_ms": 30.56},
                   "DataFrame": {"rows": 434833, "groups": 14180, "make_seconds": 0.33, "gradient_ms": 28.6},
                   "frame_over_panel_gradient": 0.936},
        "sender_receiver": {"m4": {"groupings": {"dyad": 14180}, "gradient_ms": 28.99},
                            "m4_srd": {"groupings": {"dyad": 14180, "state_a": 87}, "gradient_ms": 31.34},
                            "srd_over_m4_gradient": 1.08},
        "goals": {"DataFrame within 110% of the panel (gradient)": True}}))
    (bench / "centring.json").write_text(json.dumps({
        "draws": 1000, "tune": 300, "seed": 2, "simulated": {
            "rows": 5220, "events": 206, "none": {"wall_seconds": 82.7, "steps_per_draw": 14.31, "divergences": 0,
                                                  "s1_sd": {"mean": 1.059, "ess_bulk": 392, "ess_tail": 462}}}}))
    (bench / "country_year.json").write_text(json.dumps({  # the summary table is missing: its goals still show
        "fits": [{"chains": 2, "tune": 1000, "draws": 1000}], "goals": {"bulk and tail ESS >= 1000": False}}))
    speed = results_pages(ResultsSettings(build=tmp_path / "build"), QUIET).pages["speed.md"]
    assert "2 x (1,000 + 1,000) draws, without `make dca`'s retry" in speed
    assert "- bulk and tail ESS >= 1000: NOT met" in speed
    assert "| DataFrame | 434,833 | 14,180 | 0.330 | 28.6 |" in squeeze(speed) and "gradient: 0.936" in speed
    assert "| m4_srd | dyad 14180, state_a 87 | 31.3 |" in squeeze(speed) and "gradient 1.08 (gradients only" in speed
    assert "- DataFrame within 110% of the panel (gradient): met" in speed
    assert "| simulated | none | 82.7 | 14.3 | 0 | 1.06, 392 / 462 |" in squeeze(speed) and "206 events" in speed
    assert "5.43 s" in speed and "0.812 GB" in speed and "781,409" in speed
    assert "4.91 s" in speed and "0.770" in speed and "| m4 | 152.2 |" in speed
    assert "294 times" in speed and "marginal gradient ms sigma 1" in speed and "21.0" in speed
    assert "| no divergences | yes |" in squeeze(speed)
    assert "The second study's fits: not built" in speed and "robustness timing: not built" in speed.lower()
