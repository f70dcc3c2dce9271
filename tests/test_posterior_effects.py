"""Posterior effect curves from fixed draws, against hand computations: the conditional marginal effect, the
population-averaged one against numerical integration, predicted probabilities, and the hurdle's expected
number of concessions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import expit
from scipy.stats import norm, poisson

from models.design import model_data
from reports.posterior_effects import (EffectDraws, marginal_effect_curves, mean_probability,
                                       predicted_probability_curves, truncated_count_mean)
from simulate import SPEC, simulated_panel

COEF = pd.DataFrame([[-4.0, 0.8, 0.5, -0.6], [-3.5, 1.0, 0.2, -0.9], [-4.2, 0.6, 0.7, -0.3]],
                    columns=["Intercept", "cb", "threat", "cb:threat"])
SD = np.array([0.5, 1.5, 2.5])


@pytest.fixture(scope="module")
def data():
    return model_data(simulated_panel(n_dyads=50, years=6), SPEC)


def test_conditional_marginal_effect_by_hand(data):
    draws = EffectDraws("t1", COEF, SD)
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
    draws = EffectDraws("t1", COEF, SD)
    curves = predicted_probability_curves(draws, data, "threat", points=3)
    wide = curves.pivot_table(index=["counterbalancing", "value"], columns="kind", values="probability")
    assert (wide["population"] > wide["conditional"]).all()
    assert set(curves["counterbalancing"].str.split(" ").str[0]) == {"none", "mean"}


def test_truncated_count_means():
    mu = np.array([0.5, 2.0])
    expected = [sum(k * poisson.pmf(k, m) for k in range(1, 200)) / (1 - poisson.pmf(0, m)) for m in mu]
    np.testing.assert_allclose(truncated_count_mean(mu), expected, rtol=1e-12)
    np.testing.assert_allclose(truncated_count_mean(mu, np.array([1e9])), expected, rtol=1e-6)  # NB -> Poisson
