"""Bayesian models: priors config, the marginalised and the plain model agreeing, parameter recovery, and the
fit file round trip. Small simulated panels and few draws keep this inside CI's budget."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from inference.fitting import SamplerSettings, fit
from inference.store import FitFileError, load_fit, save_fit
from models.builders import build_model
from models.design import model_data
from models.priors import DISTRIBUTIONS, PriorError, load_priors, parse_priors
from models.specs import PAPER_MODELS, ModelSpec, SpecError, load_specs
from simulate import SPEC, simulated_panel

TRUTH = {"coef[Intercept]": -4.0, "coef[cb]": 0.8, "coef[threat]": 0.5, "coef[cb:threat]": -0.6, "dyad_sd": 1.0}


def small_fit(seed: int, method: str = "marginal", draws: int = 250):
    """A recovery fit with nutpie, the default sampler (numba: compiled once, cached between runs); the plain
    model's 200 dyad effects take the diagonal mass matrix (a low-rank one costs more than it saves there)."""
    frame = simulated_panel(n_dyads=200, years=15, beta=(-4.0, 0.8, 0.5, -0.6), sigma=1.0, seed=seed)
    data = model_data(frame, SPEC)
    settings = SamplerSettings(sampler="nutpie", draws=draws, tune=draws, chains=2, seed=seed,
                               adaptation="diag" if method == "plain" else "low_rank")
    return fit(data, load_priors(), settings, method, loglik_every=25)


@pytest.fixture(scope="module")
def marginal_fit():
    return small_fit(11)


def test_default_priors_and_base_rate():
    priors = load_priors()
    assert set(priors) == {"intercept", "slopes", "group_sd", "year_sd", "count_intercept", "count_slopes",
                           "count_alpha", "cutpoints"}
    # design-neutral: the central 90% of the average group's log-odds spans event rates from 1e-5 to 0.99
    low, high = stats.norm.ppf([0.05, 0.95], priors["intercept"].kwargs["mu"], priors["intercept"].kwargs["sigma"])
    assert low < np.log(1e-5 / (1 - 1e-5)) and high > np.log(0.99 / 0.01)
    assert priors["intercept"].applies_to == "average_row"
    assert priors["group_sd"].dist == "HalfNormal"


@pytest.mark.parametrize("config, message", [
    ({"slope": {"dist": "Normal", "sigma": 1}}, "unknown prior parameter\\(s\\) slope"),
    ({"slopes": {"dist": "Gaussian", "sigma": 1}}, "\\[slopes\\] unknown distribution 'Gaussian'"),
    ({"slopes": {"dist": "Normal", "sd": 1}}, "\\[slopes\\] Normal takes sigma, mu; unknown: sd; missing: sigma"),
    ({"slopes": {"dist": "Normal", "sigma": -1}}, "\\[slopes\\] sigma must be at least 1e-06 \\(positive\\), got -1"),
    ({"group_sd": {"dist": "Normal", "sigma": 1}}, "\\[group_sd\\] is a standard deviation"),
    ({"dyad_sd": {"dist": "HalfNormal", "sigma": 1}}, "unknown prior parameter\\(s\\) dyad_sd; known: intercept"),
    ({"cutpoints": {"dist": "HalfNormal", "sigma": 1}}, "\\[cutpoints\\] cut points may be negative"),
    ({"intercept": {"dist": "Normal", "base_rate": 2, "sigma": 1}}, "base_rate must be a number in \\(0, 1\\)"),
    ({"slopes": {"nu": 3, "beta": 1}}, "\\[slopes\\] StudentT takes nu, sigma, mu; unknown: beta"),
])
def test_prior_config_errors(config, message):
    with pytest.raises(PriorError, match=message):
        parse_priors(config, "test.toml")


def test_prior_file_errors(tmp_path):
    with pytest.raises(PriorError, match="prior file not found"):
        load_priors(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[slopes\n")
    with pytest.raises(PriorError, match="bad.toml: not valid TOML"):
        load_priors(bad)
    good = tmp_path / "student.toml"
    good.write_text('[slopes]\ndist = "StudentT"\nnu = 3\nsigma = 2.5\n')
    # a partial entry keeps the default's scale rule (it changes the distribution, not what the prior is on)
    assert load_priors(good)["slopes"].describe() == "StudentT(nu=3, sigma=2.5) on rescaled inputs (gelman2008)"
    good.write_text('[slopes]\ndist = "StudentT"\nnu = 3\nsigma = 2.5\nscale_rule = "per_sd"\n')
    assert load_priors(good)["slopes"].describe() == "StudentT(nu=3, sigma=2.5)"


def test_marginal_fit_recovers_truth_and_saves(marginal_fit, tmp_path):
    idata, diagnostics = marginal_fit
    summary = diagnostics.table
    for name, truth in TRUTH.items():
        assert summary.loc[name, "hdi94_lb"] <= truth <= summary.loc[name, "hdi94_ub"], name
    assert idata["log_likelihood"]["dyad_loglik"].shape == (2, 10, 200)
    effects = idata["group_effects"]
    assert np.isfinite(np.asarray(effects["effect_mean"])).all()
    frame = simulated_panel(n_dyads=200, years=15, seed=11)  # the group labels: each dyad's two state codes
    first = frame.groupby(frame["ccode_a"] * 10_000 + frame["ccode_b"]).first()
    np.testing.assert_array_equal(np.asarray(effects["ccode_a"]), first["ccode_a"].to_numpy())
    np.testing.assert_array_equal(np.asarray(effects["ccode_b"]), first["ccode_b"].to_numpy())
    assert json.loads(idata.attrs["sampler"])["draws"] == 250
    path = save_fit(idata, tmp_path / "fit.nc")
    loaded = load_fit(path)
    np.testing.assert_array_equal(np.asarray(loaded["posterior"]["coef"]), np.asarray(idata["posterior"]["coef"]))
    assert loaded.attrs["model"] == "t1" and loaded.attrs["method"] == "marginal"


def test_fit_file_errors(tmp_path):
    with pytest.raises(FitFileError, match="fit file not found"):
        load_fit(tmp_path / "absent.nc")
    corrupt = tmp_path / "corrupt.nc"
    corrupt.write_bytes(b"not netcdf")
    with pytest.raises(FitFileError, match="corrupt.nc: not a readable fit file"):
        load_fit(corrupt)


@pytest.mark.slow  # 8 s of fitting; make test-slow
def test_marginal_and_plain_models_agree(marginal_fit):
    """Same data and priors: posterior means within a few Monte Carlo standard errors."""
    _, marginal = marginal_fit
    _, plain = small_fit(11, method="plain")
    for name in TRUTH:
        a, b = marginal.table.loc[name], plain.table.loc[name]
        mcse = np.hypot(a["mcse_mean"], b["mcse_mean"])
        assert abs(a["mean"] - b["mean"]) < 4 * mcse + 0.02, name


@pytest.mark.parametrize("seed", [21, pytest.param(22, marks=pytest.mark.slow)])  # a second seed: make test-slow
def test_recovery_across_seeds(seed):
    _, diagnostics = small_fit(seed, draws=200)
    for name, truth in TRUTH.items():
        row = diagnostics.table.loc[name]
        assert row["hdi94_lb"] <= truth <= row["hdi94_ub"], (seed, name)


def test_scale_priors_with_a_symmetric_twin_are_sampled_signed():
    """dyad_sd = |dyad_sd_signed| with the mirrored prior: same posterior, no log-scale tail near zero."""
    data = model_data(simulated_panel(n_dyads=20, years=5), SPEC)
    model = build_model(data, load_priors()).model
    assert {v.name for v in model.free_RVs} == {"intercept_centred", "beta_rescaled", "dyad_sd_signed"}
    gamma = parse_priors({"group_sd": {"dist": "Gamma", "alpha": 2, "beta": 2}})
    assert "dyad_sd" in {v.name for v in build_model(data, gamma).model.free_RVs}  # no twin: log transform


@pytest.mark.parametrize("entry", [
    {"dist": "HalfNormal", "sigma": 1.5},
    {"dist": "HalfStudentT", "nu": 3, "sigma": 1.0},
    {"dist": "HalfCauchy", "beta": 1.0},
])
def test_signed_twin_density_is_the_half_density_mirrored(entry):
    """The twin's density at +s and -s is half the half-distribution's density at s, for every twin."""
    import pymc as pm

    prior = parse_priors({"group_sd": entry})["group_sd"]
    with pm.Model() as model:
        prior.create_scale("dyad_sd")
    signed = model["dyad_sd_signed"]
    half_rv = DISTRIBUTIONS[prior.dist][0].dist(**prior.kwargs)
    for s in (0.3, 1.0, 2.7):
        expected = float(pm.logp(half_rv, s).eval()) - np.log(2)
        for value in (s, -s):
            assert float(pm.logp(signed, value).eval()) == pytest.approx(expected, rel=1e-7)  # PyMC keeps some constants in float32


@pytest.mark.slow  # 7 s of fitting; make test-slow
def test_year_effects_and_groupings_build_and_sample():
    frame = simulated_panel(n_dyads=60, years=8, beta=(-3.0, 0.8, 0.5, -0.6), seed=3)
    spec = ModelSpec("t1s", "y ~ cb * threat + (1 | state_a) + (1 | year)", sample="sample")
    assert spec.group == "state_a" and spec.year_effects and spec.group_sd == "state_a_sd"
    data = model_data(frame, spec)
    assert data.n_groups == frame["ccode_a"].nunique() and list(data.year_labels) == list(range(8))
    idata, diagnostics = fit(data, load_priors(), SamplerSettings(sampler="nutpie", draws=60, tune=60), "marginal")
    assert idata["posterior"]["year_effect"].shape == (2, 60, 8)
    assert {"year_sd", "state_a_sd"} <= set(diagnostics.table.index)
    loglik = idata["log_likelihood"]["state_a_loglik"]
    assert loglik.shape == (2, 30, data.n_groups)
    np.testing.assert_array_equal(np.asarray(loglik["ccode_a"]), np.sort(frame["ccode_a"].unique()))


@pytest.mark.parametrize("family", ["hurdle_poisson", "hurdle_negbinomial"])
def test_hurdle_count_part_families(family):
    frame = simulated_panel(n_dyads=80, years=10, beta=(-1.5, 0.8, 0.5, -0.6), seed=4)
    frame["y"] = frame["y"] * (1 + np.random.default_rng(4).poisson(1.5, len(frame)))
    spec = ModelSpec("th", "y ~ cb * threat + (1 | dyad)", family=family, sample="sample", count_formula="~ cb")
    built = build_model(model_data(frame, spec), load_priors())
    names = {v.name for v in built.model.free_RVs}
    assert ("count_alpha" in names) == (family == "hurdle_negbinomial")
    assert list(built.model.coords["count_coef_term"]) == ["Intercept", "cb"]
    assert np.isfinite(built.model.compile_logp()(built.model.initial_point()))
    assert built.extra["n_positive"] == int((frame["y"] > 0).sum())


def test_pymc_samples_the_marginal_model():
    """PyMC's own NUTS (C backend, the Op's `perform`); one chain keeps it in this process."""
    data = model_data(simulated_panel(n_dyads=40, years=6, sigma=1.0), SPEC)
    idata, _ = fit(data, load_priors(), SamplerSettings(sampler="pymc", draws=30, tune=30, chains=1), "marginal")
    assert np.isfinite(np.asarray(idata["posterior"]["coef"])).all() and idata["posterior"].sizes["draw"] == 30


@pytest.mark.slow  # 8 s of JAX compiling; make test-slow
def test_numpyro_samples_the_marginal_model():
    """The JAX path: numpyro differentiates the kernel's host callback through its custom VJP."""
    data = model_data(simulated_panel(n_dyads=40, years=6, sigma=1.0), SPEC)
    idata, _ = fit(data, load_priors(), SamplerSettings(sampler="numpyro", draws=40, tune=40), "marginal")
    assert np.isfinite(np.asarray(idata["posterior"]["coef"])).all()


def test_specs_from_config(tmp_path):
    path = tmp_path / "specs.toml"
    path.write_text('[m4_undirected]\nbase = "m4"\nformula = "new_defense_pact ~ counterbalancing_a * threat_b + '
                    '(1 | undirected_dyad) + (1 | year)"\n\n'
                    '[mine]\nformula = "new_defense_pact ~ counterbalancing_a * threat_b + (1 | dyad)"\n'
                    'sample = "sample_no_controls"\n')
    specs = load_specs(path)
    assert specs["m4_undirected"].sample == PAPER_MODELS["m4"].sample
    assert specs["m4_undirected"].group == "undirected_dyad" and specs["m4_undirected"].year_effects
    assert specs["mine"].interaction_term == "counterbalancing_a:threat_b" and specs["mine"].group == "dyad"
    assert specs["mine"].family == "bernoulli" and specs["mine"].fit_method == "marginal"


@pytest.mark.parametrize("text, message", [
    ('[m4]\nbase = "m1"\n', "would replace the model m4"),
    ('[x]\nbase = "m9"\n', "base 'm9' is not a known model"),
    ('[x]\nbase = "m4"\ncolour = "red"\n', "unknown field\\(s\\) colour"),
    ('[x]\nfamily = "bernoulli"\n', "\\[x\\] missing field\\(s\\) formula"),
    ('[x]\nbase = "m4"\nfamily = "probit"\n', "model x: family must be one of bernoulli, hurdle_poisson"),
    ('[x]\nbase = "m4"\nformula = "y ~ a + (b | dyad)"\n', "model x: formula: the grouping dyad has group-specific slopes"),
    ('[x]\nbase = "m4"\nformula = 3\n', "model x: formula must be a string, got 3"),
    ('[x]\nbase = "m4"\nfocus = ["threat_a", "threat_b"]\n', "focus \\['threat_a', 'threat_b'\\] must name a two-way"),
    ('[x]\nbase = "m4"\nmethod = "laplace"\n', "method must be one of marginal, plain"),
    ('[x\n', "not valid TOML"),
])
def test_spec_config_errors(tmp_path, text, message):
    path = tmp_path / "specs.toml"
    path.write_text(text)
    with pytest.raises(SpecError, match=message):
        load_specs(path)
