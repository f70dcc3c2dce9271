"""The general model layer end to end: a fit through `coupproof.api` saved, loaded and turned into effects; an ordinal
(cumulative) model and a State-A grouping recovering simulated parameters; and every family's log density at fixed
parameter points against a dense numerical integral over the group intercepts (marginal families: the kernel's
Potential; plain families: the sampled intercepts integrated out of the joint density). Sampling is kept small
(nutpie, a few hundred draws); the recovery tolerances are three posterior sds."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.special import expit, log_expit

import coupproof as cp
from inference.fitting import SamplerSettings, fit, log_densities, sample
from models.builders import CENTRED_INTERCEPT, build_model, information_centring, with_intercept
from models.design import model_data
from models.priors import load_priors, priors_config
from models.quadrature import QuadratureOptions, dense_dyad_loglik
from models.specs import ModelSpec, SpecError
from simulate import simulated_panel, synthetic_panel_file


def posterior_mean_sd(idata, name: str) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(idata["posterior"][name])
    values = values.reshape(-1, *values.shape[2:])
    return values.mean(axis=0), values.std(axis=0)


def assert_recovered(idata, name: str, truth, k: float = 3.0) -> None:
    """|posterior mean - truth| < k posterior sds, elementwise."""
    mean, sd = posterior_mean_sd(idata, name)
    truth = np.asarray(truth, dtype=float)
    assert np.all(np.abs(mean - truth) < k * sd), (name, mean, sd, truth)


# ---------------------------------------------------------------------------------------------------------------------
# (a) fit -> save -> load -> effects through the Python API

FORMULA = "new_defense_pact ~ counterbalancing_a * threat_a + (1 | dyad)"


@pytest.fixture(scope="module")
def api_fit(tmp_path_factory):
    """A brief marginal fit on the synthetic panel (120 dyads x 12 years), saved: (panel path, panel, fit, file)."""
    folder = tmp_path_factory.mktemp("api")
    path = synthetic_panel_file(folder / "panel.nc")
    panel = cp.load_panel(path)
    model = cp.Model(FORMULA, panel, name="roundtrip", sample="sample_no_controls", panel_path=path)
    fitted = model.fit(draws=100, tune=100, chains=2, seed=5, show=False)
    return path, panel, fitted, fitted.save(folder / "fit.nc")


def test_fit_save_load_round_trip(api_fit):
    path, panel, fitted, saved = api_fit
    spec = fitted.spec
    assert (spec.name, spec.formula, spec.family, spec.sample, spec.group) == (
        "roundtrip", FORMULA, "bernoulli", "sample_no_controls", "dyad")
    attrs = fitted.idata.attrs
    assert attrs["method"] == "marginal" and attrs["n_rows"] == 1440 and attrs["n_groups"] == 120
    for loaded in (cp.load_fit(saved), cp.load_fit(saved, panel=panel)):  # the recorded panel path, or the panel
        assert loaded.spec == spec
        assert json.loads(loaded.idata.attrs["priors"]) == priors_config(load_priors())
        assert loaded.idata.attrs["panel_checksum"] == panel.attrs["panel_checksum"] != ""
        assert loaded.idata.attrs["panel_path"] == str(path)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the same panel: no checksum warning
            model = loaded.model
        assert model.method == "marginal" and model.priors == fitted.model.priors
        pd.testing.assert_frame_equal(model.data.X, fitted.data.X)
        np.testing.assert_array_equal(np.asarray(loaded.idata["posterior"]["coef"]),
                                      np.asarray(fitted.idata["posterior"]["coef"]))
        assert loaded.population == ["coef", "dyad_sd"]


def test_the_ess_target_is_recorded_and_judged_again_on_loading(api_fit, tmp_path):
    """A fit's gate uses its own ESS target (`ess_min`, saved with the sampler settings): the brief fit passes at
    the default 400 only if its ESS allow, and the same draws judged at a target no fit of 200 draws can reach fail,
    also after loading; an impossible target is refused before sampling."""
    _, _, fitted, saved = api_fit
    assert json.loads(fitted.idata.attrs["sampler"])["ess_min"] == 400
    fitted.idata.attrs["sampler"], kept = json.dumps({"ess_min": 10_000}), fitted.idata.attrs["sampler"]
    try:
        strict = fitted.save(tmp_path / "strict.nc")
    finally:
        fitted.idata.attrs["sampler"] = kept
    problems = cp.load_fit(strict).diagnostics.problems
    assert any(p.startswith("ess_bulk < 10000 for ") for p in problems)
    assert not any("< 10000" in p for p in cp.load_fit(saved).diagnostics.problems)
    with pytest.raises(ValueError, match="ess_min must be a whole number from 1 to 1000000, got 0"):
        fitted.model.fit(draws=10, tune=10, ess_min=0)


def test_a_fit_on_a_panel_in_memory_needs_the_panel_to_reload(api_fit, tmp_path):
    """A fit made on a panel held in memory records no panel file: loading its model without `panel=` is an
    error, not a silent fall-back to build/panel.nc."""
    _, panel, fitted, _ = api_fit
    fitted.idata.attrs["panel_path"], path = "", fitted.idata.attrs["panel_path"]
    try:
        saved = fitted.save(tmp_path / "memory.nc")
    finally:
        fitted.idata.attrs["panel_path"] = path
    with pytest.raises(ValueError, match="model roundtrip: the fit records no data file .* pass panel="):
        cp.load_fit(saved).model
    assert cp.load_fit(saved, panel=panel).model.data.n_groups == 120


def test_group_effects_after_loading(api_fit):
    _, panel, fitted, saved = api_fit
    effects = cp.load_fit(saved, panel=panel).group_effects()
    pd.testing.assert_frame_equal(effects, fitted.group_effects())
    assert len(effects) == 120 and {"effect_mean", "effect_sd", "ccode_a", "ccode_b"} <= set(effects.columns)
    assert effects.index.name == "group"  # the model's group position, not named like the panel's dyad index
    labels = fitted.data.group_labels  # each group's state codes are those of its rows
    np.testing.assert_array_equal(effects[["ccode_a", "ccode_b"]].to_numpy(),
                                  labels.loc[effects.index, ["ccode_a", "ccode_b"]].to_numpy())
    assert effects["effect_sd"].gt(0).all() and effects["effect_mean"].abs().is_monotonic_decreasing
    # the simulated dyad sd is 1: the effects spread like it, shrunk towards 0
    assert 0.3 < effects["effect_mean"].std() < 1.2


def test_slopes_and_predictions_after_loading(api_fit):
    pytest.importorskip("inference.effects")
    _, panel, fitted, saved = api_fit
    loaded = cp.load_fit(saved, panel=panel)
    coef = fitted.idata["posterior"]["coef"].stack(sample=("chain", "draw")).transpose("sample", ...)
    b0, b_cb, b_threat, b_x = (coef.sel(coef_term=t).to_numpy() for t in
                              ("Intercept", "counterbalancing_a", "threat_a", "counterbalancing_a:threat_a"))
    cb = fitted.data.rows["counterbalancing_a"].mean()  # typical value: the sample mean

    predictions = loaded.predictions({"threat_a": [0.2, 0.8]}, kinds=["conditional"])
    assert list(predictions["threat_a"]) == [0.2, 0.8] and set(predictions["quantity"]) == {"Pr(y=1)"}
    for threat, estimate in zip(predictions["threat_a"], predictions["estimate"]):
        p = expit(b0 + b_cb * cb + b_threat * threat + b_x * cb * threat)
        assert estimate == pytest.approx(p.mean(), rel=1e-10)

    slopes = loaded.slopes("counterbalancing_a", by={"threat_a": [0.2, 0.8]}, kinds=["conditional"])
    assert list(slopes["threat_a"]) == [0.2, 0.8]
    for threat, estimate in zip(slopes["threat_a"], slopes["estimate"]):
        p = expit(b0 + b_cb * cb + b_threat * threat + b_x * cb * threat)
        assert estimate == pytest.approx((p * (1 - p) * (b_cb + b_x * threat)).mean(), rel=1e-6)
    population = loaded.predictions({"threat_a": [0.5]})
    assert set(population["kind"]) == {"conditional", "population"}


# ---------------------------------------------------------------------------------------------------------------------
# (b) ordinal recovery, (c) a State-A grouping with the marginal method

PRIORS = load_priors("regularising")  # Normal priors on the slopes themselves: the dense references below are simple


def settings(draws: int, seed: int, adaptation: str = "low_rank") -> SamplerSettings:
    return SamplerSettings(sampler="nutpie", draws=draws, tune=draws, chains=2, seed=seed, adaptation=adaptation)


@pytest.mark.slow  # 9 s of fitting; make test-slow
def test_ordinal_model_recovers_cut_points_and_slopes():
    """1500 rows in 50 groups (sd 0.5), four ordered categories: Pr(y <= k) = logit^-1(c_k - x b - b_g)."""
    rng = np.random.default_rng(42)
    groups, rows = 50, 30
    g = np.repeat(np.arange(groups), rows)
    x1, x2 = rng.normal(0.5, 1.0, g.size), rng.uniform(0, 2, g.size)
    coef, cuts, sd = np.array([0.9, -0.7]), np.array([-1.2, 0.4, 1.8]), 0.5
    latent = coef[0] * x1 + coef[1] * x2 + rng.normal(0, sd, groups)[g] + rng.logistic(size=g.size)
    frame = pd.DataFrame({"y": np.searchsorted(cuts, latent).astype(float), "x1": x1, "x2": x2,
                          "team": [f"team{i:02d}" for i in g]})
    spec = ModelSpec("ordinal", "y ~ x1 + x2 + (1 | team)", family="cumulative")
    data = model_data(frame, spec)
    assert spec.fit_method == "plain" and list(data.categories) == [0, 1, 2, 3] and data.n_groups == groups
    built = build_model(data, PRIORS)
    idata, _laplace = sample(built, settings(300, 7, "diag"))
    post = idata["posterior"]
    assert list(post["cut"].values) == ["0.0|1.0", "1.0|2.0", "2.0|3.0"]
    assert list(post["coef_term"].values) == ["x1", "x2"]
    assert_recovered(idata, "coef", coef)
    assert_recovered(idata, "cutpoints", cuts)
    assert_recovered(idata, "team_sd", sd)
    assert np.all(posterior_mean_sd(idata, "coef")[1] < 0.15)  # informative enough for the check to mean something
    # what `fit` does after sampling: the log prior and log-likelihood for power-scaling
    log_prior, _ = log_densities(built, spec, idata, None)  # despite the cut points' initial values
    assert {"beta", "team_sd_signed", "cutpoints_std"} <= set(log_prior.data_vars)


@pytest.mark.slow  # 12 s of fitting; make test-slow
def test_state_grouping_recovers_sd_and_slope_with_the_marginal_method():
    """40 States A with 100 rows each, a state intercept of sd 1: (1 | state_a) integrated out by the kernel."""
    rng = np.random.default_rng(8)
    states, rows = 40, 100
    state = np.repeat(np.arange(states), rows)
    x = rng.normal(0, 1, state.size)
    effect = rng.normal(0, 1.0, states)
    y = rng.binomial(1, expit(-1.5 + 0.7 * x + effect[state])).astype(float)
    frame = pd.DataFrame({"ccode_a": 100 + state, "ccode_b": rng.integers(500, 560, state.size), "x": x, "y": y})
    spec = ModelSpec("states", "y ~ x + (1 | state_a)")
    data = model_data(frame, spec)
    assert spec.fit_method == "marginal" and data.n_groups == states
    idata, _ = fit(data, load_priors(), settings(300, 3), loglik_every=10)
    assert_recovered(idata, "coef", [-1.5, 0.7])
    assert_recovered(idata, "state_a_sd", 1.0)
    sd_mean, sd_sd = posterior_mean_sd(idata, "state_a_sd")
    assert sd_sd < 0.25
    effects = idata["group_effects"]
    np.testing.assert_array_equal(effects["ccode_a"], 100 + np.arange(states))
    assert np.corrcoef(effects["effect_mean"], effect)[0, 1] > 0.85  # each state's effect recovered
    assert idata["log_likelihood"]["state_a_loglik"].shape == (2, 30, states)


# ---------------------------------------------------------------------------------------------------------------------
# (d) log densities against dense numerical integrals over the group intercepts

# PyTensor turns a prior's Python float arguments (sigma = 3.0) into float32 constants where that is lossless, and
# computes their logs in float32: each Normal log density is off by up to about 2e-8 (absolute).
FLOAT32_CONSTANTS = 1e-7


def normal_logpdf(value, group: str) -> float:
    kwargs = PRIORS[group].kwargs
    assert PRIORS[group].dist in ("Normal", "HalfNormal")
    return float(np.sum(stats.norm.logpdf(value, kwargs.get("mu", 0.0), kwargs["sigma"])))


def count_frame(seed: int = 1) -> pd.DataFrame:
    frame = simulated_panel(n_dyads=25, years=8, seed=seed, beta=(-1.5, 0.8, 0.5, -0.6), sigma=1.5)
    frame["y"] = frame["y"] * (1 + np.random.default_rng(seed).poisson(1.2, len(frame)))
    return frame


def truncated_count_loglik(family: str, k: np.ndarray, mu: np.ndarray, alpha: float | None) -> float:
    if family == "hurdle_poisson":
        dist = stats.poisson(mu)
    else:
        dist = stats.nbinom(alpha, alpha / (mu + alpha))  # PyMC's NegativeBinomial(mu, alpha)
    return float(np.sum(dist.logpmf(k) - np.log(dist.sf(0))))


@pytest.mark.parametrize("family", ["hurdle_poisson", "hurdle_negbinomial"])
def test_truncated_count_density_and_gradient_hold_for_large_counts(family):
    """The zero-truncated count log-density equals scipy's and its gradient in the log mean is finite and right
    where exp(-mu) underflows (mu 700-3,000; PyMC's Truncated gave NaN there, stalling fits of large counts)."""
    import pytensor
    import pytensor.tensor as pt

    from models.builders import zero_truncated_negbin_logp, zero_truncated_poisson_logp

    value, log_mu = pt.dvector("value"), pt.dscalar("log_mu")
    alpha = 1.7 if family == "hurdle_negbinomial" else None
    total = pt.sum(zero_truncated_poisson_logp(value, log_mu) if alpha is None
                   else zero_truncated_negbin_logp(value, log_mu, alpha))
    f = pytensor.function([value, log_mu], [total, pytensor.grad(total, log_mu)])
    k = np.array([1.0, 3.0, 740.0, 2500.0])
    for at in (-10.0, 0.5, 6.6, 7.0, 8.0):
        logp, grad = f(k, at)
        assert logp == pytest.approx(truncated_count_loglik(family, k, np.exp(at), alpha), rel=1e-9)
        step = 1e-6
        numeric = (truncated_count_loglik(family, k, np.exp(at + step), alpha)
                   - truncated_count_loglik(family, k, np.exp(at - step), alpha)) / (2 * step)
        assert np.isfinite(grad) and grad == pytest.approx(numeric, rel=1e-5, abs=1e-4)


def sampled_point(point: dict, method: str = "marginal") -> dict:
    """A point given by the intercept, as a model's sampler sees it: marginal fits sample the intercept plus half
    the group variance (the shift has Jacobian 1, so the density is the same function of the intercept)."""
    if method != "marginal":
        return point
    sd = float(point["dyad_sd_signed"])
    return {CENTRED_INTERCEPT if k == "intercept" else k: (v + 0.5 * sd**2 if k == "intercept" else v)
            for k, v in point.items()}


@pytest.mark.parametrize("family", ["bernoulli", "hurdle_poisson", "hurdle_negbinomial"])
@pytest.mark.parametrize("signed_sd", [0.3, -2.3, 5.0])
def test_marginal_log_density_is_the_dense_integral(family, signed_sd):
    """The model's log density at a point = log priors + sum over dyads of log ∫ prod_t Bernoulli(y_t > 0 |
    eta_t + b) N(b | 0, sd^2) db (a dense trapezoid centred on each dyad's mode) + the zero-truncated counts."""
    frame = count_frame() if family != "bernoulli" else simulated_panel(n_dyads=25, years=8, seed=1, sigma=1.5)
    spec = ModelSpec("t", "y ~ cb * threat + (1 | dyad)", family=family)
    data = model_data(frame, spec)
    built = build_model(data, PRIORS)
    assert built.method == "marginal" and built.model.potentials
    any_event = (data.y.to_numpy() > 0).astype(float)
    assert 10 < any_event.sum() < len(any_event) - 10
    point = {"intercept": np.array(-1.1), "beta": np.array([0.4, -0.3, 0.25]), "dyad_sd_signed": np.array(signed_sd)}
    sd = abs(signed_sd)
    Z = with_intercept(built.standardiser.transform(data.X))
    coef = np.concatenate([[point["intercept"]], point["beta"]])
    expected = (dense_dyad_loglik(data.groups, Z, coef, any_event, sd).sum()
                + normal_logpdf(point["intercept"], "intercept") + normal_logpdf(point["beta"], "slopes")
                + normal_logpdf(signed_sd, "group_sd"))
    if family != "bernoulli":
        point |= {"count_intercept": np.array(0.2), "count_beta": np.array([0.1, -0.2, 0.15])}
        alpha = None
        if family == "hurdle_negbinomial":
            alpha = 3.0
            point["count_alpha_log__"] = np.array(np.log(alpha))
            expected += stats.gamma.logpdf(alpha, PRIORS["count_alpha"].kwargs["alpha"],
                                           scale=1 / PRIORS["count_alpha"].kwargs["beta"])
        positive = data.y.to_numpy() > 0
        Zc = built.count_standardiser.transform(data.count_X)[positive]
        mu = np.exp(point["count_intercept"] + Zc @ point["count_beta"])
        expected += (truncated_count_loglik(family, data.y.to_numpy()[positive], mu, alpha)
                     + normal_logpdf(point["count_intercept"], "count_intercept")
                     + normal_logpdf(point["count_beta"], "count_slopes"))
    point = sampled_point(point)
    assert set(point) == {v.name for v in built.model.value_vars}
    logp = built.model.compile_logp(jacobian=False)(point)
    assert logp == pytest.approx(expected, rel=1e-9, abs=1e-8)


def integrate_out(logp, point: dict, name: str, n_groups: int, half_width: float = 9.0, nodes: int = 241) -> float:
    """log ∫ exp(logp) d z over the plain model's standard-normal group draws `name`, by the trapezoid rule in each
    z_g: the groups enter separately (checked at random points), so the G-dimensional integral is the product."""
    base = dict(point, **{name: np.zeros(n_groups)})
    at_zero = float(logp(base))
    rng = np.random.default_rng(0)
    for _ in range(3):  # logp(z) - logp(0) = sum_g [logp(z_g e_g) - logp(0)]
        z = rng.normal(0, 2, n_groups)
        parts = sum(logp(dict(base, **{name: np.eye(n_groups)[g] * z[g]})) - at_zero for g in range(n_groups))
        assert logp(dict(base, **{name: z})) - at_zero == pytest.approx(parts, rel=1e-10, abs=1e-10)
    grid = np.linspace(-half_width, half_width, nodes)
    total = at_zero
    for g in range(n_groups):
        values = np.array([logp(dict(base, **{name: np.eye(n_groups)[g] * u})) for u in grid]) - at_zero
        top = values.max()
        total += top + np.log(integrate.trapezoid(np.exp(values - top), grid))
    return float(total)


def ordinal_group_loglik(eta: np.ndarray, y: np.ndarray, cuts: np.ndarray, sd: float) -> float:
    """log ∫ prod_t Pr(y_t | eta_t + b) N(b | 0, sd^2) db by adaptive quadrature (scipy.integrate.quad)."""
    upper = np.append(cuts, np.inf)[y]
    lower = np.insert(cuts, 0, -np.inf)[y]

    def log_lik(b):  # log(expit(u) - expit(l)) = log expit(u) + log expit(-l) + log(1 - e^(l - u)), stably
        u, l = upper - eta - b, lower - eta - b
        return np.sum(log_expit(u) + log_expit(-l) + np.log(-np.expm1(l - u)))

    mode = -np.inf, 0.0
    for b in np.linspace(-6 * sd, 6 * sd, 241):
        mode = max(mode, (log_lik(b) + stats.norm.logpdf(b, 0, sd), b))
    value, _ = integrate.quad(lambda b: np.exp(log_lik(b) + stats.norm.logpdf(b, 0, sd) - mode[0]),
                              -12 * sd, 12 * sd, points=[mode[1]], epsabs=0, epsrel=1e-12, limit=400)
    return float(np.log(value) + mode[0])


def tiny_frame(seed: int = 4) -> pd.DataFrame:
    """Two groups of six rows."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"ccode_a": [2] * 6 + [20] * 6, "ccode_b": [200] * 6 + [365] * 6,
                         "x": rng.normal(0, 1, 12), "y": [0, 1, 2, 2, 1, 0, 0, 0, 1, 0, 2, 1.0]})


@pytest.mark.parametrize("sd", [0.3, 2.3, 5.0])
def test_plain_ordinal_density_integrates_to_the_marginal_likelihood(sd):
    """The plain (non-centred) cumulative model, with its group draws z integrated out of the joint density at a
    point, equals the log priors plus the dense marginal likelihood of each group (scipy quad over b)."""
    frame = tiny_frame()
    data = model_data(frame, ModelSpec("t", "y ~ x + (1 | dyad)", family="cumulative"))
    built = build_model(data, PRIORS)
    assert built.method == "plain" and data.n_groups == 2
    beta, cuts_std = np.array([0.6]), np.array([-0.8, 0.9])
    point = {"beta": beta, "dyad_sd_signed": np.array(sd),
             "cutpoints_std_ordered__": np.array([cuts_std[0], np.log(cuts_std[1] - cuts_std[0])])}
    assert set(point) | {"dyad_z"} == {v.name for v in built.model.value_vars}
    logp = built.model.compile_logp(jacobian=False)
    integrated = integrate_out(logp, point, "dyad_z", 2)
    eta = built.standardiser.transform(data.X) @ beta
    y = data.y.to_numpy().astype(int)
    expected = (sum(ordinal_group_loglik(eta[data.groups == g], y[data.groups == g], cuts_std, sd) for g in range(2))
                + normal_logpdf(beta, "slopes") + normal_logpdf(sd, "group_sd")
                + normal_logpdf(cuts_std, "cutpoints"))
    assert integrated == pytest.approx(expected, rel=1e-9, abs=FLOAT32_CONSTANTS)


@pytest.mark.parametrize("sd", [0.3, 2.3, 5.0])
def test_plain_bernoulli_density_integrates_to_the_kernel_reference(sd):
    """The plain logit with its z integrated out equals the marginal model's dense reference (dense_dyad_loglik)."""
    frame = tiny_frame().assign(y=lambda f: (f["y"] > 0).astype(float))
    data = model_data(frame, ModelSpec("t", "y ~ x + (1 | dyad)", method="plain"))
    built = build_model(data, PRIORS)
    assert built.method == "plain"
    point = {"intercept": np.array(0.3), "beta": np.array([-0.7]), "dyad_sd_signed": np.array(sd)}
    integrated = integrate_out(built.model.compile_logp(jacobian=False), point, "dyad_z", 2)
    Z = with_intercept(built.standardiser.transform(data.X))
    expected = (dense_dyad_loglik(data.groups, Z, np.array([0.3, -0.7]), data.y.to_numpy(), sd).sum()
                + normal_logpdf(0.3, "intercept") + normal_logpdf(-0.7, "slopes") + normal_logpdf(sd, "group_sd"))
    assert integrated == pytest.approx(expected, rel=1e-9, abs=FLOAT32_CONSTANTS)
    # and the marginal model of the same data gives the same density through the kernel
    marginal = build_model(model_data(frame, ModelSpec("t", "y ~ x + (1 | dyad)")), PRIORS)
    assert marginal.model.compile_logp(jacobian=False)(sampled_point(point)) == pytest.approx(
        expected, rel=1e-9, abs=FLOAT32_CONSTANTS)


@pytest.mark.parametrize("sd", [0.05, 0.3, 2.3, 5.0, 12.0])
def test_year_dummies_as_kernel_levels_give_the_full_design_density(sd):
    """C(year) dummies enter the kernel as level effects (one addition per row): the log density is the dense
    reference of the full design, at dyad sds from tiny to far beyond the posterior, with large dummy slopes."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"ccode_a": np.repeat([2, 20, 40, 41], 9), "ccode_b": np.repeat([200, 365, 2, 710], 9),
                          "year": np.tile(np.arange(1990, 1999), 4), "x": rng.normal(0, 1, 36),
                          "y": rng.binomial(1, 0.3, 36).astype(float)})
    data = model_data(frame, ModelSpec("t", "y ~ x + C(year) + (1 | dyad)"))
    positions, codes = data.categorical_levels()
    assert list(positions) == list(range(1, 9)) and list(codes[:9]) == list(range(9))
    built = build_model(data, PRIORS)
    beta = np.concatenate([[-0.7], rng.normal(0, 3, 8)])
    point = {"intercept": np.array(0.3), "beta": beta, "dyad_sd_signed": np.array(sd)}
    Z = with_intercept(built.standardiser.transform(data.X))
    expected = (dense_dyad_loglik(data.groups, Z, np.concatenate([[0.3], beta]), data.y.to_numpy(), sd).sum()
                + normal_logpdf(0.3, "intercept") + normal_logpdf(beta, "slopes") + normal_logpdf(sd, "group_sd"))
    assert built.model.compile_logp(jacobian=False)(sampled_point(point)) == pytest.approx(
        expected, rel=1e-9, abs=FLOAT32_CONSTANTS)


@pytest.mark.slow  # 12 s of fitting; make test-slow
def test_power_scaling_and_prior_set_refits_in_one_call(api_fit, tmp_path):
    """What `coupproof sensitivity` does, from the API: power-scaling of a fit, and refits under prior sets
    (serially, cached: a second call fits nothing)."""
    _, panel, fitted, _ = api_fit
    table = fitted.power_scaling()
    assert {"coef[counterbalancing_a:threat_a]", "dyad_sd"} <= set(table["parameter"])
    assert {"prior", "likelihood", "diagnosis"} <= set(table.columns)
    sets = tmp_path / "sets.toml"
    sets.write_text('[narrow]\nslopes = { dist = "Normal", mu = 0.0, sigma = 0.2 }\n')
    refits = fitted.model.refit_priors(sets, draws=30, tune=30, scheduler="serial", cache=tmp_path / "cache")
    assert set(refits) == {"default", "narrow"}
    narrow = refits["narrow"].idata
    assert narrow.attrs["prior_set"] == "narrow" and json.loads(narrow.attrs["priors"])["slopes"]["sigma"] == 0.2
    cached = sorted((tmp_path / "cache").iterdir())
    again = fitted.model.refit_priors(sets, draws=30, tune=30, scheduler="serial", cache=tmp_path / "cache")
    assert sorted((tmp_path / "cache").iterdir()) == cached
    np.testing.assert_array_equal(np.asarray(again["narrow"].idata["posterior"]["coef"]),
                                  np.asarray(narrow["posterior"]["coef"]))


def test_an_edited_panel_is_never_served_the_frame_of_the_original(tmp_path):
    """The long frame behind cp.Model is keyed by the panel's content: an in-place edit and a copy cut to fewer years
    (both keep the recorded panel_checksum) give models of their own data, and their fits record their own checksum."""
    panel = cp.load_panel(synthetic_panel_file(tmp_path / "panel.nc", n_dyads=30, years=6))
    full = cp.Model(FORMULA, panel, sample="sample_no_controls")
    cut = panel.sel(year=slice(1993, None))
    assert cut.attrs["panel_checksum"] == panel.attrs["panel_checksum"]
    assert len(cp.Model(FORMULA, cut, sample="sample_no_controls").data.y) == len(full.data.y) // 2
    panel["cold_war"] = panel["threat_a"] * 0 + 1.0  # in place: a new variable the next model can use
    edited = cp.Model("new_defense_pact ~ counterbalancing_a + cold_war + (1 | dyad)", panel,
                      sample="sample_no_controls")
    assert (edited.data.X["cold_war"] == 1.0).all()
    from inference.record import PanelRef

    assert PanelRef.of(cut).checksum != PanelRef.of(panel).checksum != panel.attrs["panel_checksum"]


def test_a_fit_is_not_saved_over_its_own_panel(api_fit):
    from data_prep.io import OutputPathError

    path, _panel, fitted, _file = api_fit
    before = path.read_bytes()
    with pytest.raises(OutputPathError, match="the fit would overwrite or write inside the input"):
        fitted.save(path)
    assert path.read_bytes() == before


@pytest.mark.slow  # 8 s of fitting; make test-slow
def test_a_fit_of_a_panel_read_from_a_file_finds_it_again(tmp_path, monkeypatch):
    """The README's quickstart: a panel read with cp.load_panel, fitted without naming its file, saved and loaded:
    the fit records the file (xarray keeps it in `encoding`) and cp.load_fit rebuilds the model from it. A copy
    changed in memory keeps `encoding` but not the file's content: its fit names no file."""
    path = synthetic_panel_file(tmp_path / "panel.nc", n_dyads=30, years=6)
    panel = cp.load_panel(path)
    model = cp.Model(FORMULA, panel, sample="sample_no_controls")
    assert model.panel_path == str(path)
    fitted = model.fit(draws=30, tune=30, chains=1, seed=1, show=False)
    assert cp.load_fit(fitted.save(tmp_path / "fit.nc")).model.data.n_groups == 30
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with monkeypatch.context() as m:  # a file named relative to the folder the fit is made in, loaded elsewhere
        m.chdir(tmp_path)
        assert cp.Model(FORMULA, "panel.nc", sample="sample_no_controls").panel_ref.absolute == str(path.resolve())
        fitted.idata.attrs["panel_path"] = "panel.nc"  # as that model's fit records it
        fitted.save("relative.nc")
        m.chdir(elsewhere)
        assert cp.load_fit("../relative.nc").model.panel_path == str(path.resolve())  # found where it was
    path.rename(tmp_path / "moved.nc")  # the recorded file is gone: one error naming it and what to do
    with pytest.raises(ValueError, match=r"the data file the fit records, .*panel.nc, is not found from .*; run "
                                         r"from the folder the fit was made in or pass panel="):
        cp.load_fit(tmp_path / "fit.nc").model
    cut = panel.sel(year=slice(1993, None))
    assert cut.encoding.get("source") == str(path) and cp.Model(FORMULA, cut, sample="sample_no_controls").panel_path == ""


def test_the_trace_plot_gives_each_coefficient_a_labelled_row(api_fit):
    _path, _panel, fitted, _file = api_fit
    figure = fitted.plot_trace()
    rows = 4 + 1  # the four coefficients and the dyad sd
    assert len(figure.axes) == 2 * rows
    titles = " ".join(ax.get_title() + ax.get_ylabel() + ax.get_xlabel() for ax in figure.axes)
    assert "counterbalancing_a:threat_a" in titles and "dyad_sd" in titles


def test_the_frequentist_twin_recovers_a_random_intercept_logit():
    """Model.fit_mle: the random-intercept logit by maximum likelihood (kernel, exact quadrature), a tidy table; the
    paper's pooled fits print as their tables, not as covariance matrices."""
    frame = simulated_panel(n_dyads=400, years=10, seed=8, sigma=1.2)
    model = cp.Model("y ~ cb * threat + (1 | dyad)", frame, name="sim")
    table = model.fit_mle()
    truth = pd.Series({"Intercept": -2.0, "cb": 0.8, "threat": 0.5, "cb:threat": -0.6, "dyad_sd": 1.2})
    assert list(table.index) == list(truth.index) and list(table.columns) == ["estimate", "se", "z", "p"]
    assert (((table["estimate"] - truth) / table["se"]).abs() < 3).all(), table
    assert table.attrs["converged"] and table.attrs["groups"] == 400 and np.isnan(table.loc["dyad_sd", "p"])
    text = repr(model.fit_frequentist()[0])
    assert text.startswith("sim (logit: logit): 4,000 rows, 400 clusters") and "[[" not in text
    with pytest.raises(SpecError, match="model h: the marginal MLE is for a logit with one group intercept"):
        cp.Model("y ~ cb + (1 | dyad)", frame, name="h", family="hurdle_poisson").fit_mle()


def test_effects_at_new_rows_and_averaged_over_the_sample(api_fit):
    """newdata= evaluates at given rows (labelled `row`); average=True averages each draw over the sample's rows
    (marginaleffects' avg_* default): the mean of the row-wise draws, not the effect at typical values."""
    _, _, fitted, _ = api_fit
    rows = fitted.model.data.rows
    some = rows.iloc[[0, 5, 40]]
    at_rows = fitted.predictions(newdata=some, kinds=("conditional",), every=4, draws=True)
    assert at_rows.sizes["point"] == 3 and list(at_rows["row"].values) == [0, 1, 2]
    every_row = fitted.predictions(newdata=rows, kinds=("conditional",), every=4, draws=True)
    averaged = fitted.predictions(average=True, kinds=("conditional",), every=4, draws=True)
    np.testing.assert_allclose(averaged.values, every_row.mean("point").values, rtol=1e-12)
    typical = fitted.predictions(kinds=("conditional",), every=4, draws=True)
    assert not np.allclose(averaged.values, typical.isel(point=0).values)  # Jensen: not the typical row's
    slope = fitted.slopes("counterbalancing_a", average=True, kinds=("conditional",), every=4)
    rowwise = fitted.slopes("counterbalancing_a", newdata=rows, kinds=("conditional",), every=4, draws=True)
    assert slope["estimate"].iloc[0] == pytest.approx(float(rowwise.mean(("point", "sample")).values[0, 0]))
    contrast = fitted.comparisons("counterbalancing_a", values=(0.5, 1.5), average=True, every=4)
    assert set(contrast["kind"]) == {"conditional", "population"} and len(contrast) == 2
    with pytest.raises(ValueError, match="with newdata or average=True the rows themselves are the points"):
        fitted.slopes("counterbalancing_a", by="threat_a", average=True)
    with pytest.raises(ValueError, match="newdata lacks the model's variable"):
        fitted.predictions(newdata=some.drop(columns="threat_a"))


@pytest.mark.parametrize("dyad_sd", [0.3, -2.3, 5.0])
def test_sampled_groupings_enter_the_kernel_as_offsets(dyad_sd):
    """Sender and receiver intercepts beside the dyad's: (1 | dyad) + (1 | state_a) + (1 | state_b). The kernel
    integrates the grouping with the most groups (the dyad) out, the states' intercepts are sampled and reach it as
    one offset per row; the log density is the dense integral over the dyad effect with those offsets added, from a
    small to a far dyad sd: non-centred, and partially centred by information (the same density in the centred
    coordinates, with the log Jacobian -sum_g c_g log sd)."""
    rng = np.random.default_rng(6)
    pairs = [(a, b) for a in range(2, 10) for b in range(2, 10) if a != b]
    frame = pd.DataFrame([(a, b, t) for a, b in pairs for t in range(3)], columns=["ccode_a", "ccode_b", "year"])
    frame["cb"] = rng.normal(size=len(frame))
    frame["y"] = rng.binomial(1, 0.3, len(frame)).astype(float)
    data = model_data(frame, ModelSpec("t", "y ~ cb + (1 | dyad) + (1 | state_a) + (1 | state_b)"))
    assert data.spec.integrate == "dyad" and list(data.sampled) == ["state_a", "state_b"]
    built = build_model(data, PRIORS)  # non-centred, the default
    point = {"intercept": np.array(-0.8), "beta": np.array([0.4]), "dyad_sd_signed": np.array(dyad_sd),
             "state_a_sd_signed": np.array(0.7), "state_a_z": rng.normal(size=8),
             "state_b_sd_signed": np.array(-1.2), "state_b_z": rng.normal(size=8)}
    offset = (0.7 * point["state_a_z"][data.sampled["state_a"][0]]
              + 1.2 * point["state_b_z"][data.sampled["state_b"][0]])
    Z = np.column_stack([with_intercept(built.standardiser.transform(data.X)), offset])
    coef = np.concatenate([[point["intercept"]], point["beta"], [1.0]])
    expected = (dense_dyad_loglik(data.groups, Z, coef, data.y.to_numpy(), abs(dyad_sd)).sum()
                + normal_logpdf(point["intercept"], "intercept") + normal_logpdf(point["beta"], "slopes")
                + normal_logpdf([dyad_sd, 0.7, -1.2], "group_sd")
                + stats.norm.logpdf(np.concatenate([point["state_a_z"], point["state_b_z"]])).sum())
    point = sampled_point(point)
    assert set(point) == {v.name for v in built.model.value_vars}
    assert built.model.compile_logp(jacobian=False)(point) == pytest.approx(expected, rel=1e-9, abs=1e-8)
    for name, sd in (("state_a", 0.7), ("state_b", 1.2)):
        codes, labels = data.sampled[name]
        weights = information_centring(data, codes, len(labels))
        assert weights.max() > 0.5
        point[f"{name}_raw"] = point.pop(f"{name}_z") * sd**weights
        expected -= weights.sum() * np.log(sd)
    centred = build_model(data, PRIORS, quadrature=QuadratureOptions(sampled_centring="information"))
    assert centred.model.compile_logp(jacobian=False)(point) == pytest.approx(expected, rel=1e-9, abs=1e-8)
    named = model_data(frame, ModelSpec("t", "y ~ cb + (1 | dyad) + (1 | state_a)", integrate="state_a"))
    assert named.spec.group == "state_a" and list(named.sampled) == ["dyad"]


@pytest.mark.parametrize("method", ["marginal", "plain"])
@pytest.mark.slow  # 5 s of fitting; make test-slow
def test_a_fit_with_sender_receiver_and_dyad_intercepts_round_trips(tmp_path, method):
    """Fit, save, load: the sampled groupings' sds are population parameters (diagnosed, power-scaled), the group
    effects are the integrated grouping's, and population-averaged predictions average over every grouping."""
    rng = np.random.default_rng(9)
    pairs = [(a, b) for a in range(2, 14) for b in range(2, 14) if a != b]
    frame = pd.DataFrame([(a, b, t) for a, b in pairs for t in range(2)], columns=["s1", "s2", "year"])
    frame["x"] = rng.normal(size=len(frame))
    frame["y"] = rng.binomial(1, 0.25, len(frame)).astype(float)
    model = cp.Model("y ~ x + (1 | s1:s2) + (1 | s1) + (1 | s2)", frame, name="srd", method=method)
    fitted = model.fit(draws=60, tune=60, chains=2, show=False)
    assert {"s1_sd", "s2_sd", "s1_s2_sd"} <= set(fitted.diagnostics.table.index)
    again = cp.load_fit(fitted.save(tmp_path / "srd.nc"), panel=frame)
    assert again.spec.integrate == "s1_s2" and again.model.data.n_groups == 132
    if method == "marginal":
        assert list(again.group_effects().columns[-2:]) == ["s1", "s2"]
    predicted = again.predictions(every=6).set_index("kind")["estimate"]
    assert predicted["population"] > predicted["conditional"]  # rare events: averaging over the groups raises it


def test_partially_centred_groupings_are_the_same_model():
    """Information centring samples r_g ~ N(0, sd^c_g) with b_g = sd^(1 - c_g) r_g: at the same sd and intercepts
    b_g its log density is the non-centred one's plus the log Jacobian -sum_g c_g log sd; a group without events is
    non-centred (c_g 0), one with events partly centred; `{name}_z` is b_g / sd in both."""
    rng = np.random.default_rng(4)
    pairs = [(a, b) for a in range(2, 10) for b in range(2, 10) if a != b]
    frame = pd.DataFrame([(a, b, t) for a, b in pairs for t in range(3)], columns=["s1", "s2", "year"])
    frame["x"] = rng.normal(size=len(frame))
    frame["y"] = (rng.random(len(frame)) < np.where(frame["s1"] == 2, 0.5, 0.03)).astype(float)
    data = cp.Model("y ~ x + (1 | s1:s2) + (1 | s1) + (1 | s2)", frame, name="srd").data
    weights = {name: information_centring(data, codes, len(labels)) for name, (codes, labels) in data.sampled.items()}
    events = np.bincount(data.sampled["s1"][0], weights=frame["y"].to_numpy())
    assert weights["s1"][0] == pytest.approx(min(events[0], 21 - events[0]) / (1 + min(events[0], 21 - events[0])))
    assert weights["s1"][0] > 0.8 and np.all(weights["s1"][events == 0] == 0)
    built = {c: build_model(data, PRIORS, "marginal", QuadratureOptions(sampled_centring=c)).model
             for c in ("none", "information")}
    point = built["none"].initial_point()
    sds = {"s1": 1.7, "s2": 0.6}
    for name, sd in sds.items():
        point[f"{name}_sd_signed"] = np.array(-sd if name == "s2" else sd)  # |s| is the sd: either sign
        point[f"{name}_z"] = rng.normal(size=len(weights[name]))
    centred = {k: v for k, v in point.items() if not k.endswith("_z")}
    for name, sd in sds.items():
        centred[f"{name}_raw"] = point[f"{name}_z"] * sd ** weights[name]
    jacobian = -sum(np.sum(weights[name]) * np.log(sd) for name, sd in sds.items())
    logp = {c: built[c].compile_logp()(p) for c, p in (("none", point), ("information", centred))}
    assert logp["information"] - logp["none"] == pytest.approx(jacobian, rel=1e-10, abs=1e-9)
    model = built["information"]
    z_of_values = model.replace_rvs_by_values([model["s1_z"]])[0]
    z = model.compile_fn(z_of_values, inputs=model.value_vars, on_unused_input="ignore")(centred)
    np.testing.assert_allclose(z, point["s1_z"], rtol=1e-12)
    # cached refits made before the option keep their keys; the option is part of a key where it is set
    assert "sampled_centring" not in QuadratureOptions().cache_record()
    assert QuadratureOptions(sampled_centring="information").cache_record()["sampled_centring"] == "information"
    with pytest.raises(ValueError, match="sampled_centring must be one of information, none, got 'centred'"):
        QuadratureOptions(sampled_centring="centred")


def test_the_simulator_adds_every_groupings_intercepts():
    """Calibration simulates outcomes from the non-centred model: the sampled groupings' intercepts are in each
    row's linear predictor (without them a first calibration run put the truth's log-likelihood below every draw)."""
    from inference.simulation import draw_parameters, linear_predictor

    rng = np.random.default_rng(6)
    pairs = [(a, b) for a in range(2, 8) for b in range(2, 8) if a != b]
    frame = pd.DataFrame([(a, b, t) for a, b in pairs for t in range(2)], columns=["ccode_a", "ccode_b", "year"])
    frame["cb"], frame["y"] = rng.normal(size=len(frame)), rng.binomial(1, 0.3, len(frame)).astype(float)
    data = model_data(frame, ModelSpec("t", "y ~ cb + (1 | dyad) + (1 | state_a) + (1 | state_b)"))
    params = draw_parameters(data, PRIORS, 3, seed=1)
    eta = linear_predictor(params, data)
    expected = np.asarray(params["coef"]) @ data.X.to_numpy(float).T
    for name, codes in (("dyad", data.groups), *((g, c) for g, (c, _) in data.sampled.items())):
        expected += np.asarray(params[f"{name}_sd"])[:, None] * np.asarray(params[f"{name}_z"])[:, codes]
    np.testing.assert_allclose(eta, expected, rtol=1e-12)


def test_group_specific_slopes_parse_and_refuse_what_cannot_be_fitted():
    from models.formula import Formula, FormulaError

    parsed = Formula.parse("y ~ x + (x | state_a) + (1 | dyad)")
    assert parsed.group == "dyad" and [(g.name, g.slopes) for g in parsed.sampled] == [("state_a", ("x",))]
    assert "x" in parsed.variables
    for formula, message in [
        ("y ~ x + (0 + x | state_a) + (1 | dyad)", r"need the group's intercept too; write \(x \| state_a\)"),
        ("y ~ x + (x | year) + (1 | dyad)", "year intercepts take no slopes"),
        ("y ~ x + (I(x**2) | state_a) + (1 | dyad)", "must be on one variable as it is"),
        ("y ~ x + (x | state_a)", "add a grouping without slopes"),
    ]:
        with pytest.raises(FormulaError, match=message):
            Formula.parse(formula)
    with pytest.raises(FormulaError, match="the grouping state_a has group-specific slopes"):
        parsed.integrating("state_a")


def slopes_frame(seed: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pairs = [(a, b) for a in range(2, 10) for b in range(2, 10) if a != b]
    frame = pd.DataFrame([(a, b, t) for a, b in pairs for t in range(3)], columns=["ccode_a", "ccode_b", "year"])
    frame["cb"] = rng.normal(1.0, 2.0, len(frame))
    frame["y"] = rng.binomial(1, 0.3, len(frame)).astype(float)
    return frame


@pytest.mark.parametrize("dyad_sd", [0.3, 5.0])
def test_group_specific_slopes_enter_the_kernel_as_offsets(dyad_sd):
    """(cb | state_a) beside (1 | dyad): each State A's intercept and slope on the standardised cb, correlated
    (LKJ(2) through the canonical partial correlation), reach the kernel as one offset per row; the log density is
    the dense integral over the dyad effect with those offsets, plus every prior."""
    frame = slopes_frame()
    data = model_data(frame, ModelSpec("t", "y ~ cb + (1 | dyad) + (cb | state_a)"))
    assert data.spec.integrate == "dyad" and data.slopes["state_a"][0] == ("cb",)
    x = data.slopes["state_a"][1][:, 0]
    assert abs(x.mean()) < 1e-12 and x.std() == pytest.approx(1.0)
    built = build_model(data, PRIORS)
    rng = np.random.default_rng(2)
    z, b, sds = rng.normal(size=(8, 2)), 0.8, np.array([0.7, 0.4])  # rho = 2 b - 1 = 0.6
    point = {"intercept": np.array(-0.8), "beta": np.array([0.4]), "dyad_sd_signed": np.array(dyad_sd),
             "state_a_sd_signed": np.array(sds[0]), "state_a_cb_sd_signed": np.array(-sds[1]),
             "state_a_cpc_logodds__": np.array([np.log(b / (1 - b))]), "state_a_z": z}
    rho = 2 * b - 1
    chol = np.array([[1.0, 0.0], [rho, np.sqrt(1 - rho**2)]])
    effects = (z @ chol.T) * sds
    codes = data.sampled["state_a"][0]
    offset = effects[codes, 0] + effects[codes, 1] * x
    Z = np.column_stack([with_intercept(built.standardiser.transform(data.X)), offset])
    coef = np.concatenate([[point["intercept"]], point["beta"], [1.0]])
    expected = (dense_dyad_loglik(data.groups, Z, coef, data.y.to_numpy(), abs(dyad_sd)).sum()
                + normal_logpdf(point["intercept"], "intercept") + normal_logpdf(point["beta"], "slopes")
                + normal_logpdf([dyad_sd, sds[0], -sds[1]], "group_sd") + stats.beta.logpdf(b, 2.0, 2.0)
                + stats.norm.logpdf(z).sum())
    point = sampled_point(point)
    assert set(point) == {v.name for v in built.model.value_vars}
    assert built.model.compile_logp(jacobian=False)(point) == pytest.approx(expected, rel=1e-9, abs=1e-8)


def test_lkj_cholesky_from_partial_correlations_has_unit_rows_and_the_lkj_marginal():
    """Three dimensions, eta 2: every correlation's marginal is 2 Beta(eta - 1 + n / 2, same) - 1 = Beta(2.5, 2.5)
    on (-1, 1) (Lewandowski et al. 2009), and the factor's rows have unit norm."""
    import pymc as pm

    from models.builders import _lkj_cholesky

    with pm.Model():
        chol = _lkj_cholesky("cpc", 3, 2.0)
    draws = pm.draw(chol, draws=4000, random_seed=3)
    np.testing.assert_allclose((draws**2).sum(axis=2), 1.0, atol=1e-12)
    corr = draws @ np.swapaxes(draws, 1, 2)
    for i, j in [(1, 0), (2, 0), (2, 1)]:
        assert stats.kstest((corr[:, i, j] + 1) / 2, stats.beta(2.5, 2.5).cdf).pvalue > 0.01


@pytest.mark.slow  # 7 s of fitting; make test-slow
def test_a_fit_with_group_specific_slopes_round_trips(tmp_path):
    """Fit, save, load with (x | s1) beside (1 | s1:s2): the slope sd and the correlation are population parameters
    (diagnosed), the kernel rebuilt from the saved draws reproduces the fit's log-likelihood, and the simulator
    adds each group's intercept and slope."""
    from inference.fitting import fit_kernel
    from inference.simulation import draw_parameters, linear_predictor

    rng = np.random.default_rng(9)
    pairs = [(a, b) for a in range(2, 14) for b in range(2, 14) if a != b]
    frame = pd.DataFrame([(a, b, t) for a, b in pairs for t in range(2)], columns=["s1", "s2", "year"])
    frame["x"] = rng.normal(size=len(frame))
    frame["y"] = rng.binomial(1, 0.25, len(frame)).astype(float)
    model = cp.Model("y ~ x + (1 | s1:s2) + (x | s1)", frame, name="slopes")
    fitted = model.fit(draws=60, tune=60, chains=2, show=False)
    assert {"s1_sd", "s1_x_sd", "s1_corr[x, Intercept]", "s1_s2_sd"} <= set(fitted.diagnostics.table.index)
    again = cp.load_fit(fitted.save(tmp_path / "slopes.nc"), panel=frame)
    data = again.model.data
    kernel = fit_kernel(again.idata, data)
    totals = np.asarray(again.idata["log_likelihood_total"]["groups"]).reshape(-1)
    assert kernel.evaluate(5).total == pytest.approx(totals[5], rel=1e-10)
    params = draw_parameters(data, PRIORS, 2, seed=1)
    effects = np.asarray(params["s1_effects"])[:, data.sampled["s1"][0]]
    expected = (np.asarray(params["coef"]) @ data.X.to_numpy(float).T
                + np.asarray(params["s1_s2_sd"])[:, None] * np.asarray(params["s1_s2_z"])[:, data.groups]
                + effects[..., 0] + effects[..., 1] * data.slopes["s1"][1][:, 0])
    np.testing.assert_allclose(linear_predictor(params, data), expected, rtol=1e-12)
