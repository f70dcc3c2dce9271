"""Intercepts from the average probability across rows: the default intercept prior (and the cut points' Dirichlet)
is on the log-odds of the probability averaged over the sample's rows and groups, not at the covariate means.

Why: with many slopes under weakly informative priors the linear predictor spreads over several logits across rows,
and the average of logit^-1 over rows then lies far from logit^-1 at the means (Jensen's inequality): a prior at the
means implied event rates of 1e-3 and above for the rare-event dyad designs (about 2e-4 in the data) and squeezed an
ordinal middle category. Here the linear predictor's spread across rows and groups is taken as normal (mean and
variance from the design's column moments, the group and year sds), the average probability is its
logistic-normal mean by the trapezoid rule on a grid, and the intercept giving a stated average is found by
Newton's method in one compiled Op, whose gradient comes from the implicit function theorem (exact at the root,
so NUTS gets it without differentiating through the iterations). Exact for a normal spread; otherwise the prior
predictive check (`coupproof prior-check`) shows what it implies.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

# Quadrature nodes of the normal spread (standard normal units). The trapezoid rule on this smooth integrand errs by
# about exp(-2 pi^2 / (sd * spacing)): below 1e-10 for a spread of sd 5, 1e-5 at sd 10 (tests/test_average_rate.py);
# Model 4's and dca2's posteriors have sds of 1.4 to 2.6, the prior's far tails more.
GRID = np.linspace(-12.0, 12.0, 161)
LOG_WEIGHTS = -0.5 * GRID**2 - np.logaddexp.reduce(-0.5 * GRID**2)
NEWTON_STEPS = 30  # at most; from the start below, 12 reach 1e-10 for targets from -20 to 9 and sds up to 10
TOLERANCE = 1e-12  # Newton stops once a step is below this (log-odds)
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


@numba.njit(cache=True, nogil=True, inline="always")
def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x)) if x > 0 else x - math.log1p(math.exp(x))


@numba.njit(cache=True, nogil=True)
def solve_intercepts(target, mean, variance, grid, log_weights, steps, tolerance, max_step):
    """For each target log-odds t: the intercept b with logit E[logit^-1(b + mean + sd Z)] = t on the grid, and
    its derivatives in t (1 / G_c) and in the variance (-G_v / G_c = -E_w[z] / (2 sd), with weights w proportional
    to phi(z) sigma(u) sigma(-u); below sd 1e-3 Stein's lemma's limit E_w[tanh(u / 2)] / 2), G = logit of the grid's
    average, c = b + mean: the exact derivatives of the discrete solution. In log space throughout."""
    scale = math.sqrt(max(variance, 0.0))
    n = target.size
    b_out, d_target, d_variance = np.empty(n), np.empty(n), np.empty(n)
    terms = np.empty(grid.size)
    for i in range(n):
        t = target[i]
        if t + variance / 2 < 0:  # rare events: log P ~ b + mean + variance / 2 (log-normal)
            b = t - mean - variance / 2
        elif t - variance / 2 > 0:  # common events, mirrored
            b = t - mean + variance / 2
        else:  # the probit approximation
            b = t * math.sqrt(1.0 + math.pi * variance / 8.0) - mean
        for step_count in range(steps + 1):
            top_p, top_s = -np.inf, -np.inf
            for k in range(grid.size):
                u = b + mean + scale * grid[k]
                terms[k] = log_weights[k] + _log_sigmoid(u)
                top_p = max(top_p, terms[k])
            log_p = 0.0
            for k in range(grid.size):
                log_p += math.exp(terms[k] - top_p)
            log_p = top_p + math.log(log_p)
            log_q = math.log(-math.expm1(log_p)) if log_p > -0.693 else math.log1p(-math.exp(log_p))
            for k in range(grid.size):  # the slope's terms: phi sigma(u) sigma(-u)
                u = b + mean + scale * grid[k]
                terms[k] = terms[k] + _log_sigmoid(-u)
                top_s = max(top_s, terms[k])
            total, tilt = 0.0, 0.0
            for k in range(grid.size):
                w = math.exp(terms[k] - top_s)
                total += w
                tilt += w * (-grid[k] / scale if scale > 1e-3 else math.tanh(0.5 * (b + mean + scale * grid[k])))
            log_slope = top_s + math.log(total) - log_p - log_q  # log dG/dc
            step = (log_p - log_q - t) * math.exp(-log_slope)
            if abs(step) < tolerance or step_count == steps:
                break
            b -= min(max(step, -max_step), max_step)
        b_out[i], d_target[i], d_variance[i] = b, math.exp(-log_slope), 0.5 * tilt / total
    return b_out, d_target, d_variance


def _solve(target, mean, variance):
    return solve_intercepts(np.ascontiguousarray(target, dtype=float), float(mean), float(variance), GRID,
                            LOG_WEIGHTS, NEWTON_STEPS, TOLERANCE, MAX_STEP)


class InterceptForAverage(Op):
    """(target log-odds vector, mean, variance) -> (intercepts, d/d target, d/d variance); d/d mean is -1."""

    __props__ = ()

    def make_node(self, target, mean, variance):
        inputs = [pt.as_tensor_variable(v).astype("float64") for v in (target, mean, variance)]
        return Apply(self, inputs, [pt.dvector(), pt.dvector(), pt.dvector()])

    def perform(self, node, inputs, outputs):
        for storage, value in zip(outputs, _solve(*inputs)):
            storage[0] = value

    def infer_shape(self, node, shapes):
        return [shapes[0]] * 3

    def pullback(self, inputs, outputs, cotangents):
        for g in cotangents[1:]:
            if not isinstance(g.type, DisconnectedType):
                raise NotImplementedError("second derivatives of the average-row intercept are not available")
        _b, d_target, d_variance = outputs
        g = cotangents[0]
        return [g * d_target, -pt.sum(g), pt.sum(g * d_variance)]

    def connection_pattern(self, node):
        return [[True, True, True]] * 3


def intercept_for_average(target, mean, variance):
    """The intercept b with E[logit^-1(b + mean + sqrt(variance) Z)] = logit^-1(target), Z standard normal: the
    intercept whose average probability across a normal spread of the linear predictor has log-odds `target`
    (scalar or vector; `mean` and `variance` scalars). Stable in log space from event rates of 1e-9 to 1 - 1e-9."""
    target = pt.as_tensor_variable(target)
    b = InterceptForAverage()(pt.atleast_1d(target), mean, variance)[0]
    return b[0] if target.ndim == 0 else b


def _register_backends() -> None:
    """numba (nutpie) and JAX (numpyro) implementations of the Op: the same compiled solve, called from object mode
    or a host callback, so every backend gives bit-identical intercepts (see models.marginal_op)."""
    from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

    @register_funcify_default_op_cache_key(InterceptForAverage)
    def _numba_funcify(op, node=None, **kwargs):
        @numba.njit
        def intercept_for_average_numba(target, mean, variance):
            with numba.objmode(b="float64[::1]", d_target="float64[::1]", d_variance="float64[::1]"):
                b, d_target, d_variance = _solve(target, mean, variance)
            return b, d_target, d_variance

        return intercept_for_average_numba

    try:
        from pytensor.link.jax.dispatch import jax_funcify
    except ImportError:  # JAX is optional at run time
        return

    @jax_funcify.register(InterceptForAverage)
    def _jax_funcify(op, node=None, **kwargs):
        import jax
        import jax.numpy as jnp

        from .marginal_op import with_saved_gradients

        def call(target, mean, variance):
            shape = jax.ShapeDtypeStruct(target.shape, jnp.float64)
            return jax.pure_callback(lambda *a: tuple(np.asarray(o) for o in _solve(*a)), (shape,) * 3,
                                     target, mean, variance, vmap_method="sequential")

        def backward(derivatives, cotangents):
            d_target, d_variance = derivatives
            g = cotangents[0]
            return g * d_target, -jnp.sum(g), jnp.sum(g * d_variance)

        return with_saved_gradients(call, backward)


_register_backends()
