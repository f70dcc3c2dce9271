"""Default priors by Gelman et al. (2008)'s rule: the map from rescaled inputs to per-sd slopes on designs with known
scales, the packaged prior sets and their options, the model density under the defaults, and power-scaling that
flags a deliberately conflicting prior but not the default."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from inference.fitting import SamplerSettings, fit
from models.average_rate import _solve
from models.builders import CENTRED_INTERCEPT, RESCALED, build_model, with_intercept
from models.design import model_data
from models.formula import design_matrix
from models.prior_scales import gelman_map, input_scale
from models.priors import PACKAGED_SETS, PriorError, load_priors, parse_priors, priors_config
from models.quadrature import dense_dyad_loglik
from models.specs import ModelSpec
from references import intercept_for_average_rate
from reports.prior_sensitivity import power_scaling
from simulate import simulated_panel


def solve_on_rows(target: float, eta: np.ndarray, sd: float) -> float:
    """The average-row intercept by models.average_rate's own rule (its accuracy: test_average_rate)."""
    return float(_solve(np.array([target]), eta, sd)[0][0])


def design(formula: str, frame: pd.DataFrame):
    common = design_matrix(formula, frame, "test")
    X = common.as_dataframe().drop(columns="Intercept")
    return common, X, X.std().to_numpy()


@pytest.fixture(scope="module")
def inputs() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    return pd.DataFrame({"y": rng.integers(0, 2, n).astype(float), "a": rng.normal(3.0, 2.0, n),
                         "b": rng.normal(-1.0, 0.5, n), "d": rng.integers(0, 2, n).astype(float),
                         "c": rng.choice(["x", "y", "z"], n)})


def test_input_scales_follow_the_rule():
    """2 sd for a numeric input; the distance between the two values for a binary one (0/1: 1; 0/5: 5)."""
    x = np.array([1.0, 2.0, 4.0, 7.0])
    assert input_scale(x) == pytest.approx(2 * np.std(x, ddof=1))
    assert input_scale(np.array([0.0, 1.0, 1.0, 0.0, 1.0])) == 1.0
    assert input_scale(np.array([0.0, 5.0, 5.0])) == 5.0


def test_main_effects_get_half_the_scale_and_binary_inputs_their_sd(inputs):
    """Without interactions the map is diagonal: a numeric slope per sd is g / 2, a 0/1 input's is g sd."""
    common, X, sd = design("y ~ a + b + d", inputs)
    A = gelman_map(common, tuple(X.columns), sd)
    np.testing.assert_allclose(A, np.diag([0.5, 0.5, inputs["d"].std()]), rtol=1e-12)


def test_interactions_are_products_of_centred_rescaled_inputs(inputs):
    """y ~ a * b + d + a:d: the standardised linear predictor Z @ (A g) equals, up to a constant, the linear
    predictor of Gelman et al.'s inputs ((a - m_a) / 2 s_a, (b - m_b) / 2 s_b, d - m_d and their products) with
    coefficients g; the interaction's own entry is s_ab / (4 s_a s_b)."""
    common, X, sd = design("y ~ a * b + d + a:d", inputs)
    terms = tuple(X.columns)
    assert terms == ("a", "b", "a:b", "d", "a:d")
    A = gelman_map(common, terms, sd)
    a, b, d = (inputs[v] for v in ("a", "b", "d"))
    ua, ub, ud = (a - a.mean()) / (2 * a.std()), (b - b.mean()) / (2 * b.std()), d - d.mean()
    rescaled = np.column_stack([ua, ub, ua * ub, ud, ua * ud])
    Z = ((X - X.mean()) / sd).to_numpy()
    for g in np.random.default_rng(0).normal(0, 2, (5, len(terms))):
        assert np.ptp(Z @ (A @ g) - rescaled @ g) < 1e-10
    assert A[2, 2] == pytest.approx(X["a:b"].std() / (4 * a.std() * b.std()), rel=1e-12)
    assert A[0, 2] == pytest.approx(X["a"].std() * -b.mean() / (4 * a.std() * b.std()), rel=1e-12)
    assert A[1, 0] == 0.0 and A[2, 0] == 0.0  # a main effect's g moves only its own slope


def test_categorical_interactions_centre_the_dummies(inputs):
    common, X, sd = design("y ~ a * C(c)", inputs)
    terms = tuple(X.columns)
    A = gelman_map(common, terms, sd)
    a = inputs["a"]
    ua = (a - a.mean()) / (2 * a.std())
    dummies = [(inputs["c"] == level).astype(float) for level in ("y", "z")]
    rescaled = np.column_stack([ua] + [u - u.mean() for u in dummies] + [ua * (u - u.mean()) for u in dummies])
    Z = ((X - X.mean()) / sd).to_numpy()
    g = np.random.default_rng(1).normal(0, 2, len(terms))
    assert np.ptp(Z @ (A @ g) - rescaled @ g) < 1e-10


def test_an_interaction_without_its_main_effects_is_rescaled_only(inputs):
    common, X, sd = design("y ~ a:b", inputs)
    A = gelman_map(common, ("a:b",), sd)
    assert A[0, 0] == pytest.approx(X["a:b"].std() / (4 * inputs["a"].std() * inputs["b"].std()), rel=1e-12)


def test_packaged_sets_load_and_round_trip_through_the_fit_record():
    default, regularising, wide = (load_priors(name) for name in PACKAGED_SETS)
    assert default["slopes"].dist == "StudentT" and default["slopes"].kwargs == {"nu": 7.0, "mu": 0.0, "sigma": 2.5}
    assert default["slopes"].scale_rule == default["count_slopes"].scale_rule == "gelman2008"
    assert default["count_slopes"].dist == "Normal" and default["count_slopes"].kwargs["sigma"] == 2.5
    assert default["intercept"].applies_to == "average_row"
    assert regularising["slopes"].kwargs == {"mu": 0.0, "sigma": 1.0} and regularising["slopes"].scale_rule == "per_sd"
    assert regularising["intercept"].applies_to == "zero_group"
    assert wide["slopes"].kwargs["sigma"] == 10.0 and wide["year_sd"] == default["year_sd"]
    for priors in (default, regularising, wide):
        assert parse_priors(json.loads(json.dumps(priors_config(priors)))) == priors
    # a file starting from a packaged set and changing one group
    changed = parse_priors({"base": "regularising", "group_sd": {"dist": "HalfNormal", "sigma": 3.0}})
    assert changed["slopes"] == regularising["slopes"] and changed["group_sd"].kwargs == {"sigma": 3.0}


@pytest.mark.parametrize("config, message", [
    ({"intercept": {"dist": "Normal", "sigma": 1, "scale_rule": "gelman2008"}},
     r"\[intercept\] 'scale_rule' is only for slopes and count_slopes"),
    ({"slopes": {"dist": "Normal", "sigma": 1, "scale_rule": "gelman"}},
     r"\[slopes\] scale_rule must be one of per_sd, gelman2008, got 'gelman'"),
    ({"slopes": {"dist": "Normal", "sigma": 1, "applies_to": "average_group"}},
     r"\[slopes\] 'applies_to' is only for intercept"),
    ({"intercept": {"dist": "Normal", "sigma": 1, "applies_to": "all"}},
     r"\[intercept\] applies_to must be one of average_row, average_group, zero_group, got 'all'"),
    ({"base": "tight"}, r"base must name a packaged prior set \(default, regularising, wide\), got 'tight'"),
])
def test_prior_options_are_checked(config, message):
    with pytest.raises(PriorError, match=message):
        parse_priors(config, "test.toml")


def test_a_partial_prior_keeps_the_base_sets_options():
    """A group given without scale_rule or applies_to keeps the base set's, not the per-sd or average-group fallback
    (a new user's {dist, sigma} used to switch the slopes to per-sd scaling)."""
    partial = parse_priors({"slopes": {"dist": "Normal", "sigma": 1.0},
                            "count_slopes": {"dist": "Normal", "sigma": 1.0},
                            "intercept": {"dist": "Normal", "mu": -8.0, "sigma": 2.0}})
    defaults = load_priors()
    assert partial["slopes"].scale_rule == partial["count_slopes"].scale_rule == "gelman2008"
    assert partial["intercept"].applies_to == defaults["intercept"].applies_to
    regularising = parse_priors({"base": "regularising", "slopes": {"dist": "Normal", "sigma": 2.0}})
    assert regularising["slopes"].scale_rule == "per_sd"  # the base set's rule
    assert regularising["intercept"].applies_to == "zero_group"
    explicit = parse_priors({"slopes": {"dist": "Normal", "sigma": 1.0, "scale_rule": "per_sd"}})
    assert explicit["slopes"].scale_rule == "per_sd"
    # without a dist, the base's distribution with the arguments given
    narrower = parse_priors({"slopes": {"sigma": 1.0}, "group_sd": {"sigma": 0.5}})
    assert narrower["slopes"].dist == "StudentT" and narrower["slopes"].kwargs == {"nu": 7.0, "mu": 0.0, "sigma": 1.0}
    assert narrower["group_sd"].dist == "HalfNormal" and narrower["group_sd"].kwargs == {"sigma": 0.5}


def test_a_packaged_name_or_a_file(tmp_path):
    assert load_priors("wide") == parse_priors({"base": "wide"})
    with pytest.raises(PriorError, match="tight: prior file not found"):
        load_priors("tight")


@pytest.mark.parametrize("family", ["bernoulli", "hurdle_poisson"])
@pytest.mark.parametrize("sd", [0.3, 2.3, 6.0])
def test_density_under_the_defaults(family, sd):
    """The marginal model's log density under the default priors: Student-t(7, 0, 2.5) on the rescaled coefficients
    g (Normal(0, 2.5) in the count part), the base-rate prior on intercept + sd^2 / 2, the half-normal sd, and the
    dense marginal likelihood at the slopes A g and the intercept whose probability averaged over the rows and a
    normal group effect has log-odds intercept_centred (models.average_rate's rule, checked against a dense
    reference in test_average_rate), from a small to a far dyad sd."""
    frame = simulated_panel(n_dyads=25, years=8, seed=1, sigma=1.5)
    if family != "bernoulli":
        frame["y"] = frame["y"] * (1 + np.random.default_rng(1).poisson(1.2, len(frame)))
    priors = load_priors()
    data = model_data(frame, ModelSpec("t", "y ~ cb * threat + (1 | dyad)", family=family))
    built = build_model(data, priors)
    g, centred = np.array([0.9, -0.4, 1.7]), -0.6
    point = {CENTRED_INTERCEPT: np.array(centred), f"beta{RESCALED}": g, "dyad_sd_signed": np.array(-sd)}
    A = gelman_map(data.design, built.standardiser.terms, built.standardiser.sd)
    slopes_eta = built.standardiser.transform(data.X) @ (A @ g)  # the slopes' part of every row's log-odds
    intercept_value = solve_on_rows(centred, slopes_eta, sd)
    coef = np.concatenate([[intercept_value], A @ g])
    Z = with_intercept(built.standardiser.transform(data.X))
    any_event = (data.y.to_numpy() > 0).astype(float)
    intercept = priors["intercept"].kwargs
    expected = (dense_dyad_loglik(data.groups, Z, coef, any_event, sd).sum()
                + stats.t.logpdf(g, 7, 0, 2.5).sum() + stats.norm.logpdf(centred, intercept["mu"], intercept["sigma"])
                + stats.norm.logpdf(-sd, 0, priors["group_sd"].kwargs["sigma"]))
    if family != "bernoulli":
        # the count intercept's prior is on the log of the positive rows' average expected count
        gc, average = np.array([0.3, 0.2, -0.5]), 0.4
        point |= {f"count_{CENTRED_INTERCEPT}": np.array(average), f"count_beta{RESCALED}": gc}
        positive = data.y.to_numpy() > 0
        Ac = gelman_map(data.count_design, built.count_standardiser.terms, built.count_standardiser.sd, positive)
        spread = built.count_standardiser.transform(data.count_X)[positive] @ (Ac @ gc)
        mu = np.exp(average + spread) / np.exp(spread).mean()
        assert np.log(mu.mean()) == pytest.approx(average, abs=1e-12)
        k = data.y.to_numpy()[positive]
        expected += (np.sum(stats.poisson.logpmf(k, mu) - np.log(stats.poisson.sf(0, mu)))
                     + stats.norm.logpdf(gc, 0, 2.5).sum() + stats.norm.logpdf(average, 0, 1.5))
    assert set(point) == {v.name for v in built.model.value_vars}
    assert built.model.compile_logp(jacobian=False)(point) == pytest.approx(expected, rel=1e-9, abs=1e-7)


def test_the_count_part_is_scaled_on_the_positive_rows():
    """The hurdle count part's standardiser and the scale rule's inputs are the positive rows' (its likelihood's
    rows), not every sample row's."""
    frame = simulated_panel(n_dyads=25, years=8, seed=3, sigma=1.5)
    frame["y"] = frame["y"] * (1 + np.random.default_rng(3).poisson(1.2, len(frame)))
    data = model_data(frame, ModelSpec("t", "y ~ cb * threat + (1 | dyad)", family="hurdle_poisson"))
    built = build_model(data, load_priors())
    positive_rows = data.count_X[data.y > 0].drop(columns="Intercept")
    assert 0 < len(positive_rows) < len(data.count_X) / 2
    np.testing.assert_allclose(built.count_standardiser.mean, positive_rows.mean().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(built.count_standardiser.sd, positive_rows.std().to_numpy(), rtol=1e-12)
    assert not np.allclose(built.count_standardiser.mean, data.count_X.drop(columns="Intercept").mean().to_numpy())
    # the scale rule: inputs centred at the positive rows' means and scaled by their f (2 sd for numbers)
    A = gelman_map(data.count_design, built.count_standardiser.terms, built.count_standardiser.sd, data.positive)
    f_cb, f_threat = input_scale(positive_rows["cb"].to_numpy()), input_scale(positive_rows["threat"].to_numpy())
    sd_cb = built.count_standardiser.sd[0]
    assert A[0, 0] == pytest.approx(sd_cb / f_cb, rel=1e-9)
    assert A[0, 2] == pytest.approx(sd_cb * -positive_rows["threat"].mean() / (f_cb * f_threat), rel=1e-9)


@pytest.mark.parametrize("years", [False, True])
def test_the_plain_method_puts_the_prior_on_the_average_row_too(years):
    """The intercept is the one whose probability averaged over the rows (slopes and year intercepts as sampled) and a
    normal group effect has log-odds intercept_centred, as in marginal fits."""
    frame = simulated_panel(n_dyads=10, years=5, seed=2)
    formula = "y ~ cb + (1 | dyad)" + (" + (1 | year)" if years else "")
    data = model_data(frame, ModelSpec("t", formula, method="plain"))
    built = build_model(data, load_priors())
    names = {CENTRED_INTERCEPT, f"beta{RESCALED}", "dyad_sd_signed", "dyad_z"} | ({"year_sd_signed", "year_z"}
                                                                                   if years else set())
    model = built.model
    assert {v.name for v in model.free_RVs} == names
    point = {model[CENTRED_INTERCEPT]: -1.0, model["dyad_sd_signed"]: -2.0, model[f"beta{RESCALED}"]: [0.0]}
    if years:
        point |= {model["year_sd_signed"]: 0.0, model["year_z"]: np.zeros(5)}
    zero = np.zeros(len(data.y))
    assert model["intercept"].eval(point) == pytest.approx(intercept_for_average_rate(-1.0, zero, 2.0), abs=1e-3)
    point[model[f"beta{RESCALED}"]] = [0.7]
    if years:
        point |= {model["year_sd_signed"]: 0.8, model["year_z"]: np.linspace(-1.0, 1.5, 5)}
    eta = built.standardiser.transform(data.X) @ model["beta"].eval({model[f"beta{RESCALED}"]: [0.7]})
    if years:
        eta = eta + model["year_effect"].eval({v: point[v] for v in (model["year_sd_signed"], model["year_z"])})[
            data.years]
    assert model["intercept"].eval(point) == pytest.approx(intercept_for_average_rate(-1.0, eta, 2.0), abs=1e-3)
    assert model["intercept"].eval(point) == pytest.approx(solve_on_rows(-1.0, eta, 2.0), abs=1e-12)


# ---------------------------------------------------------------------------------------------------------------------
# power-scaling: a prior far from what the data say is flagged; the default is not

def logit_fit(priors: dict, seed: int = 5):
    """3,000 rows of a logit with two inputs and their interaction (true slopes per sd about 0.8, -0.5, 0.3), no
    groups: a plain fit of 2 x 400 draws."""
    rng = np.random.default_rng(seed)
    n = 3000
    a, b = rng.normal(1.0, 1.0, n), rng.uniform(0, 2, n)
    y = rng.binomial(1, 1 / (1 + np.exp(-(-1.0 + 0.8 * a - 0.5 * b + 0.3 * a * b)))).astype(float)
    data = model_data(pd.DataFrame({"y": y, "a": a, "b": b}), ModelSpec("sim", "y ~ a * b"))
    settings = SamplerSettings(sampler="nutpie", draws=400, tune=300, chains=2, seed=seed)
    idata, _ = fit(data, priors, settings, "plain")
    return power_scaling(idata).set_index("parameter")


@pytest.mark.slow  # 11 s of fitting; make test-slow
def test_power_scaling_flags_a_conflicting_prior_but_not_the_default():
    default = logit_fit(load_priors())
    slopes = ["coef[a]", "coef[b]", "coef[a:b]"]
    assert (default.loc[slopes, "diagnosis"] == "\N{CHECK MARK}").all(), default
    assert (default.loc[slopes, "prior"] < 0.05).all()
    conflicting = logit_fit(parse_priors({"slopes": {"dist": "Normal", "mu": -2.0, "sigma": 0.3}}))
    assert (conflicting.loc[slopes, "diagnosis"] == "potential prior-data conflict").any(), conflicting
    assert conflicting.loc["coef[a]", "prior"] > 0.05


def test_priors_command_compares_the_sets_and_the_report_shows_them(tmp_path):
    """`coupproof priors` on a synthetic panel: the saved default fit is reused, the regularising and wide sets are
    refitted (serially, cached), and the table, figure and report section are written."""
    from typer.testing import CliRunner

    from coupproof.cli import app
    from round_trip import assert_round_trip

    from coupproof.stages import PriorComparisonResult, SensitivityResult
    from reports.bayes_report import sensitivity_section
    from simulate import synthetic_fits

    runner = CliRunner()
    panel, fits = synthetic_fits(tmp_path, draws=40)
    freq = tmp_path / "freq"
    assert runner.invoke(app, ["freq", "--models", "m1", "--panel", str(panel), "--out", str(freq)]).exit_code == 0
    out = tmp_path / "sens"
    args = ["priors", "--model", "m1", "--panel", str(panel), "--fits", str(fits), "--freq", str(freq / "fits.json"),
            "--out", str(out), "--scheduler", "serial", "--draws", "40", "--tune", "40", "--retries", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "default fits read from" in result.output and "m1 under wide: fitted" in result.output
    table = pd.read_csv(out / "prior_defaults.csv")
    row = table.iloc[0]
    assert (row["model"], row["part"], row["term"]) == ("m1", "logit", "counterbalancing_a:threat_a")
    assert row["shift_default_se"] == pytest.approx((row["mean_default"] - row["mean_wide"]) / row["freq_se"])
    assert row["meets_criterion"] == (abs(row["shift_default_se"]) <= 0.25 and row["flagged_under_default"] == "none")
    assert len(list((out / "cache").glob("m1-*.nc"))) == 2  # the default was read, not refitted
    assert (out / "prior_defaults.png").stat().st_size > 10_000
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "m1 under regularising: from cache" in again.output
    assert "against the regularising and wide sets" in sensitivity_section(
        SensitivityResult.read(out), assert_round_trip(PriorComparisonResult, out, tmp_path / "copy"), ["m1"])
    refused = runner.invoke(app, [*args, "--sets", "regularising"])
    assert refused.exit_code == 2 and "--sets must include 'wide'" in refused.output


def test_count_part_identification_compares_on_the_scale_the_prior_is_on():
    """Under the rule the count slopes' prior is on the rescaled coefficients: their posterior IQR is set against
    the Normal(0, 2.5)'s; the sign is the reported slope's."""
    import xarray as xr

    from reports.posterior_tables import count_part_identification

    rng = np.random.default_rng(4)
    rescaled = np.stack([rng.normal(0, 2.5, (2, 4000)), rng.normal(1, 0.25, (2, 4000))], axis=-1)
    slopes = -0.1 * rescaled  # what the map gives: a sign flip for the check
    posterior = xr.Dataset({"count_beta": (("chain", "draw", "count_term"), slopes),
                            f"count_beta{RESCALED}": (("chain", "draw", "count_term"), rescaled)},
                           coords={"count_term": ["weak", "strong"]})
    tree = xr.DataTree.from_dict({"posterior": posterior})
    table = count_part_identification(tree, load_priors()["count_slopes"]).set_index("term")
    assert table.loc["weak", "posterior_over_prior_iqr"] == pytest.approx(1.0, abs=0.06)
    assert table.loc["strong", "posterior_over_prior_iqr"] == pytest.approx(0.25 / 2.5, rel=0.05)
    assert table.loc["strong", "pr_positive"] == 0.0


def test_a_prior_per_term():
    """A slope group's `terms` table gives single terms other arguments of the group's distribution (brms'
    set_prior(coef = ...)): the log density is the group's Student-t for the other terms and the term's own for it;
    the priors round-trip through the fit record's form; a term the model lacks is one error naming its terms."""
    frame = simulated_panel(n_dyads=20, years=5, seed=4)
    priors = parse_priors({"slopes": {"dist": "StudentT", "nu": 7.0, "sigma": 2.5,
                                      "terms": {"cb:threat": {"mu": -1.0, "sigma": 0.5}}}})
    assert priors["slopes"].scale_rule == "gelman2008"  # kept from the default
    assert parse_priors(json.loads(json.dumps(priors_config(priors)))) == priors
    assert "cb:threat: StudentT(nu=7, sigma=0.5, mu=-1)" in priors["slopes"].describe()
    data = model_data(frame, ModelSpec("t", "y ~ cb * threat + (1 | dyad)"))
    built = build_model(data, priors)
    g = np.array([0.3, -0.2, 0.4])
    logp = built.model.compile_logp(vars=[built.model[f"beta{RESCALED}"]], jacobian=False)
    point = {**built.model.initial_point(), f"beta{RESCALED}": g}
    expected = stats.t.logpdf(g[:2], 7, 0, 2.5).sum() + stats.t.logpdf(g[2], 7, -1.0, 0.5)
    assert logp(point) == pytest.approx(expected, rel=1e-10)
    wrong = parse_priors({"slopes": {"dist": "Normal", "sigma": 1.0, "terms": {"cb:nope": {"sigma": 0.1}}}})
    with pytest.raises(PriorError, match=r"term\(s\) cb:nope, which the model does not have \(its terms: cb, threat, "
                                         r"cb:threat\)"):
        build_model(data, wrong)


@pytest.mark.parametrize("entry, message", [
    ({"dist": "Normal", "sigma": 1.0, "terms": {"x": {"nu": 3}}},
     r'\[slopes.terms."x"\] Normal takes sigma, mu; unknown: nu \(a term keeps its group\'s distribution'),
    ({"dist": "Normal", "sigma": 1.0, "terms": {"x": {"sigma": -1}}},
     r'\[slopes.terms."x"\] sigma must be at least 1e-06'),
    ({"dist": "Normal", "sigma": 1.0, "terms": {"x": 2.0}}, r'\[slopes.terms."x"\] must be a table'),
])
def test_per_term_prior_errors(entry, message):
    with pytest.raises(PriorError, match=message):
        parse_priors({"slopes": entry}, "test.toml")
    with pytest.raises(PriorError, match=r"\[group_sd\] 'terms' is only for slopes and count_slopes"):
        parse_priors({"group_sd": {"dist": "HalfNormal", "sigma": 1.0, "terms": {"x": {"sigma": 1.0}}}}, "test.toml")
