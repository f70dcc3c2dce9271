"""Posterior effect curves from fixed draws, against hand computations: the conditional marginal effect, the
population-averaged one against numerical integration, predicted probabilities, models without a group, formulas
with transforms, and the hurdle's expected count with the count part's own terms. The curves are layouts of
inference.effects (their rows are the engine's summaries), and their numbers are those of the analytic derivatives
the report used before it (p (1 - p) times the log-odds slope, averaged over the group effects by the same rule)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from arviz_stats import hdi
from scipy.integrate import quad
from scipy.special import expit
from scipy.stats import norm, poisson

from inference.effects import (PosteriorDraws, focal_levels, group_average, observed_range, predictions, slopes,
                               truncated_count_mean)
from models.design import model_data
from models.quadrature import QuadratureOptions
from models.specs import ModelSpec
from reports.frequentist import interaction_variables, marginal_effect_curve
from reports.posterior_effects import count_curves, marginal_effect_curves, predicted_probability_curves
from simulate import SPEC, simulated_panel

COEF = pd.DataFrame([[-4.0, 0.8, 0.5, -0.6], [-3.5, 1.0, 0.2, -0.9], [-4.2, 0.6, 0.7, -0.3]],
                    columns=["Intercept", "cb", "threat", "cb:threat"])
SD = np.array([0.5, 1.5, 2.5])


@pytest.fixture(scope="module")
def data():
    return model_data(simulated_panel(n_dyads=50, years=6), SPEC)


def test_conditional_marginal_effect_by_hand(data):
    draws = PosteriorDraws("t1", COEF, SD)
    curves = marginal_effect_curves(draws, data, "threat", points=5, kinds=("conditional",))
    cb = data.X["cb"].mean()
    for row in curves.itertuples():
        z = row.value
        per_draw = []
        for b in COEF.itertuples(index=False):
            p = expit(b.Intercept + b.cb * cb + b.threat * z + b[3] * cb * z)
            per_draw.append(p * (1 - p) * (b.cb + b[3] * z))
        assert row.effect == pytest.approx(np.mean(per_draw), rel=1e-7)  # a central difference of step 1e-4 sd
        assert row.logodds_effect == pytest.approx(np.mean(COEF["cb"] + COEF["cb:threat"] * z), rel=1e-9)
        assert row.lower <= row.effect <= row.upper


def test_population_average_matches_numerical_integration():
    eta = np.array([[-6.0, -2.0, 0.5]] * 3)
    prob = group_average(eta, SD)
    for s, sigma in enumerate(SD):
        for g, e in enumerate(eta[s]):
            p_ref = quad(lambda u: expit(e + sigma * u) * norm.pdf(u), -12, 12, epsabs=1e-13)[0]
            assert prob[s, g] == pytest.approx(p_ref, rel=1e-9)


def test_population_average_is_flatter_than_conditional(data):
    """Averaging over dyad effects raises a rare event's probability (Jensen) and shrinks it towards 1/2."""
    draws = PosteriorDraws("t1", COEF, SD)
    curves = predicted_probability_curves(draws, data, "threat", points=3)
    wide = curves.pivot_table(index=["focal_level", "value"], columns="kind", values="probability")
    assert (wide["population"] > wide["conditional"]).all()
    assert set(curves["focal_level"].str.split(" ").str[0]) == {"none", "mean"}


def test_truncated_count_means():
    mu = np.array([0.5, 2.0])
    expected = [sum(k * poisson.pmf(k, m) for k in range(1, 200)) / (1 - poisson.pmf(0, m)) for m in mu]
    np.testing.assert_allclose(truncated_count_mean(mu), expected, rtol=1e-12)
    np.testing.assert_allclose(truncated_count_mean(mu, np.array([1e9])), expected, rtol=1e-6)  # NB -> Poisson


def test_without_a_group_only_the_conditional_curve(data):
    draws = PosteriorDraws("t1", COEF, None)
    effects = marginal_effect_curves(draws, data, "threat", points=3)
    probabilities = predicted_probability_curves(draws, data, points=3)  # the moderator defaults to the spec's
    assert set(effects["kind"]) == {"conditional"} and set(probabilities["kind"]) == {"conditional"}
    assert set(probabilities["moderator"]) == {"threat"} and set(effects["focal"]) == {"cb"}
    with_group = marginal_effect_curves(PosteriorDraws("t1", COEF, SD), data, "threat", points=3)
    pd.testing.assert_frame_equal(effects, with_group[with_group["kind"] == "conditional"].reset_index(drop=True))


def test_a_transformed_focal_variable_is_differentiated_through_the_formula():
    """y ~ np.log1p(cb) * threat: the effect of cb is (b1 + b3 threat) / (1 + cb) on the log-odds scale."""
    spec = ModelSpec("t2", "y ~ np.log1p(cb) * threat + (1 | dyad)", sample="sample")
    data = model_data(simulated_panel(n_dyads=50, years=6), spec)
    assert interaction_variables(data) == ("cb", "threat")
    coef = COEF.set_axis(["Intercept", "np.log1p(cb)", "threat", "np.log1p(cb):threat"], axis=1)
    curves = marginal_effect_curves(PosteriorDraws("t2", coef, SD), data, "threat", points=4, kinds=("conditional",))
    cb = data.rows["cb"].mean()
    for row in curves.itertuples():
        expected = (coef["np.log1p(cb)"] + coef["np.log1p(cb):threat"] * row.value) / (1 + cb)
        assert row.logodds_effect == pytest.approx(expected.mean(), rel=1e-7)


def test_models_without_an_interaction_of_two_variables_have_no_curves():
    frame = simulated_panel(n_dyads=10, years=3)
    for formula, reason in (("y ~ cb + threat + (1 | dyad)", "no two-way interaction"),
                            ("y ~ C(year) * threat + (1 | dyad)", "does not read two distinct numeric variables")):
        data = model_data(frame, ModelSpec("t3", formula, sample="sample"))
        assert reason in interaction_variables(data)
        with pytest.raises(ValueError, match=reason):
            marginal_effect_curves(PosteriorDraws("t3", COEF, SD), data)
        with pytest.raises(ValueError, match=reason):
            marginal_effect_curve(None, data, "threat")


def test_hurdle_expected_count_uses_the_count_part_terms():
    spec = ModelSpec("h", "y ~ cb * threat + (1 | dyad)", family="hurdle_poisson", count_formula="~ threat",
                     sample="sample")
    data = model_data(simulated_panel(n_dyads=50, years=6), spec)
    count = pd.DataFrame([[0.3, 0.5], [0.1, -0.2], [0.6, 0.4]], columns=["Intercept", "threat"])
    draws = PosteriorDraws("h", COEF, SD, count_coef=count)
    curves = count_curves(draws, data, "threat", points=3, kinds=("conditional",))
    cb = data.rows["cb"].mean()
    at_mean = curves["focal_level"].str.startswith("mean (")
    for row in curves[(curves["quantity"] == "expected count") & at_mean].itertuples():
        z = row.value
        pr = expit(COEF["Intercept"] + COEF["cb"] * cb + COEF["threat"] * z + COEF["cb:threat"] * cb * z)
        mu = np.exp(count["Intercept"] + count["threat"] * z)
        assert row.estimate == pytest.approx(np.mean(pr * truncated_count_mean(mu.to_numpy())), rel=1e-12)
    assert list(curves.columns) == ["model", "outcome", "focal", "moderator", "value", "kind", "quantity",
                                    "focal_level", "estimate", "lower", "upper"]
    assert list(dict.fromkeys(curves["quantity"])) == ["Pr(any)", "expected count"]


@pytest.fixture(scope="module")
def many_draws() -> PosteriorDraws:
    """400 draws around COEF's first row and group sds around 1.2, so that HDIs are those of a real posterior."""
    rng = np.random.default_rng(11)
    coef = pd.DataFrame(COEF.iloc[0].to_numpy() + 0.3 * rng.standard_normal((400, 4)), columns=COEF.columns)
    return PosteriorDraws("t1", coef, 1.2 * np.exp(0.2 * rng.standard_normal(400)))


def test_curves_are_the_engines_summaries(data, many_draws):
    """Each table's numbers are the rows of `slopes` (response and link scale) and `predictions` on the grid of the
    moderator (and the focal levels), other variables at typical values."""
    grid = observed_range(data, "threat", 7)
    curves = marginal_effect_curves(many_draws, data, "threat", points=7)
    engine = slopes(many_draws, data, "cb", by={"threat": grid})
    link = slopes(many_draws, data, "cb", by={"threat": grid}, scale="link")
    assert list(curves.columns) == ["model", "outcome", "focal", "moderator", "value", "kind", "effect", "lower",
                                    "upper", "logodds_effect", "logodds_lower", "logodds_upper"]
    for columns, table in (({"effect": "estimate", "lower": "lower", "upper": "upper"}, engine),
                           ({"logodds_effect": "estimate", "logodds_lower": "lower", "logodds_upper": "upper"}, link)):
        for name, source in columns.items():
            np.testing.assert_array_equal(curves[name], table[source])
    np.testing.assert_array_equal(curves["value"], engine["threat"])
    assert list(curves["kind"]) == list(engine["kind"])
    probabilities = predicted_probability_curves(many_draws, data, "threat", points=7)
    for (label, level), rows in zip(focal_levels(data, "cb").items(),
                                    (probabilities.iloc[i:i + 14] for i in range(0, 42, 14))):
        expected = predictions(many_draws, data, {"threat": grid, "cb": [level]})
        assert set(rows["focal_level"]) == {label} and set(rows["focal_value"]) == {level}
        np.testing.assert_array_equal(rows[["probability", "lower", "upper"]].to_numpy(),
                                      expected[["estimate", "lower", "upper"]].to_numpy())


def _old_marginal_effects(draws: PosteriorDraws, data, grid: np.ndarray) -> dict[str, np.ndarray]:
    """The report's previous computation: d Pr / d cb = E_b[p (1 - p)] (b_cb + b_int z) per draw, with the average
    over the group effects by the trapezoid rule of the model (conditional: b = 0)."""
    cb = data.rows["cb"].mean()
    c = {k: v.to_numpy()[:, None] for k, v in draws.coef.items()}
    eta = c["Intercept"] + c["cb"] * cb + c["threat"] * grid + c["cb:threat"] * cb * grid
    logodds = c["cb"] + c["cb:threat"] * grid
    rule = QuadratureOptions().rule(False, float(np.max(draws.group_sd)))
    p = expit(eta[:, :, None] + draws.group_sd[:, None, None] * rule.nodes)
    density = {"conditional": expit(eta) * expit(-eta), "population": (p * (1 - p)) @ np.exp(rule.log_weights)}
    return {kind: d * logodds for kind, d in density.items()} | {"logodds": logodds}


def test_curves_equal_the_previous_analytic_derivative(data, many_draws):
    """The finite differences of the engine give the numbers of the analytic derivative to 1e-6 (means and HDIs)."""
    curves = marginal_effect_curves(many_draws, data, "threat", points=9)
    grid = np.asarray(observed_range(data, "threat", 9))
    old = _old_marginal_effects(many_draws, data, grid)
    for kind in ("conditional", "population"):
        rows = curves[curves["kind"] == kind]
        for values, columns in ((old[kind], ("effect", "lower", "upper")),
                                (old["logodds"], ("logodds_effect", "logodds_lower", "logodds_upper"))):
            bounds = hdi(xr.DataArray(values, dims=("sample", "grid")), prob=0.94, dim="sample").values
            expected = np.column_stack([values.mean(axis=0), bounds[:, 0], bounds[:, 1]])
            np.testing.assert_allclose(rows[list(columns)].to_numpy(), expected, rtol=1e-6)
