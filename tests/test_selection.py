"""Heckman's selection model by full-information maximum likelihood (inference.selection.heckman_ml): analytic
scores against finite differences, recovered parameters of a simulated model, agreement with the two-step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from inference.selection import _ml_parts, heckman_ml, heckman_two_step


def simulated(n: int = 5000, rho: float = 0.6, sigma: float = 1.5, seed: int = 1):
    rng = np.random.default_rng(seed)
    x1, z1 = rng.normal(size=(2, n))
    Z = pd.DataFrame({"const": 1.0, "x1": x1, "z1": z1})
    X = pd.DataFrame({"const": 1.0, "x1": x1})
    u = rng.normal(size=n)
    v = rho * u + np.sqrt(1 - rho**2) * rng.normal(size=n)
    selected = (0.2 + 0.5 * x1 + 1.0 * z1 + u > 0).astype(float)
    y = np.where(selected == 1, 1.0 + 2.0 * x1 + sigma * v, np.nan)
    return pd.Series(y), pd.Series(selected), X, Z


def test_the_scores_are_the_log_likelihoods_gradient():
    y, selected, X, Z = simulated(n=400)
    theta = np.array([0.1, 0.4, 0.8, 0.9, 1.8, 0.3, 0.5])
    args = (Z.to_numpy(), X.to_numpy(), np.nan_to_num(y.to_numpy()), selected.to_numpy() == 1)
    scores = _ml_parts(theta, *args)[1].sum(axis=0)
    for j in range(len(theta)):
        step = np.zeros(len(theta))
        step[j] = 1e-6
        numeric = (_ml_parts(theta + step, *args)[0].sum() - _ml_parts(theta - step, *args)[0].sum()) / 2e-6
        assert scores[j] == pytest.approx(numeric, rel=1e-6, abs=1e-6)


def test_full_information_ml_recovers_a_simulated_selection_model_and_agrees_with_the_two_step():
    y, selected, X, Z = simulated()
    fit = heckman_ml(y, selected, X, Z, groups=np.arange(len(y)) // 2)
    se = np.sqrt(np.diag(fit.cov))
    truth = np.array([0.2, 0.5, 1.0, 1.0, 2.0])
    estimates = np.concatenate([fit.selection, fit.outcome])
    assert fit.converged and np.all(np.abs(estimates - truth) < 3 * se[:5])
    assert fit.sigma == pytest.approx(1.5, abs=3 * se[5] * 1.5) and fit.rho == pytest.approx(0.6, abs=0.15)
    two = heckman_two_step(y, selected, X, Z)
    np.testing.assert_allclose(fit.outcome.to_numpy(), two.outcome.to_numpy()[:-1], atol=0.1)
    assert fit.loglik < 0 and fit.n_selected == int(selected.sum()) and list(fit.cov.index)[-2:] == [
        "log_sigma", "atanh_rho"]


def test_every_candidate_exclusion_is_tried_in_turn():
    """The exclusion table: one row per control excluded in turn, and one with every control excluded, each by the
    two-step and full-information ML, on a small simulated panel with a count outcome."""
    from simulate import simulated_panel

    from inference.robustness import heckman_exclusions
    from models.design import model_data
    from models.robustness import Variant
    from models.specs import ModelSpec

    frame = simulated_panel(n_dyads=120, years=10, seed=3, beta=(-1.0, 0.8, 0.5, -0.6), sigma=0.5)
    rng = np.random.default_rng(3)
    frame["w1"], frame["w2"] = rng.normal(size=(2, len(frame)))
    frame["pact"] = frame["y"]
    frame["count"] = frame["y"] * (1 + rng.poisson(1.5, len(frame)))
    spec = ModelSpec("h", "count ~ cb * threat + w1 + w2 + (1 | dyad)", family="hurdle_poisson")
    data = model_data(frame, spec)
    variant = Variant("heckman", "Heckman", estimator="heckman", models=("h",), exclusion=("w1",), selection="pact")
    table = heckman_exclusions(data, variant, frame.loc[data.X.index])
    assert list(table["excluded"]) == ["w1", "w2", "every control"]
    assert set(table["term"]) == {"cb:threat"}
    assert table[["two_step", "two_step_se", "ml", "ml_se_clustered"]].notna().all().all()
