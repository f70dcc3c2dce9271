"""Frequentist reproduction: clustered SEs by hand, hurdle parameter recovery, and the paper comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from inference.frequentist import FitResult, fit_hurdle, fit_logit, load_results, save_results
from models.design import SpecError, model_data
from models.specs import ModelSpec, get_spec
from reports.frequentist import compare_with_paper, marginal_effect_curve, predicted_probability_curve

from simulate import SPEC, simulated_panel


def test_clustered_se_matches_hand_computation():
    data = model_data(simulated_panel(), SPEC)
    fit = fit_logit(data)
    X, y, beta = data.X.to_numpy(), data.y.to_numpy(), np.array(fit.params)
    p = expit(X @ beta)
    bread = np.linalg.inv((X * (p * (1 - p))[:, None]).T @ X)
    scores = pd.DataFrame(X * (y - p)[:, None]).groupby(data.groups).sum().to_numpy()
    meat = scores.T @ scores
    n, k, g = X.shape[0], X.shape[1], data.n_groups
    by_hand = g / (g - 1) * (n - 1) / (n - k) * bread @ meat @ bread
    np.testing.assert_allclose(np.array(fit.cov), by_hand, rtol=1e-6)
    assert fit.n_clusters == 300 and fit.nobs == 6000


def test_design_interaction_and_missing_variable():
    frame = simulated_panel(n_dyads=5, years=2)
    X = model_data(frame, SPEC).X
    assert list(X.columns) == ["Intercept", "cb", "threat", "cb:threat"]
    np.testing.assert_allclose(X["cb:threat"], frame.cb * frame.threat)
    with pytest.raises(SpecError, match="model t1: the panel has no variable\\(s\\) threat"):
        model_data(frame.drop(columns="threat"), SPEC)


def test_unknown_model_name():
    with pytest.raises(SpecError, match="unknown model 'm9'; known models: m1, m2, m3, m4, h1, h2"):
        get_spec("m9")


def test_hurdle_recovers_known_parameters():
    """Zero part: logit; count part: zero-truncated Poisson. 40,000 rows recover both within 4 SEs."""
    rng = np.random.default_rng(3)
    n = 40_000
    x = rng.normal(size=n)
    any_positive = rng.binomial(1, expit(-1.0 + 0.7 * x))
    lam = np.exp(0.5 + 0.4 * x)
    counts = rng.poisson(lam[:, None], size=(n, 30))  # first positive draw: zero-truncated Poisson by rejection
    positive_draw = np.where((counts > 0).any(axis=1), counts[np.arange(n), (counts > 0).argmax(axis=1)], 1)
    y = np.where(any_positive == 1, positive_draw, 0).astype(float)
    spec = ModelSpec("h", "y ~ x", family="hurdle_poisson")  # no grouping: robust (one row per cluster) SEs
    zero, count = fit_hurdle(model_data(pd.DataFrame({"y": y, "x": x}), spec))
    for part, truth in ((zero, [-1.0, 0.7]), (count, [0.5, 0.4])):
        table = part.table
        assert np.all(np.abs(table["estimate"].to_numpy() - truth) < 4 * table["se"].to_numpy()), part.part
    assert count.nobs == int((y > 0).sum()) and zero.nobs == n


def _fit(model: str, params: dict, se: float = 0.1) -> FitResult:
    terms = list(params)
    return FitResult(model, "logit", terms, list(params.values()), (np.eye(len(terms)) * se**2).tolist(), 100, 10, 5,
                     -50.0, True, "logit")


def test_comparison_flags_a_sign_flip(tmp_path):
    reference = tmp_path / "ref.csv"
    reference.write_text("model,part,term,estimate,se,source\n"
                         "m1,logit,cb,1.0,0.5,T\nm1,logit,cb:threat,-1.0,0.5,T\nm1,logit,N,100,,T\n")
    table = compare_with_paper([_fit("m1", {"Intercept": -3.0, "cb": 1.2, "cb:threat": 0.4})], reference)
    row = table.set_index("term")
    assert row.loc["cb", "sign_agrees"] == True  # noqa: E712
    assert row.loc["cb:threat", "sign_agrees"] == False  # noqa: E712
    assert row.loc["cb:threat", "diff_in_paper_se"] == pytest.approx(2.8)
    assert row.loc["cb:threat", "within_2_paper_se"] == False  # noqa: E712
    assert row.loc["cb", "within_2_paper_se"] == True  # noqa: E712
    assert pd.isna(row.loc["Intercept", "paper"])


def test_save_load_round_trip(tmp_path):
    fit = _fit("m1", {"Intercept": -3.0, "cb": 1.2})
    path = save_results([fit], tmp_path / "fits.json", {"panel_checksum": "abc"})
    loaded, meta = load_results(path)
    assert loaded == [fit] and meta == {"panel_checksum": "abc"}


def test_marginal_effect_matches_finite_difference():
    data = model_data(simulated_panel(seed=4), SPEC)
    fit = fit_logit(data)
    curve = marginal_effect_curve(fit, data, "threat", points=5)
    beta = fit.table["estimate"]
    base = data.X.mean()
    for row in curve.itertuples():
        def prob(cb):
            x = base.copy()
            x["cb"], x["threat"], x["cb:threat"] = cb, row.value, cb * row.value
            return expit(x @ beta)
        h = 1e-6
        numeric = (prob(base["cb"] + h) - prob(base["cb"] - h)) / (2 * h)
        assert row.effect == pytest.approx(numeric, rel=1e-5)
        assert row.lower < row.effect < row.upper
    probs = predicted_probability_curve(fit, data, "threat", points=3)
    assert set(probs["focal_value"].round(6)) == {0.0, round(data.X.cb.mean(), 6),
                                                  round(data.X.cb.mean() + data.X.cb.std(), 6)}
    assert ((probs.lower <= probs.probability) & (probs.probability <= probs.upper)).all()


def test_delta_method_curves_equal_the_analytic_derivative():
    """The engine's central difference of the design gives the curve and bands of the exact derivative the figures
    used before it (d X / d cb = (0, 1, 0, threat)) to 1e-6; the predicted probabilities are at 0, mean, mean + sd."""
    data = model_data(simulated_panel(seed=4), SPEC)
    fit = fit_logit(data)
    curve = marginal_effect_curve(fit, data, "threat", points=11)
    b, V = fit.table["estimate"][list(data.X.columns)].to_numpy(), fit.covariance.to_numpy()
    z, cb = curve["value"].to_numpy(), data.X["cb"].mean()
    X = np.column_stack([np.ones_like(z), np.full_like(z, cb), z, cb * z])
    dX = np.column_stack([np.zeros_like(z), np.ones_like(z), np.zeros_like(z), z])
    p, slope = expit(X @ b), dX @ b
    effect = p * (1 - p) * slope
    grad = (p * (1 - p) * (1 - 2 * p) * slope)[:, None] * X + (p * (1 - p))[:, None] * dX
    se, se_logodds = (np.sqrt(np.einsum("ij,jk,ik->i", g, V, g)) for g in (grad, dX))
    z95 = 1.959963984540054
    expected = np.column_stack([effect, effect - z95 * se, effect + z95 * se, slope, slope - z95 * se_logodds,
                                slope + z95 * se_logodds])
    columns = ["effect", "lower", "upper", "logodds_effect", "logodds_lower", "logodds_upper"]
    np.testing.assert_allclose(curve[columns].to_numpy(), expected, rtol=1e-6)
    assert list(curve.columns) == ["model", "outcome", "focal", "moderator", "value", *columns]
    np.testing.assert_allclose(z, np.linspace(data.rows["threat"].min(), data.rows["threat"].max(), 11))
    probs = predicted_probability_curve(fit, data, "threat", points=11)
    assert list(probs.columns) == ["model", "outcome", "focal", "moderator", "value", "focal_level", "focal_value",
                                   "probability", "lower", "upper"]
    at_mean = probs[probs["focal_level"].str.startswith("mean (")]
    np.testing.assert_allclose(at_mean["probability"], expit(X @ b), rtol=1e-12)
