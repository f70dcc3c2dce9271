"""Simulation-based calibration (inference.calibration), the marginal MLE cross-check (inference.marginal_mle) and
`coupproof validate`: a reduced run on small simulated designs, which passes for the right model and fails for a
deliberately broken one (the fit's prior differs from the simulator's)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.special import expit
from typer.testing import CliRunner

from coupproof.cli import app
from coupproof.stages import CalibrationResult
from inference import calibration as cal
from inference.marginal_mle import compare_mle
from inference.simulation import simulate, truncated_counts
from models.design import model_data
from models.priors import parse_priors
from models.quadrature import dense_dyad_loglik
from models.specs import get_spec
from reports.calibration import calibration_section
from tests.references import agq_group_loglik
from tests.round_trip import assert_round_trip
from tests.simulate import SPEC, simulated_panel, synthetic_panel_file

FAST = cal.RunSettings(simulations=6, draws=100, tune=100, chains=1, keep=50, seed=7, sampler="nutpie")


def _case(**overrides) -> cal.Case:
    fields = {"name": "small", "label": "logit, small design", "formula": "{t1} + (1 | dyad)", "groups": 0,
              "events": 60.0, "run": FAST}
    return cal.Case(**{**fields, **overrides})


@pytest.fixture(scope="module")
def prepared() -> cal.CaseData:
    frame = simulated_panel(n_dyads=40, years=8, seed=3)
    case = _case(inject={"group_sd_scale": 3.0, "intercept_shift": [1.0, 4.0]})
    return cal.prepare_case(case, frame, specs={"t1": SPEC})


@pytest.fixture(scope="module")
def sbc_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("sbc")


@pytest.fixture(scope="module")
def records(prepared, sbc_cache) -> list[dict]:
    return cal.run_case(prepared, sbc_cache, scheduler="serial")


def test_an_interaction_prior_shift_reweights_the_interactions_draws(prepared):
    """interaction_shift k: log weights are the shifted prior's log density over the prior's at the interaction's
    sampled slope (nothing else moves); a formula without an interaction is refused before any simulation."""
    from scipy import stats

    terms = list(prepared.data.X.columns.drop("Intercept"))
    draws = np.random.default_rng(1).normal(0.0, 1.0, (1, 50, len(terms)))
    post = xr.Dataset({"beta_rescaled": (("chain", "draw", "term"), draws)}, coords={"term": terms})
    moved, truths, log_weights = cal.injected_fit("interaction_shift", 1.0, {"a": np.ones(50)}, {"a": 1.0}, post,
                                                  prepared.data, prepared.priors, "marginal", None)
    prior = prepared.priors["slopes"]  # Student-t by default
    assert prior.dist == "StudentT"
    nu, sigma = prior.kwargs["nu"], prior.kwargs["sigma"]
    at = draws[0, :, terms.index("cb:threat")]
    expected = stats.t.logpdf(at, nu, sigma, sigma) - stats.t.logpdf(at, nu, 0.0, sigma)
    assert np.allclose(log_weights, expected) and moved == {"a": pytest.approx(np.ones(50))} and truths == {"a": 1.0}
    with pytest.raises(cal.CalibrationError, match="interaction_shift needs a two-way interaction"):
        cal.prepare_case(_case(inject={"interaction_shift": 1.0}), simulated_panel(n_dyads=40, years=8, seed=3),
                         specs={"t1": replace(SPEC, formula="y ~ cb + threat + (1 | dyad)")})


def test_a_correlation_matrix_is_checked_by_its_upper_triangle():
    """A grouping's correlation matrix enters the rank tests once per pair: its diagonal is 1 in every draw and
    truth (a rank that cannot be uniform) and its lower triangle repeats the upper."""
    corr = np.array([[1.0, 0.3, 0.2], [0.3, 1.0, -0.5], [0.2, -0.5, 1.0]])
    ds = xr.Dataset({"g_corr": (("chain", "draw", "a", "b"), np.broadcast_to(corr, (1, 4, 3, 3)).copy()),
                     "coef": (("chain", "draw", "term"), np.zeros((1, 4, 2)))},
                    coords={"a": list("xyz"), "b": list("xyz"), "term": ["p", "q"]})
    flat = cal._flat(ds, ["g_corr", "coef"])
    assert {k: float(v[0]) for k, v in flat.items()} == {"g_corr[x,y]": 0.3, "g_corr[x,z]": 0.2,
                                                          "g_corr[y,z]": -0.5, "coef[p]": 0.0, "coef[q]": 0.0}


def test_the_cache_key_follows_the_cases_design_not_the_panel():
    """A panel rebuilt with other columns (another concession measure) keeps a case's cached simulations; a changed
    covariate, fewer rows or another group coding gives a new key."""
    case = _case()
    frame = simulated_panel(n_dyads=40, years=8, seed=3)
    key = cal.prepare_case(case, frame, specs={"t1": SPEC}).key
    assert cal.prepare_case(case, frame.assign(unrelated=1.0), specs={"t1": SPEC}).key == key
    moved = frame.assign(threat=frame["threat"] * 1.01)
    assert cal.prepare_case(case, moved, specs={"t1": SPEC}).key != key
    assert cal.prepare_case(case, frame.iloc[:-8], specs={"t1": SPEC}).key != key


def test_simulations_follow_the_prior_and_the_design(prepared):
    truth, y = prepared.truth, prepared.outcomes
    assert y.shape == (6, 320) and set(np.unique(y)) <= {0.0, 1.0}
    assert truth.sizes["simulation"] == 6 and {"coef", "dyad_sd", "dyad_z", "intercept"} <= set(truth.data_vars)
    # the intercept's prior is centred on 60 expected events in 320 rows (log-odds of the average dyad)
    centred = prepared.priors["intercept"].kwargs["mu"]
    assert centred == pytest.approx(np.log(60 / 260))
    # each simulated outcome is the Bernoulli draw of its own parameters: the mean of the probabilities is close to
    # the share of events, simulation by simulation
    X = prepared.data.X.to_numpy()
    for i in range(3):
        t = truth.isel(simulation=i)
        eta = X @ np.asarray(t["coef"]) + np.asarray(t["dyad_sd"]) * np.asarray(t["dyad_z"])[prepared.data.groups]
        assert abs(expit(eta).mean() - y[i].mean()) < 4 * np.sqrt(0.25 / 320)


@pytest.mark.slow  # 20 s of fitting; make test-slow
def test_reduced_sbc_passes_and_a_broken_prior_fails(prepared, records, sbc_cache, tmp_path):
    tests = cal.uniformity(records)
    assert set(tests["quantity"]) >= {"coef[Intercept]", "coef[cb:threat]", "dyad_sd", "intercept_centred", cal.LOGLIK,
                                      cal.INTERACTION}
    assert tests["passed"].all(), tests
    again = cal.run_case(prepared, sbc_cache, scheduler="serial")  # from the cache: the same records
    assert json.dumps(again) == json.dumps(records)
    fewer, cached = replace(prepared, case=replace(prepared.case, run=replace(FAST, simulations=4))), []
    shorter = cal.run_case(fewer, sbc_cache, "serial", lambda i, from_cache: cached.append(from_cache))
    assert cached == [True] * 4 and json.dumps(shorter) == json.dumps(records[:4])  # simulation i is the same
    # the check can fail: the fit's dyad sd prior (half-normal 0.05) is not the simulator's (half-normal 1.5)
    broken_priors = {**prepared.priors, **parse_priors({"group_sd": {"dist": "HalfNormal", "sigma": 0.05}}, "x")}
    broken = replace(prepared, case=replace(prepared.case, run=replace(FAST, simulations=3), inject={}),
                     priors=broken_priors, design_checksum="broken")
    failed = cal.uniformity(cal.run_case(broken, tmp_path, scheduler="serial")).set_index("quantity")
    assert not failed.loc["dyad_sd", "passed"] and failed.loc["dyad_sd", "p_holm"] < 1e-3
    assert failed.loc["dyad_sd", "mean_pit"] > 0.9  # the truth lies above almost every draw


def test_uniformity_and_coverage_on_known_ranks():
    rng = np.random.default_rng(0)
    records = [{"simulation": i, "pit": {"even": u, "shifted": u**4}, "truth": {"even": 0.0, "shifted": 0.0},
                "mean": {"even": 0.0, "shifted": 0.0}, "sd": {"even": 1.0, "shifted": 1.0}}
               for i, u in enumerate(rng.uniform(size=200))]
    tests = cal.uniformity(records).set_index("quantity")
    assert tests.loc["even", "passed"] and not tests.loc["shifted", "passed"]
    covered = cal.coverage(records).set_index("quantity")
    assert covered.loc["even", "coverage_94"] == pytest.approx(0.94, abs=0.04)
    assert covered.loc["even", "coverage_50"] == pytest.approx(0.5, abs=0.08)


def test_truncated_counts_have_the_truncated_mean():
    rng = np.random.default_rng(1)
    for mu in (0.3, 4.0):
        counts = truncated_counts(np.full(40_000, mu), None, rng)
        assert counts.min() >= 1 and counts.mean() == pytest.approx(mu / -np.expm1(-mu), rel=0.02)
    assert (truncated_counts(np.full(100, 1e-9), None, rng) == 1).all()  # where rejection sampling stalls
    alpha, mu = 2.0, 3.0
    p0 = (alpha / (alpha + mu)) ** alpha
    counts = truncated_counts(np.full(40_000, mu), np.full(40_000, alpha), rng)
    assert counts.min() >= 1 and counts.mean() == pytest.approx(mu / (1 - p0), rel=0.02)


def test_case_formulas_borrow_a_models_terms():
    m4 = get_spec("m4")
    assert cal.spec_terms(m4).endswith("military_regime_a + counterbalancing_a:threat_b")
    assert "(1" not in cal.spec_terms(m4)
    spec, base = cal.case_spec(_case(formula="{m4} + (1 | state_a) + (1 | year)"), {"m4": m4})
    assert base is m4 and spec.group == "state_a" and spec.year_effects and spec.sample == "sample_controls"
    assert spec.outcome == cal.OUTCOME
    with pytest.raises(cal.CalibrationError, match=r"case small: the formula must name one model's terms as \{name\}"):
        cal.case_spec(_case(formula="{m9} + (1 | dyad)"), {"m4": m4})


@pytest.mark.parametrize(("text", "message"), [
    ('[cases.a]\nformula = "{m4}"\nfamily = "poisson"', r"\[cases.a\]: family must be one of bernoulli"),
    ('[cases.a]\nformula = "{m4}"\ncolour = 1', r"\[cases.a\]: unknown key\(s\) colour"),
    ('[cases.a]\nlabel = "x"', r"\[cases.a\]: needs a formula"),
    ('[settings]\nkeep = 5000\n[cases.a]\nformula = "{m4}"', r"\[settings\]: keep must be a whole number from 10"),
    ('[cases.a]\nformula = "{m4}"\ntruth = "posterior_mean"', r"truth = \"posterior_mean\" needs truth_fit"),
    ('[cases.a]\nformula = "{m4}"\npriors = { slopes = { dist = "Nromal" } }', r"unknown distribution 'Nromal'"),
    ("[settings]\nsimulations = 3", r"no \[cases.<name>\] tables"),
])
def test_bad_calibration_files_are_refused(tmp_path, text, message):
    path = tmp_path / "cases.toml"
    path.write_text(text)
    with pytest.raises(cal.CalibrationError, match=message):
        cal.load_cases(path)


def test_packaged_cases_cover_every_family():
    cases = cal.load_cases()
    families = {(c.family, c.method or "marginal") for c in cases.values()}
    assert {("bernoulli", "marginal"), ("bernoulli", "plain"), ("hurdle_poisson", "marginal"),
            ("hurdle_negbinomial", "marginal"), ("cumulative", "marginal")} <= families
    assert any("(1 | year)" in c.formula for c in cases.values())
    assert {c.design for c in cases.values()} == {"dyad", "country_year"}
    assert any(c.truth == "posterior_mean" for c in cases.values())


def test_kernel_mle_matches_the_independent_reference():
    data = model_data(simulated_panel(n_dyads=150, years=10, seed=5, sigma=1.5), SPEC)
    table = compare_mle(data).set_index("parameter")
    estimates = table.drop(index=["log-likelihood (own rule)", "log-likelihood (dense rule)"])
    assert estimates["difference_in_se"].abs().max() < 1e-3
    assert (estimates["kernel_se"] > 0).all()
    own, dense = table.loc["log-likelihood (own rule)"], table.loc["log-likelihood (dense rule)"]
    assert own["kernel"] == pytest.approx(dense["kernel"], abs=1e-6)
    assert own["reference"] == pytest.approx(dense["reference"], abs=1e-4)
    assert table.attrs["kernel_converged"] and table.attrs["reference_converged"]


def test_adaptive_gauss_hermite_matches_the_dense_rule_at_large_sd():
    frame = simulated_panel(n_dyads=30, years=12, seed=2, sigma=3.0)
    data = model_data(frame, SPEC)
    X, y = data.X.to_numpy(), data.y.to_numpy()
    coef = np.array([-2.0, 0.8, 0.5, -0.6])
    for sigma in (0.2, 3.0):
        np.testing.assert_allclose(agq_group_loglik(data.groups, X @ coef, y, sigma),
                                   dense_dyad_loglik(data.groups, X, coef, y, sigma), atol=1e-7)


def test_validate_command_writes_the_tables_plots_and_report_section(tmp_path):
    panel = synthetic_panel_file(tmp_path / "panel.nc", n_dyads=60, years=8)
    config = tmp_path / "cases.toml"
    config.write_text('[settings]\nsimulations = 2\ndraws = 100\ntune = 100\nchains = 1\nkeep = 50\nsampler = "pymc"\n'
                      '[cases.tiny]\nlabel = "logit on the synthetic panel"\nformula = "{m1} + (1 | dyad)"\n'
                      'groups = 30\nevents = 40\n')
    out = tmp_path / "validate"
    result = CliRunner().invoke(app, ["validate", "--config", str(config), "--panel", str(panel), "--out", str(out),
                                      "--scheduler", "serial", "--mle", "m1"])
    assert result.exit_code == 0, result.output
    assert_round_trip(CalibrationResult, out, tmp_path / "copy")
    families = pd.read_csv(out / "families.csv")
    assert families.loc[0, "case"] == "tiny" and families.loc[0, "simulations"] == 2
    assert (out / "pit_ecdf_tiny.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(pd.read_csv(out / "mle.csv")["parameter"]) >= {"Intercept", "dyad_sd", "log-likelihood (dense rule)"}
    section = calibration_section(CalibrationResult.read(out))
    assert 'id="calibration"' in section and "tiny" in section and "Marginal maximum likelihood" in section
    # a miscalibrated family is flagged in red
    families.loc[0, "verdict"] = "MISCALIBRATED"
    families.to_csv(out / "families.csv", index=False)
    assert 'class="banner fail"' in calibration_section(CalibrationResult.read(out))
    bad = CliRunner().invoke(app, ["validate", "--config", str(config), "--cases", "tiny,nope", "--panel", str(panel),
                                   "--out", str(tmp_path / "other")])
    assert bad.exit_code == 2 and "unknown calibration case 'nope'; known cases: tiny" in bad.output
    assert not (tmp_path / "other").exists()


def test_recovery_fixes_the_population_parameters_at_a_fits_posterior_mean(prepared):
    from inference.fitting import SamplerSettings, fit

    data = prepared.data
    tree, _ = fit(cal.with_outcome(data, prepared.outcomes[0]), prepared.priors,
                  SamplerSettings(draws=30, tune=30, chains=1, ess_min=1), group_outputs=False)
    case = _case(truth="posterior_mean", truth_fit="t1", run=replace(FAST, simulations=3))
    recovery = cal.prepare_case(case, simulated_panel(n_dyads=40, years=8, seed=3), tree, {"t1": SPEC})
    truth = recovery.truth
    post = tree["posterior"]
    for name in ("intercept_centred", "dyad_sd", "beta_rescaled"):
        expected = np.asarray(post[name].mean(("chain", "draw")))
        np.testing.assert_allclose(np.asarray(truth[name]), np.broadcast_to(expected, truth[name].shape))
    assert np.std(np.asarray(truth["dyad_z"]), axis=0).min() > 0  # the dyad intercepts are still drawn
    assert recovery.key != prepared.key


def test_reference_gradient_matches_finite_differences():
    from inference.marginal_mle import agq_value_and_gradient

    data = model_data(simulated_panel(n_dyads=30, years=12, seed=2, sigma=2.0), SPEC)
    X, y = data.X.to_numpy(), data.y.to_numpy()
    coef, sigma, h = np.array([-2.0, 0.8, 0.5, -0.6]), 1.7, 1e-6
    _, grad_coef, grad_sigma = agq_value_and_gradient(data.groups, X, y, coef, sigma)
    for j in range(4):
        step = np.eye(4)[j] * h
        numeric = (agq_value_and_gradient(data.groups, X, y, coef + step, sigma)[0]
                   - agq_value_and_gradient(data.groups, X, y, coef - step, sigma)[0]) / (2 * h)
        assert grad_coef[j] == pytest.approx(numeric, rel=1e-5, abs=1e-5)
    numeric = (agq_value_and_gradient(data.groups, X, y, coef, sigma + h)[0]
               - agq_value_and_gradient(data.groups, X, y, coef, sigma - h)[0]) / (2 * h)
    assert grad_sigma == pytest.approx(numeric, rel=1e-5, abs=1e-5)


def test_ordinal_simulations_have_ordered_cut_points_and_follow_them():
    """PyMC's prior predictive draws the cut points unordered; the simulator sorts them (the ordered prior's order
    statistics) and draws the outcome from the sorted ones, so the truth has a finite likelihood."""
    frame = simulated_panel(n_dyads=30, years=8, seed=4).assign(grade=lambda f: np.arange(len(f)) % 3)
    case = _case(family="cumulative", run=replace(FAST, simulations=200))
    spec, _ = cal.case_spec(case, {"t1": SPEC})
    data = cal.case_data(case, frame, spec)
    truth, y = simulate(data, cal.case_priors(case, data), case.run.simulations, case.run.seed)
    cut = np.asarray(truth["cutpoints"])
    assert (np.diff(cut, axis=1) > 0).all() and set(np.unique(y)) == {0.0, 1.0, 2.0}
    # the share of the lowest category follows the first cut point (the dyad intercepts add noise)
    eta = np.asarray(truth["coef"]) @ data.X.to_numpy().T
    expected = (1 / (1 + np.exp(-(cut[:, :1] - eta)))).mean(axis=1)
    assert np.corrcoef(expected, (y == 0).mean(axis=1))[0, 1] > 0.8


def test_weights_for_a_scaled_group_sd_give_the_scaled_fits_prior():
    """With no data the right fit's draws are the prior's; reweighted to a fit whose likelihood spreads the groups
    c sd_f, sd / c must again follow the prior (that fit's posterior without data)."""
    prior = parse_priors({}, "default")["group_sd"]  # half-normal(1.5)
    sd = np.abs(np.random.default_rng(1).normal(0, 1.5, 200_000))
    log_w = cal.scaled_sd_log_weights(prior, sd, 1.2)
    np.testing.assert_allclose(log_w, -sd**2 / (2 * 1.5**2) * (1 / 1.44 - 1) - np.log(1.2), rtol=1e-9)
    w = np.exp(log_w - log_w.max())
    order = np.argsort(sd)
    cdf = np.cumsum(w[order]) / w.sum()
    for q, expected in ((0.5, 1.5 * 0.6745), (0.9, 1.5 * 1.6449)):  # half-normal quantiles
        assert (sd[order] / 1.2)[np.searchsorted(cdf, q)] == pytest.approx(expected, rel=0.02)


def test_weighted_pit_with_equal_weights_is_the_randomised_rank():
    values = np.array([0.3, 0.1, 0.7, 0.5])
    assert cal.weighted_pit(values, 0.4, None, 0.25) == pytest.approx((2 + 0.25) / 5)
    assert cal.weighted_pit(values, 0.4, np.zeros(4), 0.25) == pytest.approx((2 + 0.25) / 5)
    # all the weight on the draws above the truth: the PIT falls to u / (n + 1)
    assert cal.weighted_pit(values, 0.4, np.array([-50.0, -50.0, 0.0, 0.0]), 0.5) == pytest.approx(0.5 / 5, abs=1e-6)


def test_flag_rate_is_the_tests_rejection_rate_on_subsets():
    """Subsets without replacement of a pool of independent simulations are independent simulations themselves: the
    rate is unbiased for the test's rejection rate over pools (alpha on uniform PITs, though one pool's estimate
    varies around it), near 1 on skewed PITs; a pool the size of the test gives its one verdict."""
    rng = np.random.default_rng(5)
    uniform = [{"simulation": i, "pit": {"a": u, "b": v}} for i, (u, v) in enumerate(rng.uniform(size=(600, 2)))]
    skewed = [{"simulation": i, "pit": {"a": u**2, "b": v}} for i, (u, v) in enumerate(rng.uniform(size=(600, 2)))]
    assert cal.flag_rate(skewed, 0.05, 100, resamples=300) > 0.9
    assert cal.flag_rate(uniform, 0.05, 100, resamples=300) < 0.3
    assert cal.flag_rate(skewed[:100], 0.05, 100) == 1.0
    with pytest.raises(cal.CalibrationError, match="at 100 simulations needs at least as many records, got 50"):
        cal.flag_rate(uniform[:50], 0.05, 100)


@pytest.mark.slow  # 8 s of fitting; make test-slow
def test_a_case_with_an_injected_error_is_flagged(prepared, records, tmp_path):
    """The same simulations under a fit that spreads the dyad intercepts three times its sd (importance weights, no
    refit): the test flags it at six simulations and at most of its subsets of three; the case as it is passes. The intercept
    shift's weights are smooth (Pareto k well below 0.7)."""
    from coupproof.stages.calibration import case_power

    rows = {r["error"]: r for r in case_power(prepared.case, records)}
    scaled = rows[cal.INJECTIONS["group_sd_scale"].format(value=3.0)]
    assert not rows["none (the case as it is)"]["flagged"]
    assert scaled["flagged"] and scaled["flag_rate"] > 0.5 and (scaled["simulations"], scaled["pool"]) == (3, 6)
    assert records[0]["injected"]["group_sd_scale=3"]["pit"]["dyad_sd"] > 0.9  # the truth above the scaled draws
    assert rows[cal.INJECTIONS["intercept_shift"].format(value=1.0)]["max_khat"] < 0.7
    assert len(rows) == 4 and {r["pool"] for r in rows.values()} == {6}  # the case, the scale, two shifts
    assert scaled["worst_quantity"] in ("dyad_sd", cal.LOGLIK) and scaled["worst_mean_pit"] != 0.5
    frame = simulated_panel(n_dyads=10, years=4, seed=3)
    with pytest.raises(cal.CalibrationError, match="inject group_sd_scale needs a group intercept, which '{t1}'"):
        cal.prepare_case(_case(formula="{t1}", inject={"group_sd_scale": 1.2}), frame, specs={"t1": SPEC})
    with pytest.raises(cal.CalibrationError, match="inject: intercept_shift must be a number or a list of numbers"):
        bad = tmp_path / "cases.toml"
        bad.write_text('[cases.x]\nformula = "{m4} + (1 | dyad)"\ninject = { intercept_shift = "big" }\n')
        cal.load_cases(bad)
    with pytest.raises(cal.CalibrationError, match="inject: unknown error 'slope_shift'"):
        bad = tmp_path / "cases.toml"
        bad.write_text('[cases.x]\nformula = "{m4} + (1 | dyad)"\ninject = { slope_shift = 1.0 }\n')
        cal.load_cases(bad)


@pytest.mark.slow  # 17 s of fitting; make test-slow
def test_a_model_compiled_once_takes_each_new_outcome():
    """Calibration compiles a case's model once per process and gives it each simulated outcome. With a hurdle
    (whose count part's rows, standardiser and scale map follow the outcome too), the second fit, which reuses the
    first one's compiled model, must follow its own outcome (about 60% events, counts near 5), not the first's
    (about 5% events, counts near 1)."""
    from inference import fitting
    from inference.settings import SamplerSettings
    from models.specs import ModelSpec

    frame = simulated_panel(n_dyads=40, years=8, seed=3).assign(count=0.0)
    spec = ModelSpec("h", "count ~ cb * threat + (1 | dyad)", family="hurdle_poisson")
    data = cal.case_data(_case(formula="{t1} + (1 | dyad)"), frame, spec)
    priors = parse_priors({}, "default")
    rng = np.random.default_rng(0)
    settings = SamplerSettings(sampler="nutpie", draws=100, tune=100, chains=1, seed=1, ess_min=1)
    means = []
    for share, extra in ((0.05, 0.0), (0.6, 4.0)):
        y = (rng.uniform(size=len(data.y)) < share) * (1 + rng.poisson(extra, len(data.y)))
        tree, _ = fitting.fit(cal.with_outcome(data, y), priors, settings, None, group_outputs=False,
                              reuse="test-case")
        post = tree["posterior"]
        means.append((float(post["intercept"].mean()), float(np.exp(post["count_intercept"]).mean())))
    assert list(fitting._COMPILED) == ["test-case"]
    assert means[0][0] < -2.0 and means[1][0] > 0.0, means  # the share of positive rows
    assert means[0][1] < 1.0 and means[1][1] > 3.0, means  # the mean count (zero-truncated) among them


@pytest.mark.slow  # 9 s of fitting; make test-slow
def test_a_hurdles_count_part_is_drawn_given_its_simulated_positive_rows():
    """The count part is scaled and centred on the rows its likelihood uses, so each simulation's count quantities
    must be those of its own positive rows: the intercept of the average positive row (the sampled
    count_intercept_centred) is the log of their mean expected count under that simulation's count_intercept and
    per-sd slopes, with the rows standardised on themselves."""
    from models.builders import Standardiser
    from models.specs import ModelSpec

    frame = simulated_panel(n_dyads=40, years=8, seed=3)
    spec = ModelSpec("h", f"{cal.OUTCOME} ~ cb * threat + (1 | dyad)", family="hurdle_poisson")
    data = cal.case_data(_case(family="hurdle_poisson"), frame, spec)  # outcome: a template, half the rows positive
    priors = {**cal.case_priors(_case(family="hurdle_poisson"), data),
              **parse_priors({"count_slopes": {"dist": "Normal", "mu": 0.0, "sigma": 0.5}}, "narrow")}
    truth, y = simulate(data, priors, 3, seed=5)
    for i in range(3):
        positive = y[i] > 0
        rows = data.count_X[positive]
        Z = Standardiser.from_design(rows).transform(rows)
        eta = float(truth["count_intercept"][i]) + Z @ np.asarray(truth["count_beta"][i])
        assert np.log(np.mean(np.exp(eta))) == pytest.approx(float(truth["count_intercept_centred"][i]), abs=1e-8)
        assert (y[i][positive] >= 1).all() and positive.sum() not in (0, len(y[i]))
    # with two expected events some simulations have none, where a hurdle is not defined: they are redrawn
    few = {**priors, **cal.case_priors(_case(family="hurdle_poisson", events=2.0), data)}
    few = {**few, "count_slopes": priors["count_slopes"]}
    truth, y = simulate(data, few, 12, seed=5)
    empty = ~(y > 0).any(axis=1)
    assert empty.any()
    kept, y2 = cal.with_a_count(data, few, 5, truth, y)
    assert (y2 > 0).any(axis=1).all() and np.array_equal(y2[~empty], y[~empty])
    for name in ("coef", "count_coef", "dyad_sd"):
        np.testing.assert_array_equal(kept[name].values[~empty], truth[name].values[~empty])
    i = int(np.flatnonzero(empty)[0])  # a redrawn simulation's count part is that of its own positive rows
    rows = data.count_X[y2[i] > 0]
    eta = float(kept["count_intercept"][i]) + Standardiser.from_design(rows).transform(rows) @ np.asarray(
        kept["count_beta"][i])
    assert np.log(np.mean(np.exp(eta))) == pytest.approx(float(kept["count_intercept_centred"][i]), abs=1e-8)
