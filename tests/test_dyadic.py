"""Dyad-robust standard errors (inference.dyadic): the meat against a direct sum over pairs of observations, the
covariance on a fitted logit, its place in every frequentist table of a dyadic design, and a simulation with sender
and receiver effects where dyad-clustered SEs under-cover and dyad-robust ones do not."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from inference.dyadic import coverage_study, dyad_members, dyad_robust_cov, dyad_robust_meat, positive_part
from inference.frequentist import fit_data
from models.design import model_data
from models.specs import ModelSpec


def direct_meat(scores: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """sum of s_r s_r'^T over every pair of rows (r, r') whose dyads share a state, by a double loop."""
    n, k = scores.shape
    meat = np.zeros((k, k))
    for r in range(n):
        for q in range(n):
            if {first[r], second[r]} & {first[q], second[q]}:
                meat += np.outer(scores[r], scores[q])
    return meat


def test_the_meat_is_the_sum_over_pairs_of_rows_sharing_a_state():
    rng = np.random.default_rng(3)
    first, second = rng.integers(0, 8, 120), rng.integers(0, 8, 120)
    keep = first != second  # both directions of some dyads, several years of others
    first, second, scores = first[keep], second[keep], rng.normal(size=(keep.sum(), 3))
    np.testing.assert_allclose(dyad_robust_meat(scores, first, second), direct_meat(scores, first, second),
                               rtol=1e-12, atol=1e-12)
    # with every row's dyad its own state pair and no shared states, the meat is the heteroskedasticity-robust one
    lone = np.arange(0, 2 * len(scores), 2), np.arange(1, 2 * len(scores), 2)
    np.testing.assert_allclose(dyad_robust_meat(scores, *lone), scores.T @ scores, rtol=1e-12)


def dyad_years(n_states: int = 10, years: int = 3, seed: int = 4) -> pd.DataFrame:
    """Every directed dyad of `n_states` states over `years` years, two inputs and a binary outcome."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame([(a, b, t) for a in range(2, 2 + n_states) for b in range(2, 2 + n_states) if a != b
                          for t in range(years)], columns=["ccode_a", "ccode_b", "year"])
    frame["cb"], frame["threat"] = rng.normal(size=(2, len(frame)))
    frame["y"] = rng.binomial(1, 1 / (1 + np.exp(-(-1.0 + 0.5 * frame["cb"]))))
    return frame


def test_a_logit_on_a_dyadic_design_reports_both_ses():
    frame = dyad_years()
    data = model_data(frame, ModelSpec("t", "y ~ cb * threat + (1 | dyad)"))
    first, second = dyad_members(data)
    assert np.array_equal(first, frame["ccode_a"].to_numpy()) and np.array_equal(second, frame["ccode_b"].to_numpy())
    (result,) = fit_data(data)
    table = result.table
    assert {"se", "se_dyad_robust", "p_dyad_robust"} <= set(table.columns)
    fitted = sm.Logit(data.y, data.X).fit(disp=0)
    scores, bread = fitted.model.score_obs(fitted.params), np.linalg.inv(-fitted.model.hessian(fitted.params))
    expected = bread @ direct_meat(scores, first, second) @ bread
    repaired, negative = positive_part(expected)
    np.testing.assert_allclose(table["se_dyad_robust"].to_numpy(), np.sqrt(np.diag(repaired)), rtol=1e-6)
    np.testing.assert_allclose(dyad_robust_cov(fitted, first, second, repair=False), expected, rtol=1e-6)
    assert (f"{negative} negative eigenvalue(s) set to 0" in result.note) == (negative > 0)


def test_an_indefinite_covariance_keeps_its_positive_part():
    """Cameron, Gelbach & Miller's repair: negative eigenvalues to 0, which only raises variances."""
    vectors = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
    cov = (vectors * np.array([2.0, 0.5, -0.3])) @ vectors.T
    repaired, negative = positive_part(cov)
    assert negative == 1 and np.linalg.eigvalsh(repaired).min() > -1e-12
    assert np.all(np.diag(repaired) >= np.diag(cov) - 1e-12)
    np.testing.assert_allclose(repaired, (vectors * np.array([2.0, 0.5, 0.0])) @ vectors.T, atol=1e-12)
    psd = cov @ cov.T
    same, count = positive_part(psd)
    assert count == 0 and same is psd


def test_no_dyad_robust_se_off_a_dyadic_design():
    data = model_data(dyad_years(), ModelSpec("t", "y ~ cb + (1 | state_a)"))
    assert dyad_members(data) is None
    assert "se_dyad_robust" not in fit_data(data)[0].table


def test_dyad_clustered_ses_under_cover_with_sender_and_receiver_effects():
    """60 states, 3,540 directed dyads, 150 replications (seed 11: dyad-clustered 0.51, dyad-robust 0.94; with 20-30
    states the dyad-robust SE under-covers too, about 0.85, as ASA's own simulations show for few states)."""
    study = coverage_study(n_states=60, years=1, replications=150, seed=11).set_index("se")
    clustered, robust = study.loc["dyad-clustered"], study.loc["dyad-robust"]
    assert clustered["mean_se"] < 0.5 * clustered["sd_of_estimates"]  # blind to shocks shared across dyads
    assert clustered["coverage_95"] < 0.7
    assert robust["coverage_95"] > 0.9 and robust["mean_se"] > 0.85 * robust["sd_of_estimates"]


def test_the_rare_events_logit_scales_its_dyad_robust_covariance_too():
    from inference.rare_events import fit_relogit, king_zeng_correction

    data = model_data(dyad_years(), ModelSpec("t", "y ~ cb * threat + (1 | dyad)"))
    (logit,) = fit_data(data)
    corrected = fit_relogit(data)
    _, shrink = king_zeng_correction(data.X.to_numpy(dtype=float), np.asarray(logit.params))
    np.testing.assert_allclose(corrected.cov_dyad_robust, np.asarray(logit.cov_dyad_robust) * shrink, rtol=1e-12)
    assert "se_dyad_robust" in corrected.table


def test_firths_logit_has_a_dyad_robust_sandwich_of_its_modified_scores():
    """The modified scores sum to 0 at Firth's estimate (the equations it solves); the dyad-robust covariance is
    the information's inverse around the direct sum over pairs of rows sharing a state."""
    from inference.rare_events import firth_scores, fit_firth

    data = model_data(dyad_years(), ModelSpec("t", "y ~ cb * threat + (1 | dyad)"))
    fit = fit_firth(data)
    X, y, beta = data.X.to_numpy(float), data.y.to_numpy(float), np.asarray(fit.params)
    scores, information = firth_scores(X, y, beta)
    np.testing.assert_allclose(scores.sum(axis=0), 0.0, atol=1e-4)  # firthmodels converges to about 1e-6
    bread = np.linalg.inv(information)
    expected, negative = positive_part(bread @ direct_meat(scores, *dyad_members(data)) @ bread)
    np.testing.assert_allclose(fit.cov_dyad_robust, expected, rtol=1e-8, atol=1e-14)
    assert "se_dyad_robust" in fit.table and f"({negative} negative eigenvalue(s) set to 0)" in fit.note
