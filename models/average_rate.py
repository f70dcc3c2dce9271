"""Intercepts from the average probability across rows: the default intercept prior (and the cut points' Dirichlet)
is on the log-odds of the probability averaged over the sample's rows and groups, not at the covariate means.

Why: with many slopes under weakly informative priors the linear predictor spreads over several logits across rows,
and the average of logit^-1 over rows then lies far from logit^-1 at the means (Jensen's inequality): a prior at the
means implied event rates of 1e-3 and above for the rare-event dyad designs (about 2e-4 in the data) and squeezed an
ordinal middle category. Here the linear predictor's spread across rows and groups is taken as normal (mean and
variance from the design's column moments, the group and year sds), the average probability is its
logistic-normal mean by the trapezoid rule on a grid, and the intercept giving a stated average is found by
Newton's method, unrolled in the graph so that NUTS gets its gradient. Exact for a normal spread; otherwise the
prior predictive check (`coupproof prior-check`) shows what it implies.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt

# Quadrature nodes of the normal spread (standard normal units). The trapezoid rule on this smooth integrand errs by
# about exp(-2 pi^2 / (sd * spacing)): below 1e-10 for a spread of sd 5, 1e-5 at sd 10 (tests/test_average_rate.py);
# Model 4's and dca2's posteriors have sds of 1.4 to 2.6, the prior's far tails more. Cost per evaluation: nodes
# x NEWTON_STEPS (a tenth of a millisecond; the marginal kernel of Model 4 takes about 20).
GRID = np.linspace(-12.0, 12.0, 161)
NEWTON_STEPS = 12  # from the start below, converged to 1e-10 for targets from -20 to 9 and sds up to 10
MAX_STEP = 8.0  # largest Newton step on the log-odds scale (a safeguard far out in the tails)


def row_moments(Z: np.ndarray, beta, years: np.ndarray | None = None, year_effect=None, group_sd=None):
    """Mean and variance across rows and groups of the linear predictor less its intercept, Z beta +
    year_effect[year] + group effects of sd `group_sd`, from the design's column means and covariance (K x K work
    per evaluation, not a pass over the rows)."""
    mean = Z.mean(axis=0)
    cov = np.atleast_2d(np.cov(Z, rowvar=False, bias=True))
    coef = beta
    if year_effect is not None:  # the year indicators as further columns, without building them
        share = np.bincount(years) / len(years)
        within = np.stack([np.bincount(years, weights=z, minlength=len(share)) for z in Z.T]) / len(years)
        cross = within - np.outer(mean, share)
        mean = np.concatenate([mean, share])
        cov = np.block([[cov, cross], [cross.T, np.diag(share) - np.outer(share, share)]])
        coef = pt.concatenate([beta, year_effect])
    variance = pt.dot(coef, pt.dot(pt.as_tensor(cov), coef))
    return pt.dot(pt.as_tensor(mean), coef), variance if group_sd is None else variance + group_sd**2


def _log_sigmoid(x):
    return -pt.softplus(-x)


def intercept_for_average(target, mean, variance):
    """The intercept b with E[logit^-1(b + mean + sqrt(variance) Z)] = logit^-1(target), Z standard normal: the
    intercept whose average probability across a normal spread of the linear predictor has log-odds `target`
    (scalar or vector). Stable in log space from event rates of 1e-9 to 1 - 1e-9."""
    x, log_w = GRID, -0.5 * GRID**2
    log_w = pt.as_tensor(log_w - np.logaddexp.reduce(log_w))
    target = pt.as_tensor(target)
    scale = pt.sqrt(variance + 1e-12)
    probit = target * pt.sqrt(1.0 + np.pi * variance / 8.0) - mean  # the probit approximation
    # far in either tail the log-normal one (log P ~ b + mean + variance / 2 for rare events; mirrored for common)
    b = pt.switch(target + variance / 2 < 0, target - mean - variance / 2,
                  pt.switch(target - variance / 2 > 0, target - mean + variance / 2, probit))
    for _ in range(NEWTON_STEPS):
        u = (b + mean)[..., None] + scale * pt.as_tensor(x)
        log_p = pt.logsumexp(log_w + _log_sigmoid(u), axis=-1)
        log_q = pt.log1mexp(log_p)
        log_slope = pt.logsumexp(log_w + _log_sigmoid(u) + _log_sigmoid(-u), axis=-1) - log_p - log_q
        step = (log_p - log_q - target) * pt.exp(-log_slope)
        b = b - pt.clip(step, -MAX_STEP, MAX_STEP)
    return b
