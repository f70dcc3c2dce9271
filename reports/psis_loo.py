"""Leave-one-group-out PSIS-LOO for fits with many groups: arviz-stats' algorithm, vectorised over the groups.

`arviz_stats.loo` fits the generalized Pareto tail of each group's importance ratios in a Python loop (about 1.5 ms a
group; the six dyad fits have 91,340 groups, so the report spent about three minutes there). `group_loo` computes
the same numbers (Vehtari et al. 2024's PSIS with arviz-stats' tail length, empirical-Bayes Pareto fit and prior on
k) as whole-array operations over chunks of groups, and returns arviz-stats' own `ELPDDataLOO`, so `azs.compare` and
`arviz_plots` take it unchanged. It works in float64 where arviz-stats keeps the fits' float32 storage (which moves a
group's k by up to 0.02 on Model 4). tests/test_psis_loo.py checks it against `arviz_stats.loo` value for value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

if TYPE_CHECKING:
    from arviz_stats.utils import ELPDDataLOO

SAMPLE_DIMS = ("chain", "draw")
PRIOR_BS = 3  # arviz-stats' _gpdfit: the prior's scale for the grid of b (Zhang & Stephens 2009)
PRIOR_K = 10  # ... and the weight of its prior on k, centred at 0.5 (Vehtari et al. 2024)
CHUNK = 1024  # groups per block: the Pareto fit holds a (chunk, ~41, ~134) array (about 45 MB)


def logsumexp(x: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log(sum(exp(x))) along `axis`, shifted by the maximum (scipy's input checks cost more than the sum here)."""
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


def tail_length(n_samples: int, r_eff: float) -> int:
    """Draws in the smoothed right tail: 3 sqrt(S / r_eff), or S / 5 for small samples (arviz-stats' rule)."""
    n_tail = np.floor(3 * (n_samples / r_eff) ** 0.5) if n_samples * r_eff > 225 else np.floor(n_samples / 5)
    if n_tail < 5:
        raise ValueError(f"PSIS needs at least 5 tail draws; {n_samples} draws give {int(n_tail)}")
    return int(n_tail)


def gpd_fit(tail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shape k and scale sigma of a generalized Pareto fit to each row of `tail` (rows sorted ascending, exceedances
    over the cutoff): the empirical-Bayes estimate with a weak prior on k; k is NaN where the first quartile does not
    exceed the minimum (far from a Pareto tail) and inf where the fit fails, as in arviz-stats."""
    n = tail.shape[1]
    m_est = 30 + int(n**0.5)
    xstar = tail[:, int((n / 4 + 0.5) - 1)]  # first quartile
    far = xstar <= tail[:, 0]
    grid = 1 - np.sqrt(m_est / (np.arange(1, m_est + 1, dtype=float) - 0.5))
    with np.errstate(all="ignore"):
        b = grid[None, :] / (PRIOR_BS * xstar[:, None]) + 1 / tail[:, -1:]
        k_grid = np.log1p(-b[:, :, None] * tail[:, None, :]).mean(axis=2)
        profile = n * (np.log(-b / k_grid) - k_grid - 1)
        w = np.exp(profile - logsumexp(profile, axis=1, keepdims=True))
        w = np.where(w >= 10 * np.finfo(float).eps, w, 0.0)  # negligible weights dropped, then renormalised
        w /= w.sum(axis=1, keepdims=True)
        b_post = (b * w).sum(axis=1)
        k = np.log1p(-b_post[:, None] * tail).mean(axis=1)
        sigma = -k / b_post
    k = (n * k + PRIOR_K * 0.5) / (n + PRIOR_K)
    k = np.where(np.isnan(k), np.inf, k)
    return np.where(far, np.nan, k), np.where(far, np.nan, sigma)


def gpd_quantiles(probs: np.ndarray, k: np.ndarray, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Generalized Pareto quantiles, one row per (k, sigma, mu); NaN where sigma <= 0."""
    k, sigma, mu = k[:, None], sigma[:, None], mu[:, None]
    with np.errstate(all="ignore"):
        safe_k = np.where(k == 0, 1.0, k)
        q = np.where(k == 0, mu - sigma * np.log1p(-probs),
                     mu + sigma * np.expm1(-k * np.log1p(-probs)) / safe_k)
    return np.where(sigma > 0, q, np.nan)


def _smooth_block(log_ratios: np.ndarray, n_tail: int) -> tuple[np.ndarray, np.ndarray]:
    """Pareto-smoothed, normalised log weights and k for a block of rows of log importance ratios."""
    x = log_ratios - log_ratios.max(axis=1, keepdims=True)
    n = x.shape[1]
    top = np.argpartition(x, n - n_tail - 1, axis=1)[:, n - n_tail - 1:]  # the cutoff first, then the tail
    top = np.take_along_axis(top, np.argsort(np.take_along_axis(x, top, axis=1), axis=1), axis=1)
    tail_idx = top[:, 1:]
    tail = np.take_along_axis(x, tail_idx, axis=1)
    cutoff = np.take_along_axis(x, top[:, :1], axis=1)
    max_tail = tail[:, -1:]
    if np.any(np.abs(max_tail - tail[:, :1]) < np.finfo(float).tiny):
        raise ValueError("All tail values are the same")
    k, sigma = gpd_fit(np.exp(tail) - np.exp(cutoff))
    smooth = np.isfinite(k)
    if smooth.any():
        probs = np.arange(0.5, n_tail) / n_tail
        with np.errstate(all="ignore"):
            smoothed = np.log(gpd_quantiles(probs, k[smooth], sigma[smooth], np.exp(cutoff[smooth, 0])))
        smoothed = np.where(smoothed > max_tail[smooth], max_tail[smooth], smoothed)
        rows = x[smooth]
        np.put_along_axis(rows, tail_idx[smooth], smoothed, axis=1)
        x[smooth] = rows
    return x - logsumexp(x, axis=1, keepdims=True), k


def psis_log_weights(log_lik: np.ndarray, r_eff: float, chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """PSIS log weights (same shape) and Pareto k (one per row) for `log_lik` of shape (groups, draws)."""
    n_groups, n_samples = log_lik.shape
    n_tail = tail_length(n_samples, r_eff)
    weights, k = np.empty_like(log_lik, dtype=float), np.empty(n_groups)
    for start in range(0, n_groups, chunk):
        block = slice(start, start + chunk)
        weights[block], k[block] = _smooth_block(-np.asarray(log_lik[block], dtype=float), n_tail)
    return weights, k


def relative_efficiency(tree: xr.DataTree, n_samples: int) -> float:
    """The r_eff arviz-stats' loo uses: the mean ESS (mean method) over every posterior quantity, over the
    log-likelihood's number of draws `n_samples` (which may be a thinned subset of the posterior's)."""
    import arviz_stats as azs

    posterior = tree["posterior"].to_dataset()
    if posterior.sizes["chain"] == 1:
        return 1.0
    ess = azs.ess(posterior, method="mean")
    return float(np.hstack([ess[v].values.ravel() for v in ess.data_vars]).mean() / n_samples)


def group_loo(tree: xr.DataTree, var_name: str, chunk: int = CHUNK) -> "ELPDDataLOO":
    """PSIS-LOO of one fit from its pointwise log-likelihood `var_name` (one value per left-out group and draw):
    arviz-stats' `ELPDDataLOO`, with pointwise elpd and Pareto k, as `arviz_stats.loo(tree, var_name=...)` gives."""
    from arviz_stats.utils import ELPDDataLOO

    log_lik = tree["log_likelihood"][var_name]
    obs_dims = [d for d in log_lik.dims if d not in SAMPLE_DIMS]
    log_lik = log_lik.transpose(*obs_dims, *SAMPLE_DIMS)
    obs_shape = tuple(log_lik.sizes[d] for d in obs_dims)
    n_samples = log_lik.sizes["chain"] * log_lik.sizes["draw"]
    values = log_lik.values.reshape(-1, n_samples).astype(float)  # fits store float32; PSIS runs in float64
    weights, k = psis_log_weights(values, relative_efficiency(tree, n_samples), chunk)
    elpd_i = logsumexp(weights + values, axis=1)
    p_loo_i = logsumexp(values, axis=1) - np.log(n_samples) - elpd_i
    n = elpd_i.size
    good_k = min(1 - 1 / np.log10(n_samples), 0.7) if n_samples > 1 else 0.7
    coords = {d: log_lik.coords[d] for d in obs_dims if d in log_lik.coords}

    def pointwise(a: np.ndarray, name: str) -> xr.DataArray:
        return xr.DataArray(a.reshape(obs_shape), dims=obs_dims, coords=coords, name=name)

    log_weights = log_lik.copy(data=weights.reshape(log_lik.shape))
    return ELPDDataLOO(
        elpd=float(elpd_i.sum()), se=float(np.sqrt(n * np.var(elpd_i, ddof=1))) if n > 1 else 0.0,
        p=float(p_loo_i.sum()), n_samples=n_samples, n_data_points=n, scale="log",
        warning=bool(np.any(k > good_k)), good_k=good_k, elpd_i=pointwise(elpd_i, var_name),
        pareto_k=pointwise(k, var_name), approx_posterior=False, log_weights=log_weights)
