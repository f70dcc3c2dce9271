"""The vectorised leave-one-group-out PSIS-LOO gives arviz-stats' numbers: every field of `arviz_stats.loo`, on
simulated log-likelihoods with heavy-tailed groups, one or two chains, a thinned log-likelihood, a group far from a
Pareto tail, and float32 storage."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from arviz_base import from_dict

from reports.psis_loo import group_loo, psis_log_weights, tail_length


def _tree(log_lik: np.ndarray, posterior_draws: int | None = None, seed: int = 0):
    """A DataTree with `log_lik` (chain, draw, dyad) and a small posterior (of `posterior_draws` draws a chain)."""
    rng = np.random.default_rng(seed)
    chains, draws, groups = log_lik.shape
    n = posterior_draws or draws
    return from_dict({"posterior": {"a": rng.normal(size=(chains, n)), "b": rng.normal(size=(chains, n, 3))},
                      "log_likelihood": {"y": log_lik}},
                     dims={"y": ["dyad"]}, coords={"dyad": np.arange(groups) * 7})


def _log_lik(chains: int, draws: int, groups: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    log_lik = -np.abs(rng.normal(size=(chains, draws, groups))) * rng.gamma(2.0, 1.0, size=groups)
    log_lik[..., :3] = 20 * rng.normal(size=(chains, draws, 3))  # heavy right tails of the ratios: large k
    return log_lik


def _reference(tree):
    import arviz_stats as azs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return azs.loo(tree, var_name="y")


def _assert_same(new, ref, tol: float = 1e-10) -> None:
    for field in ("n_samples", "n_data_points", "scale", "warning", "good_k", "approx_posterior"):
        assert getattr(new, field) == getattr(ref, field), field
    for field in ("elpd", "se", "p"):
        assert getattr(new, field) == pytest.approx(getattr(ref, field), rel=tol, abs=tol), field
    for field in ("elpd_i", "pareto_k", "log_weights"):
        a, b = getattr(ref, field), getattr(new, field)
        assert a.dims == b.dims and a.name == b.name, field
        np.testing.assert_allclose(b.values, a.values, rtol=tol, atol=tol, err_msg=field)
        assert (b.coords["dyad"].values == a.coords["dyad"].values).all()


@pytest.mark.parametrize(("chains", "draws", "groups", "thinned"),
                         [(2, 500, 700, False), (2, 60, 50, False), (1, 400, 80, False), (2, 250, 300, True)])
def test_group_loo_matches_arviz(chains, draws, groups, thinned):
    tree = _tree(_log_lik(chains, draws, groups), posterior_draws=2 * draws if thinned else None)
    _assert_same(group_loo(tree, "y", chunk=64), _reference(tree))


def test_group_far_from_a_pareto_tail_is_left_unsmoothed_with_nan_k():
    rng = np.random.default_rng(3)
    log_lik = _log_lik(2, 500, 20)
    ratios = np.concatenate([rng.uniform(1, 5, 880), np.full(110, 0.5), -rng.uniform(0, 1, 10)])  # -log ratios
    log_lik[..., 5] = rng.permutation(ratios).reshape(2, 500)  # the tail's first quarter ties at its cutoff
    tree = _tree(log_lik)
    new = group_loo(tree, "y")
    assert np.isnan(new.pareto_k.values[5]) and np.isfinite(np.delete(new.pareto_k.values, 5)).all()
    _assert_same(new, _reference(tree))


def test_float32_log_likelihood_is_computed_in_float64():
    """Fits store the log-likelihood in float32; the result is that of the same values in float64."""
    log_lik = _log_lik(2, 300, 60).astype(np.float32)
    new = group_loo(_tree(log_lik), "y")
    _assert_same(new, _reference(_tree(log_lik.astype(float))))


def test_tail_length_and_bad_input():
    assert tail_length(2000, 1.0) == 134 and tail_length(1000, 3.25) == 52 and tail_length(100, 1.0) == 20
    with pytest.raises(ValueError, match="at least 5 tail draws"):
        tail_length(20, 1.0)
    constant = np.zeros((2, 200))
    constant[1] = np.linspace(-1, 0, 200)
    with pytest.raises(ValueError, match="All tail values are the same"):
        psis_log_weights(constant, 1.0)


def test_weights_are_normalised_and_chunking_does_not_matter():
    values = _log_lik(2, 300, 90).transpose(2, 0, 1).reshape(90, -1)
    weights, k = psis_log_weights(values, 0.8, chunk=7)
    np.testing.assert_allclose(np.exp(weights).sum(axis=1), 1.0, rtol=1e-12)
    again, k_again = psis_log_weights(values, 0.8, chunk=1000)
    np.testing.assert_array_equal(weights, again)
    np.testing.assert_array_equal(k, k_again)
    assert xr.DataArray(k).notnull().all()
