"""Heckman's selection model by full-information maximum likelihood (inference.selection.heckman_ml): analytic
scores against finite differences, recovered parameters of a simulated model, agreement with the two-step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from inference.selection import _ml_parts, _ml_total, heckman_ml, heckman_two_step


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
    # the optimiser's summed form (rows split once) gives the same total and gradient
    Z, X, y, keep = args
    total, grad = _ml_total(theta, Z[~keep], Z[keep], X[keep], y[keep])
    assert total == pytest.approx(_ml_parts(theta, *args)[0].sum(), rel=1e-12)
    np.testing.assert_allclose(grad, scores, rtol=1e-10, atol=1e-10)


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


def test_every_argued_exclusion_is_a_control_of_table_2_and_the_page_shows_the_arguments():
    """models/exclusion_arguments.toml argues exactly the candidates heckman_exclusions tries for Table 2's models
    (their controls, and every control at once); the page carries each argument beside its estimates."""
    import re

    import pandas as pd

    from data_prep.io import read_toml
    from inference.robustness import EXCLUSION_ARGUMENTS
    from models.robustness import load_variants
    from reports.exclusions import exclusions_markdown

    said = read_toml(EXCLUSION_ARGUMENTS, "exclusion arguments", ValueError)["arguments"]
    variant = load_variants()["heckman_selection"]
    candidates = {"every control"}
    for spec in variant.specs():
        terms = set(re.findall(r"\b[a-z_]+\b", spec.formula.split("~")[1].split("(1")[0]))
        candidates |= terms - set(spec.interaction)  # the key interaction's parts stay in
    assert set(said) == candidates
    table = pd.DataFrame({"model": ["h1"], "excluded": ["threat_b"], "term": ["counterbalancing_a:threat_a"],
                          "two_step": [3.4759], "ml": [3.1123], "ml_converged": [False],
                          "argument": [said["threat_b"]]})
    page = exclusions_markdown(table)
    assert "counterbalancing_a:threat_a" in page and "3.476" in page and said["threat_b"] in page
    assert "No Heckman variant" in exclusions_markdown(pd.DataFrame())
