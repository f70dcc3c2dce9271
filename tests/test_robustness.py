"""The robustness suite: panel options and the monadic aggregation on hand-made fixtures and the short real panel,
the King-Zeng correction against a hand computation, Heckman's two-step model against a simulated selection
model, the variant file, and the command's bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit
from typer.testing import CliRunner

from data_prep.monadic import monadic_frame, monadic_panel, narrowed_sample
from data_prep.panel import PanelOptions, build_panel, panel_to_frame
from data_prep.sources import RawData
from inference.rare_events import king_zeng_correction
from inference.selection import MILLS, heckman_two_step
from models.robustness import VariantError, get_variants, load_suite, load_variants


# ---------------------------------------------------------------------------------------------------- panel steps
def test_monadic_aggregation_on_a_hand_made_frame():
    """Any pact of A in a year counts once; A's own variables are carried; a year is in a sample if any dyad is."""
    frame = pd.DataFrame({
        "ccode_a": [40, 40, 40, 40, 365], "ccode_b": [2, 20, 2, 20, 2], "year": [1990, 1990, 1991, 1991, 1990],
        "new_defense_pact": [0.0, 1.0, 0.0, 0.0, 1.0], "counterbalancing_a": [0.7, 0.7, 1.1, 1.1, 0.0],
        "threat_a": [0.2, 0.2, 0.3, 0.3, 0.5], "sample_controls": [False, True, False, False, True],
        "sample_no_controls": [True, True, True, True, True]})
    for name in ("counterweights_a", "new_counterweight_a", "recent_coup_a", "new_regime_a", "military_regime_a",
                 "polity2_a", "cinc_a", "milex_change_a", "milper_change_a", "recent_mid_a", "rivalries_a"):
        frame[name] = 0.0
    out = monadic_frame(frame).set_index(["ccode_a", "year"])
    assert out.loc[(40, 1990), "new_defense_pact"] == 1 and out.loc[(40, 1991), "new_defense_pact"] == 0
    assert out.loc[(40, 1991), "counterbalancing_a"] == 1.1 and out.loc[(365, 1990), "threat_a"] == 0.5
    assert out["sample_controls"].tolist() == [True, False, True] and len(out) == 3


@pytest.fixture(scope="module")
def panels(raw_dir):
    """The short real panel (1960-1966) with the paper's options, with Polity2 <= 5, and with every State A."""
    raw = RawData(raw_dir)
    return {limit: build_panel(raw, PanelOptions(start=1960, end=1966, max_polity_a=limit)) for limit in (6, 5, None)}


def test_nondemocracy_threshold_and_full_sample(panels):
    frames = {limit: panel_to_frame(ds) for limit, ds in panels.items()}
    assert frames[6]["polity2_a"].max() <= 6 and frames[5]["polity2_a"].max() <= 5
    assert len(frames[5]) < len(frames[6]) < len(frames[None]) and frames[None]["polity2_a"].max() > 6
    full = frames[None]
    joint = (full.groupby(["ccode_a", "ccode_b"])["polity2_a"].shift(1) >= 7) & \
        (full.groupby(["ccode_a", "ccode_b"])["polity2_b"].shift(1) >= 7)
    checked = full["year"] > 1960  # the first year's lag lies outside the panel
    assert (full.loc[checked & joint, "joint_democracy"] == 1).all() and full["joint_democracy"].max() == 1


def test_raw_and_logged_counterweights(panels):
    frame = panel_to_frame(panels[6]).dropna(subset=["counterweights_a"])
    np.testing.assert_allclose(frame["counterbalancing_a"], np.log1p(frame["counterweights_a"]))


def test_monadic_panel_of_the_real_panel(panels):
    ds = panels[6]
    monadic = monadic_panel(ds)
    frame, dyads = panel_to_frame(monadic), panel_to_frame(ds)
    assert set(monadic.dims) == {"state", "year"} and monadic.attrs["design"] == "monadic"
    assert len(frame) == len(dyads.groupby(["ccode_a", "year"]))
    pacts = dyads.groupby(["ccode_a", "year"])["new_defense_pact"].max()
    assert frame.set_index(["ccode_a", "year"])["new_defense_pact"].equals(pacts)
    assert monadic["threat_a"].attrs["long_name"] == ds["threat_a"].attrs["long_name"]


def test_narrowed_sample_drops_rows_missing_an_added_variable(panels):
    ds = panels[6]
    narrowed, name = narrowed_sample(ds, "sample_controls", ("milex_change_a",))
    assert name == "sample_controls_with_milex_change_a"
    expected = ds["sample_controls"] & ds["milex_change_a"].notnull()
    assert bool((narrowed[name] == expected).all()) and narrowed.attrs["panel_checksum"] != ds.attrs["panel_checksum"]
    assert narrowed_sample(ds, "sample_controls", ()) == (ds, "sample_controls")


# ---------------------------------------------------------------------------------------------------- estimators
def test_king_zeng_correction_by_hand():
    """Three rows, two coefficients: bias = (X'WX)^-1 X'W xi with xi_i = Q_ii (pi_i - 1/2), row by row."""
    X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    beta = np.array([-1.0, 0.5])
    bias, shrink = king_zeng_correction(X, beta)
    pi = expit(X @ beta)
    w = pi * (1 - pi)
    inverse = np.linalg.inv(sum(w[i] * np.outer(X[i], X[i]) for i in range(3)))
    xi = [X[i] @ inverse @ X[i] * (pi[i] - 0.5) for i in range(3)]
    expected = inverse @ sum(X[i] * w[i] * xi[i] for i in range(3))
    np.testing.assert_allclose(bias, expected, rtol=1e-12)
    assert shrink == pytest.approx((3 / 5) ** 2)


def test_king_zeng_shrinks_rare_event_estimates_towards_the_truth():
    """With 20 events in 2,000 rows the logit MLE of the intercept is biased away from zero; the correction moves
    the average over replications closer to the truth."""
    import statsmodels.api as sm

    rng = np.random.default_rng(2)
    truth = np.array([-4.5, 1.0])
    raw, corrected = [], []
    for _ in range(60):
        x = rng.normal(size=2000)
        X = np.column_stack([np.ones_like(x), x])
        y = rng.binomial(1, expit(X @ truth))
        fit = sm.Logit(y, X).fit(disp=0)
        raw.append(fit.params)
        corrected.append(fit.params - king_zeng_correction(X, fit.params)[0])
    assert np.abs(np.mean(corrected, axis=0) - truth).sum() < np.abs(np.mean(raw, axis=0) - truth).sum()


def test_heckman_two_step_recovers_a_simulated_selection_model():
    """Selection s = 1[0.2 + 0.5 x + w + u > 0], outcome y = 1 + 2 x + e, corr(u, e) = 0.6, sd(e) = 1.5: the
    estimates lie within 3 corrected SEs of the truth, and the Mills ratio's coefficient estimates rho x sigma."""
    rng = np.random.default_rng(1)
    n = 20_000
    x, w = rng.normal(size=n), rng.normal(size=n)
    u, e = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 2.25]], size=n).T
    s = 0.2 + 0.5 * x + w + u > 0
    y = pd.Series(np.where(s, 1 + 2 * x + e, np.nan))
    X = pd.DataFrame({"Intercept": 1.0, "x": x})
    fit = heckman_two_step(y, pd.Series(s), X, X.assign(w=w))
    se = np.sqrt(np.diag(fit.outcome_cov))
    assert np.all(np.abs(fit.outcome.to_numpy() - [1.0, 2.0, 0.9]) < 3 * se)
    assert fit.outcome.index[-1] == MILLS and fit.sigma == pytest.approx(1.5, abs=0.1)
    assert fit.rho == pytest.approx(0.6, abs=0.1) and fit.n_selected == int(s.sum())
    with pytest.raises(ValueError, match="exclusion restriction"):
        heckman_two_step(y, pd.Series(s), X, X)


# ---------------------------------------------------------------------------------------------------- variants
def test_packaged_variants_as_formulas():
    variants = load_variants()
    assert {"year_fixed_effects", "rare_events_logit", "full_sample", "raw_count", "new_counterweights", "polity_5",
            "heckman_selection", "military_changes", "mid_threat", "rivalry_threat", "monadic"} <= set(variants)
    raw = {s.name: s for s in variants["raw_count"].specs()}
    assert "counterweights_a:threat_b" in raw["raw_count-m4"].parsed.terms
    assert "counterbalancing_a" not in raw["raw_count-m4"].formula
    assert raw["raw_count-m4"].interaction == ("counterweights_a", "threat_b")
    years = [s.formula for s in variants["year_fixed_effects"].bayes_specs()]
    assert sum("(1 | year)" in f for f in years) == 2 and sum("C(year)" in f for f in years) == 2
    assert not any("(1 | year)" in f and "C(year)" in f for f in years)
    assert variants["heckman_selection"].bayes_specs() == []
    assert variants["monadic"].specs()[0].group == "state_a"


@pytest.mark.parametrize("text, message", [
    ('[x]\nestimator = "probit"\n', "[x] estimator must be one of logit, relogit, firth, heckman"),
    ('[x]\ncolour = "red"\n', "[x] unknown field(s) colour"),
    ('[x]\npanel = { min_polity_b = 3 }\n', "[x] unknown panel option(s) min_polity_b"),
    ('[x]\nmodels = ["m9"]\n', "[x] unknown base model(s) m9"),
    ('[x]\nestimator = "heckman"\nmodels = ["h1"]\n', "[x] a Heckman model needs an exclusion restriction"),
    ('[x]\nadd = ["(threat_a | dyad)"]\n', "[x] model x-m2: formula: the grouping dyad has group-specific slopes"),
    ('[x]\nestimator = "heckman"\nmodels = ["h1"]\nexclusion = ["shared_defense_pact"]\n',
     "[x] a Heckman model needs the selection equation's outcome (selection = \"...\")"),
    ('[suite]\nmain = ["m2", "m9"]\n', "[suite] unknown model(s) m9"),
    ('[suite]\nmain = ["m2"]\nfindings = { m4 = { sign = -1, significant = true } }\n',
     "[suite] findings.m4 must name a main model and give sign = -1, 0 or 1 and significant = true or false"),
    ('[suite]\nmain = ["m2"]\nfindings = { m2 = { sign = 2, significant = true } }\n', "[suite] findings.m2 must"),
    ('[suite]\ncolour = "red"\n', "[suite] unknown field(s) colour; known: findings, forest, key_parts, main"),
])
def test_variant_file_errors(tmp_path, text, message):
    path = tmp_path / "variants.toml"
    path.write_text(text)
    with pytest.raises(VariantError) as info:
        load_variants(path)
    assert message in str(info.value)


def test_the_packaged_suite_names_its_main_models_and_findings():
    suite = load_suite()
    assert suite.main == ("m2", "m4", "h1", "h2") and suite.forest == ("m2", "m4")
    assert suite.findings["m4"].describe() == "negative and significant"
    assert suite.findings["m2"].describe() == "not significant"
    assert suite.base_model("full_sample-m4") == "m4" and suite.base_model("x-m9") is None
    assert suite.variants["heckman_selection"].selection == "new_defense_pact"


def test_unknown_variant_name():
    with pytest.raises(VariantError, match="unknown variant\\(s\\) nope; known: year_fixed_effects"):
        get_variants("raw_count,nope", load_variants())


def test_command_refuses_bad_input_before_fitting(tmp_path):
    """An unknown variant, and a variant whose variables the panel lacks: one line, exit 2, nothing written."""
    from simulate import synthetic_panel_file

    from coupproof.cli import app

    panel = synthetic_panel_file(tmp_path / "panel.nc")
    out = tmp_path / "robustness"
    runner = CliRunner()
    result = runner.invoke(app, ["robustness", "--variants", "nope", "--panel", str(panel), "--out", str(out)])
    assert result.exit_code == 2 and "unknown variant(s) nope" in result.output and not out.exists()
    variants = tmp_path / "variants.toml"
    variants.write_text('[wealth]\nadd = ["gdp_per_capita_a"]\n')
    result = runner.invoke(app, ["robustness", "--variant-file", str(variants), "--panel", str(panel),
                                 "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "model wealth-m2: the panel has no variable(s) gdp_per_capita_a" in " ".join(result.output.split())
    assert not out.exists()


# ---------------------------------------------------------------------------------------------------- outputs
def _rows(variant, model, method, estimate, se, p=float("nan"), lower=None, upper=None, converged=True, part="logit"):
    return {"variant": variant, "model": model, "part": part, "term": "cb:threat", "method": method,
            "estimate": estimate, "se_or_sd": se, "lower": estimate - 2 * se if lower is None else lower,
            "upper": estimate + 2 * se if upper is None else upper, "p": p, "converged": converged,
            "estimator": ""}


def test_key_findings_compare_sign_and_significance_with_the_main_tables():
    from reports.robustness import key_findings

    estimates = pd.DataFrame([
        _rows("v", "v-m4", "frequentist", -2.0, 0.5, p=0.001),
        _rows("v", "v-m4", "bayesian", -1.8, 0.6, lower=-3.0, upper=-0.5),
        _rows("v", "v-m2", "frequentist", -2.0, 0.5, p=0.001),  # significant where the main table's is not
        _rows("w", "w-m4", "frequentist", 1.0, 2.0, p=0.6),
        _rows("w", "w-m4", "bayesian", 1.0, 2.0, lower=-3.0, upper=5.0, converged=False),
        _rows("h", "h-h1", "frequentist", 2.0, 0.5, p=0.01, part="outcome"),
        {**_rows("h", "h-h1", "frequentist", 9.0, 0.1, p=0.0), "term": "cb"},  # not an interaction: ignored
    ])
    found = key_findings(estimates, load_suite()).set_index("model")
    assert found.loc["v-m4", "as_in_main_table"] == "yes; Bayes: yes"
    assert found.loc["v-m2", "as_in_main_table"] == "no" and found.loc["v-m2", "main_table"] == "not significant"
    assert found.loc["w-m4", "as_in_main_table"] == "no; Bayes: no, FIT FAILED ITS DIAGNOSTICS"
    assert found.loc["h-h1", "as_in_main_table"] == "yes" and found.loc["h-h1", "freq_estimate"] == 2.0


def test_paper_layout_and_report_section(tmp_path):
    from coupproof.stages import RobustnessResult
    from inference.frequentist import FitResult
    from reports.bayes_report import robustness_section
    from reports.robustness import paper_layout

    fit = FitResult("raw_count-m4", "logit", ["Intercept", "cb:threat"], [-3.0, -1.5], [[0.25, 0.0], [0.0, 0.25]],
                    1000, 50, 10, -40.5, True, "logit")
    layout = paper_layout([fit])
    assert layout.loc["cb:threat", "raw_count-m4"] == "-1.500 (0.500)**"  # p = 0.0027
    assert list(layout.index) == ["Intercept", "cb:threat", "N", "log-likelihood", "estimator"]
    assert robustness_section(RobustnessResult.read(tmp_path)) is None
    layout.to_csv(tmp_path / "raw_count.csv")
    pd.DataFrame([{"variant": "raw_count", "model": "raw_count-m4", "term": "cb:threat", "freq_estimate": -1.5,
                   "bayes_diagnostics_passed": False, "as_in_main_table": "yes"}]).to_csv(
        tmp_path / "key_findings.csv", index=False)
    html = robustness_section(RobustnessResult.read(tmp_path), load_suite())
    assert "Robustness checks" in html and "Counterweights, raw count" in html
    assert "failed their diagnostics" in html and "-1.500 (0.500)**" in html


def test_command_refuses_an_unreachable_cluster_before_fitting(tmp_path):
    from simulate import synthetic_panel_file

    from coupproof.cli import app

    panel = synthetic_panel_file(tmp_path / "panel.nc")
    variants = tmp_path / "variants.toml"
    variants.write_text('[by_state]\nmodels = ["m1"]\n')  # Model 1 fits the synthetic panel
    out = tmp_path / "robustness"
    result = CliRunner().invoke(app, ["robustness", "--variant-file", str(variants), "--panel", str(panel),
                                      "--out", str(out), "--scheduler", "not-an-address"])
    assert result.exit_code == 2, result.output
    assert "cannot reach the Dask scheduler at not-an-address" in " ".join(result.output.split())
    assert not out.exists()


def test_firth_logit_is_finite_under_separation():
    """A covariate that separates the outcome completely: the MLE diverges, Firth's penalised estimate does not,
    and it comes back as a FitResult with the design's term names."""
    from inference.rare_events import fit_firth
    from models.design import model_data
    from models.specs import ModelSpec

    x = np.linspace(-2, 2, 40)
    frame = pd.DataFrame({"y": (x > 0.5).astype(float), "x": x})
    fit = fit_firth(model_data(frame, ModelSpec("sep", "y ~ x")))
    assert fit.terms == ["Intercept", "x"] and fit.converged
    assert np.all(np.isfinite(fit.params)) and 2 < fit.params[1] < 30
    assert fit.family.startswith("Firth") and np.all(np.diag(fit.cov) > 0)


def test_firth_intervals_and_tests_are_firthmodels_profile_likelihood_ones():
    """The Firth fit's intervals are firthmodels' profile penalised-likelihood intervals at the report's level and its
    p-values the penalised likelihood-ratio tests, not Wald's; the robustness rows show those intervals."""
    from firthmodels import FirthLogisticRegression

    from inference.diagnostics import HDI_PROB
    from inference.rare_events import fit_firth
    from models.design import model_data
    from models.specs import ModelSpec
    from reports.robustness import estimate_rows

    rng = np.random.default_rng(4)
    x = rng.normal(size=400)
    frame = pd.DataFrame({"y": rng.binomial(1, 1 / (1 + np.exp(-(-3.5 + 0.9 * x)))).astype(float), "x": x})
    data = model_data(frame, ModelSpec("rare", "y ~ x"))
    fit = fit_firth(data)
    own = FirthLogisticRegression(fit_intercept=False, backend="numpy").fit(data.X.to_numpy(float), frame["y"])
    np.testing.assert_allclose(np.column_stack([fit.intervals["lower"], fit.intervals["upper"]]),
                               own.conf_int(alpha=1 - HDI_PROB, method="pl"), rtol=1e-6)
    np.testing.assert_allclose(fit.pvalues, own.lrt().lrt_pvalues_, rtol=1e-6)
    wald = 2 * stats.norm.sf(np.abs(np.asarray(fit.params) / np.sqrt(np.diag(fit.cov))))
    assert not np.allclose(fit.pvalues, wald, rtol=1e-3)  # a different test, not Wald's under another name
    rows = estimate_rows("firth_logit", [fit])
    np.testing.assert_allclose(rows["lower"], fit.intervals["lower"])
    np.testing.assert_allclose(rows["p"], fit.pvalues)
    # the profile interval is asymmetric about the estimate, as a rare-event likelihood is
    slope = rows.set_index("term").loc["x"]
    assert abs((slope.upper - slope.estimate) - (slope.estimate - slope.lower)) > 1e-3


def test_the_year_fixed_effects_logit_converges_without_pact_free_years():
    """Years without any event make their dummies run off to minus infinity (no convergence); leaving them out with
    their rows converges and gives the other coefficients of the full fit's limit (here: the fit with those years'
    dummies held at -40, where their rows' likelihood is 1)."""
    import statsmodels.api as sm
    from simulate import simulated_panel

    from inference.frequentist import fit_logit
    from models.design import model_data
    from models.specs import ModelSpec

    frame = simulated_panel(n_dyads=200, years=10, seed=6, beta=(-3.0, 0.8, 0.5, -0.6))
    empty = frame["year"].isin([2, 7])
    frame.loc[empty, "y"] = 0.0
    data = model_data(frame, ModelSpec("fe", "y ~ cb * threat + C(year) + (1 | dyad)"))
    fit = fit_logit(data)
    assert fit.converged and fit.nobs == int((~empty).sum())
    assert "C(year)[2]" not in fit.terms and "C(year)[7]" not in fit.terms
    assert "2 level(s) without any event left out" in fit.note
    dummies = [c for c in data.X.columns if c in ("C(year)[2]", "C(year)[7]")]
    offset = -40.0 * data.X[dummies].sum(axis=1)
    limit = sm.Logit(data.y, data.X.drop(columns=dummies), offset=offset).fit(disp=0, maxiter=200)
    np.testing.assert_allclose(fit.params, limit.params.to_numpy(), rtol=1e-6, atol=1e-8)
    # clustered on the dyads that remain
    assert fit.n_clusters == 200
