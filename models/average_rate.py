"""Intercepts from the average probability across rows: the default intercept prior (and the cut points' Dirichlet)
is on the log-odds of the probability averaged over the sample's rows and groups, not at the covariate means.

Why: with many slopes under weakly informative priors the linear predictor spreads over several logits across rows,
and the average of logit^-1 over rows then lies far from logit^-1 at the means (Jensen's inequality): a prior at the
means implied event rates of 1e-3 and above for the rare-event dyad designs (about 2e-4 in the data) and squeezed an
ordinal middle category. The average is taken over the rows themselves (each row's linear predictor without the
intercept: slopes and year effects as sampled) and over the groups' normal distribution (sd as sampled), so it is
the quantity the data pin down in every design; an earlier version took the rows' spread as normal and was off by
0.3 logits where cubic terms skew it (the country-year design), which let the prior move the intercept.

How: the rows' linear predictors are spread onto a grid of spacing BIN_WIDTH by linear interpolation (cloud in
cell), each grid point's share moved by the groups' normal (trapezoid rule on NODES) and spread onto the grid again,
so the probability is evaluated at a few hundred grid points whatever the rows: the average of the piecewise-linear
interpolants of the rows' probabilities, within 2 x BIN_WIDTH^2 / 8 (0.06%) of the exact rate. The intercept giving a
stated average is found by Newton's method in one compiled Op (numba), whose gradient in the target, each row's
linear predictor and the group sd comes from the implicit function theorem (exact for the discrete rule, so NUTS
gets it without differentiating through the iterations). Designs with more than ROW_LIMIT rows (the dyad-years)
average over a fixed random ROW_LIMIT of them, so the cost stays a few hundred bins whatever the design.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

BIN_WIDTH = 0.05  # log-odds between the grid points the rows are spread onto
MAX_BINS = 4000  # beyond this range (200 logits, far out in warm-up) the grid is coarsened by powers of 2
ROW_LIMIT = 20_000  # larger designs average over a fixed random subsample of this many rows (seed SUBSAMPLE_SEED)
SUBSAMPLE_SEED = 20_260_106
REACH = 9.0  # the groups' normal, discretised on the grid, out to this many sds (tapered to 0 from 8)
NEWTON_STEPS = 200  # at most; from the start (log-normal tails or probit), 3-8 steps reach the tolerance
TOLERANCE = 1e-12  # Newton stops once a step is below this (log-odds)
MAX_STEP = 8.0  # largest Newton step on the log-odds scale (a safeguard far out in the tails)


def average_rows(n_rows: int) -> np.ndarray:
    """The rows the average is taken over: all of them, or a fixed random ROW_LIMIT of them (sorted)."""
    if n_rows <= ROW_LIMIT:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(SUBSAMPLE_SEED).choice(n_rows, ROW_LIMIT, replace=False))


@numba.njit(cache=True, nogil=True, inline="always")
def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x)) if x > 0 else x - math.log1p(math.exp(x))


@numba.njit(cache=True, nogil=True)
def solve_on_rows(target, eta, sigma, width, max_bins, reach, steps, tolerance, max_step):
    """For each target log-odds t: the intercept b with logit(mean over rows r and groups of
    logit^-1(b + eta_r + sd Z)) = t, with the exact derivatives of the discrete solution in t, in every eta_r and in
    sd. Discrete rule: each row's linear predictor is spread onto a grid of spacing `width` (linear interpolation),
    the grid's shares convolved with the normal of sd `sigma` discretised on the grid (out to `reach` sds; smooth in
    sd, the identity at sd 0), and the probability evaluated at the grid points only, in log space."""
    n = eta.size
    low, high = eta.min(), eta.max()
    while (high - low + 2.0 * reach * sigma) / width > max_bins:  # absurd spreads only (warm-up): a coarser grid
        width *= 2.0
    half = int(math.ceil(reach * sigma / width))  # the normal's taps: offsets -half..half grid points
    kernel, kernel_d = np.empty(2 * half + 1), np.empty(2 * half + 1)  # weights and their derivatives in sd
    if half == 0:
        kernel[0], kernel_d[0] = 1.0, 0.0
    else:  # the normal, tapered to 0 over its last sd (smoothstep), so taps enter and leave with weight 0
        total, total_d = 0.0, 0.0
        for d in range(-half, half + 1):
            x = abs(d) * width / sigma  # dx / d sd = -x / sd
            taper, taper_d = 1.0, 0.0
            if x >= reach:
                taper = 0.0
            elif x > reach - 1.0:
                e = x - reach + 1.0
                taper, taper_d = 1.0 - e * e * (3.0 - 2.0 * e), -6.0 * e * (1.0 - e)
            density = math.exp(-0.5 * x * x)
            kernel[d + half] = density * taper
            kernel_d[d + half] = density * (x * x * taper - x * taper_d) / sigma
            total += kernel[d + half]
            total_d += kernel_d[d + half]
        for d in range(2 * half + 1):
            kernel[d] /= total
            kernel_d[d] = (kernel_d[d] / total) - kernel[d] * total_d / total
    first = int(math.floor(low / width)) - half
    size = int(math.floor(high / width)) + half + 3 - first
    mass, spread = np.zeros(size), np.zeros(size)
    index = np.empty(n, np.int64)
    mean, square, upper, lower = 0.0, 0.0, 0.0, 0.0
    for r in range(n):  # rows onto the grid
        x = eta[r] / width - first
        j = int(math.floor(x))
        index[r] = j
        mass[j] += j + 1.0 - x
        mass[j + 1] += x - j
        mean += eta[r]
        square += eta[r] * eta[r]
        upper += math.exp(eta[r] - high)
        lower += math.exp(low - eta[r])
    mean /= n
    variance = max(square / n - mean * mean, 0.0) + sigma * sigma
    upper = high + math.log(upper / n)  # log mean exp(eta): P ~ exp(b + upper + sd^2 / 2) for rare events
    lower = -low + math.log(lower / n)  # log mean exp(-eta): 1 - P ~ exp(-b + lower + sd^2 / 2) for common ones
    lowest, highest = index.min(), index.max() + 1  # the grid points rows sit beside
    for j in range(lowest, highest + 1):  # the groups' normal
        if mass[j] > 0:
            for d in range(2 * half + 1):
                spread[j - half + d] += mass[j] * kernel[d]
    log_spread = np.log(spread)  # -inf where nothing lands: it adds nothing
    log_f, terms_v, terms_q, terms_s = np.empty(size), np.empty(size), np.empty(size), np.empty(size)
    count = target.size
    b_out, d_target, d_sigma = np.empty(count), np.empty(count), np.empty(count)
    d_eta = np.empty((count, n))
    group_average = np.empty(size)
    for i in range(count):
        t = target[i]
        if t + variance / 2 < 0:  # rare events
            b = t - upper - sigma * sigma / 2
        elif t - variance / 2 > 0:  # common events
            b = t + lower + sigma * sigma / 2
        else:  # the probit approximation
            b = t * math.sqrt(1.0 + math.pi * variance / 8.0) - mean
        log_p, log_q, log_s = 0.0, 0.0, 0.0
        for step_count in range(steps + 1):
            top_v, top_q, top_s = -np.inf, -np.inf, -np.inf
            for l in range(size):
                u = b + (first + l) * width
                log_f[l] = _log_sigmoid(u)
                terms_v[l] = log_spread[l] + log_f[l]
                terms_q[l] = log_spread[l] + log_f[l] - u  # spread * sigma(-u): 1 - P summed directly
                terms_s[l] = terms_q[l] + log_f[l]  # spread * sigma(u) * sigma(-u)
                top_v, top_q, top_s = max(top_v, terms_v[l]), max(top_q, terms_q[l]), max(top_s, terms_s[l])
            total_v, total_q, total_s = 0.0, 0.0, 0.0
            for l in range(size):
                total_v += math.exp(terms_v[l] - top_v)
                total_q += math.exp(terms_q[l] - top_q)
                total_s += math.exp(terms_s[l] - top_s)
            log_p = top_v + math.log(total_v) - math.log(n)
            log_q = top_q + math.log(total_q) - math.log(n)
            log_s = top_s + math.log(total_s) - math.log(n)  # log dP/db
            step = (log_p - log_q - t) * math.exp(log_p + log_q - log_s)
            b -= min(max(step, -max_step), max_step)
            if abs(step) < tolerance or step_count == steps:
                break  # the last step is below 1e-12: derivatives at the point before it are exact to that
        b_out[i] = b
        d_target[i] = math.exp(log_p + log_q - log_s)
        # db/dx = -(dP/dx) / (dP/db), with F = logit^-1 on the grid scaled by its largest value there
        top = log_f.max()
        scale = math.exp(top - math.log(n) - log_s)
        for l in range(size):
            log_f[l] = math.exp(log_f[l] - top)
        tilt = 0.0
        for j in range(lowest, highest + 1):
            g, g_d = 0.0, 0.0
            for d in range(2 * half + 1):
                g += kernel[d] * log_f[j - half + d]
                g_d += kernel_d[d] * log_f[j - half + d]
            group_average[j] = g
            tilt += mass[j] * g_d
        d_sigma[i] = -scale * tilt
        for r in range(n):  # a row's share moves between its two grid points
            j = index[r]
            d_eta[i, r] = -scale * (group_average[j + 1] - group_average[j]) / width
    return b_out, d_target, d_eta, d_sigma


def _solve(target, eta, sigma):
    return solve_on_rows(np.ascontiguousarray(target, dtype=float), np.ascontiguousarray(eta, dtype=float),
                         float(sigma), BIN_WIDTH, MAX_BINS, REACH, NEWTON_STEPS, TOLERANCE, MAX_STEP)


class InterceptForAverage(Op):
    """(target log-odds vector, rows' linear predictors, group sd) -> (intercepts, d/d target, d/d eta (targets x
    rows), d/d sd)."""

    __props__ = ()

    def make_node(self, target, eta, sigma):
        inputs = [pt.as_tensor_variable(v).astype("float64") for v in (target, eta, sigma)]
        return Apply(self, inputs, [pt.dvector(), pt.dvector(), pt.dmatrix(), pt.dvector()])

    def perform(self, node, inputs, outputs):
        for storage, value in zip(outputs, _solve(*inputs)):
            storage[0] = value

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[0], (shapes[0][0], shapes[1][0]), shapes[0]]

    def pullback(self, inputs, outputs, cotangents):
        for g in cotangents[1:]:
            if not isinstance(g.type, DisconnectedType):
                raise NotImplementedError("second derivatives of the average-row intercept are not available")
        _b, d_target, d_eta, d_sigma = outputs
        g = cotangents[0]
        return [g * d_target, pt.dot(g, d_eta), pt.sum(g * d_sigma)]

    def connection_pattern(self, node):
        return [[True] * 4] * 3


def intercept_for_average(target, eta, sigma=0.0):
    """The intercept b with mean over rows r of E[logit^-1(b + eta_r + sigma Z)] = logit^-1(target), Z standard
    normal: the intercept whose average probability over the rows (linear predictors `eta` without the intercept) and
    a normal group effect of sd `sigma` has log-odds `target` (scalar or vector). Stable in log space from event rates
    of 1e-9 to 1 - 1e-9."""
    target = pt.as_tensor_variable(target)
    b = InterceptForAverage()(pt.atleast_1d(target), eta, 0.0 if sigma is None else sigma)[0]
    return b[0] if target.ndim == 0 else b


def _register_backends() -> None:
    """numba (nutpie) and JAX (numpyro) implementations of the Op: the same compiled solve, called from object mode
    or a host callback, so every backend gives bit-identical intercepts (see models.marginal_op)."""
    from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

    @register_funcify_default_op_cache_key(InterceptForAverage)
    def _numba_funcify(op, node=None, **kwargs):
        @numba.njit
        def intercept_for_average_numba(target, eta, sigma):
            with numba.objmode(b="float64[::1]", d_target="float64[::1]", d_eta="float64[:, ::1]",
                               d_sigma="float64[::1]"):
                b, d_target, d_eta, d_sigma = _solve(target, eta, sigma)
            return b, d_target, d_eta, d_sigma

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

        def call(target, eta, sigma):
            vector = jax.ShapeDtypeStruct(target.shape, jnp.float64)
            matrix = jax.ShapeDtypeStruct((target.shape[0], eta.shape[0]), jnp.float64)
            return jax.pure_callback(lambda *a: tuple(np.asarray(o) for o in _solve(*a)),
                                     (vector, vector, matrix, vector), target, eta, sigma,
                                     vmap_method="sequential")

        def backward(derivatives, cotangents):
            d_target, d_eta, d_sigma = derivatives
            g = cotangents[0]
            return g * d_target, g @ d_eta, jnp.sum(g * d_sigma)

        return with_saved_gradients(call, backward)


_register_backends()


def row_predictors(Z: np.ndarray, beta, years: np.ndarray | None = None, year_effect=None):
    """The linear predictor less intercept and group effect, Z beta + the year's effect, of the rows the average is
    taken over (average_rows)."""
    rows = average_rows(Z.shape[0])
    eta = pt.dot(pt.as_tensor(np.ascontiguousarray(Z[rows])), beta)
    return eta if year_effect is None else eta + year_effect[years[rows]]
