"""Posterior effect curves from fixed draws, against hand computations: the conditional marginal effect, the
population-averaged one against numerical integration, predicted probabilities, models without a group, formulas
with transforms, and the hurdle's expected count with the count part's own terms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import expit
from scipy.stats import norm, poisson

from models.design import model_data
from models.specs import ModelSpec
from reports.frequentist import design_slope, grid_rows, interaction_variables, marginal_effect_curve
from inference.effects import PosteriorDraws
from inference.effects import truncated_count_mean
from reports.posterior_effects import (concession_curves, marginal_effect_curves, mean_probability,
                                       predicted_probability_curves)
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
        assert row.effect == pytest.approx(np.mean(per_draw), rel=1e-12)
        assert row.logodds_effect == pytest.approx(np.mean(COEF["cb"] + COEF["cb:threat"] * z), rel=1e-12)
        assert row.lower <= row.effect <= row.upper


def test_population_average_matches_numerical_integration():
    eta = np.array([[-6.0, -2.0, 0.5]] * 3)
    prob, slope = mean_probability(eta, SD, "population")
    for s, sigma in enumerate(SD):
        for g, e in enumerate(eta[s]):
            p_ref = quad(lambda u: expit(e + sigma * u) * norm.pdf(u), -12, 12, epsabs=1e-13)[0]
            d_ref = quad(lambda u: expit(e + sigma * u) * expit(-e - sigma * u) * norm.pdf(u), -12, 12,
                         epsabs=1e-13)[0]
            assert prob[s, g] == pytest.approx(p_ref, rel=1e-9)
            assert slope[s, g] == pytest.approx(d_ref, rel=1e-9)
    with pytest.raises(ValueError, match="unknown kind 'marginal'"):
        mean_probability(eta, SD, "marginal")


def test_population_average_is_flatter_than_conditional(data):
    """Averaging over dyad effects raises a rare event's probability (Jensen) and shrinks it towards 1/2."""
    draws = PosteriorDraws("t1", COEF, SD)
    curves = predicted_probability_curves(draws, data, "threat", points=3)
    wide = curves.pivot_table(index=["counterbalancing", "value"], columns="kind", values="probability")
    assert (wide["population"] > wide["conditional"]).all()
    assert set(curves["counterbalancing"].str.split(" ").str[0]) == {"none", "mean"}


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
    rows = grid_rows(data, "threat", np.array([0.0, 1.0]))
    slope = design_slope(data, rows, "cb")
    np.testing.assert_allclose(slope["np.log1p(cb):threat"], rows["threat"] / (1 + cb), rtol=1e-8)
    assert (slope["Intercept"] == 0).all() and (slope["threat"] == 0).all()


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
    curves = concession_curves(draws, data, "threat", points=3, kinds=("conditional",))
    cb = data.rows["cb"].mean()
    at_mean = curves["counterbalancing"].str.startswith("mean (")
    for row in curves[(curves["quantity"] == "expected count") & at_mean].itertuples():
        z = row.value
        pr = expit(COEF["Intercept"] + COEF["cb"] * cb + COEF["threat"] * z + COEF["cb:threat"] * cb * z)
        mu = np.exp(count["Intercept"] + count["threat"] * z)
        assert row.estimate == pytest.approx(np.mean(pr * truncated_count_mean(mu.to_numpy())), rel=1e-12)
