"""The fast exact marginal log-likelihood of a logit with dyad random intercepts (numba kernel).

For dyad d with rows t, linear predictors eta_t, outcomes y_t and b = sigma * u on a uniform grid of nodes u_k:

    log L_d = logsumexp_k [ lw_k + sum_t y_t (eta_t + b_k) - sum_t softplus(eta_t + b_k) ].

The naive rule costs rows x nodes transcendental functions. Here the softplus sum is split per (row, node):

- where w = exp(eta_t + b_k) <= rho, softplus = sum_m (-1)^(m+1) w^m / m, truncated once w^m < `tol` (the
  alternating series' error is below its first omitted term). The powers separate into a per-row part
  exp(m eta_t) and a per-node part exp(m b_k), so each dyad needs per-node power sums only;
- the remaining pairs (eta_t + b_k > log rho: rows near the decision boundary, at high nodes) are evaluated exactly;
- a node is left out when an upper bound of its log weight (the series part is exact; for the exact pairs,
  Jensen's inequality gives sum softplus(x_t) >= n softplus(mean x_t)) lies more than `skip` below the exact log
  weight of another node: its share of the dyad's likelihood is below exp(-skip).

Three paths per dyad. Most dyads have no event and, at small sigma, every row in the series region at every node:
their power sums at the top node, scaled down node by node by a table shared by all dyads, give every node's log
weight in a few short vectorised loops. At larger sigma the top nodes of a dyad without events reach the decision
boundary: the same power sums serve the nodes below (taken at the highest node where every row is in the series
region), and the nodes above are evaluated exactly, upwards until the log weight (concave in u) has passed its
peak and fallen by `skip`. The others (dyads with events, or rows beyond the boundary at the lowest node) take
the general path:
each row gets a "bucket" (the number of nodes at which it is in the series region), the power sums are built by
one recursion down the nodes, and the boundary pairs are evaluated exactly. Powers are stored scaled so that
every stored power is <= rho^m: nothing overflows for any sigma.

The range rule. Each dyad is first evaluated on its shared rule (u in [-8, 8], or [-10, 10] with events: enough
wherever the dyad's conditional posterior of u sits near the prior). Its conditional log density is concave with
curvature >= 1 in u, so the discrete posterior on those nodes tells whether the rule covered it: the rule is kept
when both end nodes carry less than du exp(-skip) of the weight (nothing beyond them can matter more: past the
mode the density falls at least like a Gaussian of sd 1) and the discrete posterior's sd is at least
`sd_steps(skip)` node spacings (the trapezoid rule's relative error on a Gaussian of sd s with spacing du is about
2 exp(-2 pi^2 s^2 / du^2); this keeps it below exp(-skip)). Both checks cost a few operations per dyad; at the
posterior of the real data no dyad fails them. A dyad that fails (far from the posterior, as NUTS warm-up can go:
a large intercept pushes a dyad without events far below u = -8; many events and a very negative eta push a dyad
far above) gets a rule of its own through the general path: centred on its conditional mode (safeguarded Newton),
reaching on each side to where its log density has fallen by skip + 2 (probed directly), spaced by its curvature
there as well as the shared rule's limits, refined again if the discrete check still fails.

Accuracy: each dyad's log L_d within about 1e-10 (relative; mostly 1e-13) of a dense rule centred on its mode,
at any coefficients, wherever the shared rules' spacing is not capped by `max_nodes` (sigma up to about 17 with
the defaults); beyond, the capped spacing in b costs accuracy (about 1e-8 at sigma = 30, 5e-3 at sigma = 1e3) but
nothing breaks.

Invalid parameters: sigma nan, negative or above MAX_SIGMA, non-finite coefficients or level effects, a linear
predictor that overflows, or any non-finite result give a total of -inf with zero gradients (nan per-dyad
summaries), which nutpie, PyMC and numpyro treat as a divergent (rejected) point; no float input raises.
sigma = 0 gives the plain logit likelihood.

The gradient in eta and sigma reuses the same sums with the nodes' posterior weights p_k. The kernel also gives
each dyad's conditional posterior mean and mean square of b, from which dyad effects are recovered after sampling.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_TANGENT_AT = np.arange(-4.0, 6.5, 0.5)
TANGENT_SLOPE = 1.0 / (1.0 + np.exp(-_TANGENT_AT))
TANGENT_INTERCEPT = np.logaddexp(0.0, _TANGENT_AT) - TANGENT_SLOPE * _TANGENT_AT
# No fast-math anywhere in the kernel: with reassociation or FMA contraction allowed, LLVM may compile the same
# source differently when it is inlined into PyTensor's function or loaded from a cache, and the last bits then
# differ between processes (the draws of one seed parted in a Dask worker). Strict IEEE costs nothing measurable.
MAX_SIGMA = 1e8  # beyond, b = sigma * u keeps no useful absolute precision: such a sigma is rejected as invalid
# scratch for a dyad's own rule: a near-Gaussian posterior takes 2 x 1.25^2 x sqrt(2 (skip + 2)) x sd_steps = 33
# nodes (1.25 sd margins in reach and spacing); a skewed one, whose reach was probed wider, up to 1.5 times that
OWN_RULE_MIN_NODES = 48
OWN_RULE_ATTEMPTS = 3  # a dyad's own rule is refined at most this often when its discrete check fails


@numba.njit(cache=True, nogil=True, inline="always")
def _n_terms(log_w: float, log_tol: float, max_terms: int) -> int:
    """Series terms needed for the powers of w = exp(log_w) <= rho < 1 to fall below tol = exp(log_tol)."""
    if log_w < log_tol:
        return 1 if log_w > -np.inf else 0
    return min(int(log_tol / log_w) + 1, max_terms)


@numba.njit(cache=True, nogil=True)
def rule_size(half_width: float, sigma: float, spacing_u: float, spacing_b: float, max_nodes: int) -> int:
    """Nodes of the trapezoid rule on u in [-half_width, half_width]: spacing at most `spacing_u` in u (the normal
    density's own error) and at most `spacing_b` in b = sigma * u (the likelihood's poles lie pi from the real
    axis in b, so the error is set by the spacing in b), capped at `max_nodes` (also for an infinite or nan sigma)."""
    h = spacing_u if sigma * spacing_u <= spacing_b else spacing_b / sigma
    if not h > 0.0:
        return max_nodes
    span = 2.0 * half_width / h
    if not span < max_nodes:
        return max_nodes
    return min(int(math.ceil(span)) + 1, max_nodes)


@numba.njit(cache=True, nogil=True)
def sd_steps(skip: float) -> float:
    """Node spacings per posterior sd below which a trapezoid rule is refined: 2 exp(-2 pi^2 s^2) <= exp(-skip)."""
    return math.sqrt((skip + math.log(2.0)) / (2.0 * math.pi * math.pi))


@numba.njit(cache=True, nogil=True, inline="always")
def _softplus_floor(x: float) -> float:
    """A lower bound of softplus(x) without transcendental functions: the largest of its tangents at
    -4, -3.5, ..., 6 (and of 0 and x), within 0.008 of softplus everywhere."""
    best = max(x, 0.0)
    for i in range(TANGENT_SLOPE.size):
        best = max(best, TANGENT_SLOPE[i] * x + TANGENT_INTERCEPT[i])
    return best


@numba.njit(cache=True, nogil=True)
def _valid_parameters(coef, level_effect, sigma) -> bool:
    """Whether 0 <= sigma <= MAX_SIGMA (so not nan) and every coefficient and level effect is finite."""
    if not 0.0 <= sigma <= MAX_SIGMA:
        return False
    for j in range(coef.size):
        if not math.isfinite(coef[j]):
            return False
    for j in range(level_effect.size):
        if not math.isfinite(level_effect[j]):
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _reject(dyad_loglik, grad_coef, grad_level, dyad_b, row_prob, own_rule):
    """The kernel's answer at an invalid point: total -inf (returned by the caller), zero gradients, nan summaries."""
    dyad_loglik[:] = -np.inf
    grad_coef[:] = 0.0
    grad_level[:] = 0.0
    dyad_b[:] = np.nan
    row_prob[:] = np.nan
    own_rule[:] = False


@numba.njit(cache=True, nogil=True)
def _trapezoid_log_weights(lw, u0, du, K):
    """lw[k] = log(w_k phi(u_k)) of the K-node trapezoid rule from u0 with spacing du."""
    for k in range(K):
        u = u0 + k * du
        lw[k] = math.log(du * (0.5 if k == 0 or k == K - 1 else 1.0)) - 0.5 * u * u - LOG_SQRT_2PI


@numba.njit(cache=True, nogil=True, inline="always")
def _rule_misses(edge, mean_u, sq_u, du, skip, min_sd_steps) -> bool:
    """Whether a dyad's discrete posterior shows that its rule did not cover it: an end node with more than
    du exp(-skip) of the weight, or a posterior sd below `min_sd_steps` node spacings."""
    return edge > du * math.exp(-skip) or sq_u - mean_u * mean_u < (min_sd_steps * du) ** 2


@numba.njit(cache=True, nogil=True)
def _conditional_mode(eta, y, n, sigma, u_start):
    """The mode of a dyad's conditional log density in u, -u^2 / 2 + sum_t [y_t x_t - softplus(x_t)] with
    x_t = eta_t + sigma u, and its curvature there. The score -u + sigma sum_t (y_t - sigmoid(x_t)) decreases
    (curvature >= 1) and changes sign in [sigma (events - rows), sigma events]: Newton's method, falling back to
    bisection whenever a step leaves the bracket."""
    events = 0.0
    for i in range(n):
        events += y[i]
    lo = sigma * (events - n)
    hi = sigma * events
    u = min(max(u_start, lo), hi)
    curvature = 1.0
    for _ in range(200):
        score = 0.0
        info = 0.0
        for i in range(n):
            s = 1.0 / (1.0 + math.exp(-(eta[i] + sigma * u)))
            score += y[i] - s
            info += s * (1.0 - s)
        score = sigma * score - u
        curvature = 1.0 + sigma * sigma * info
        if score > 0.0:
            lo = u
        else:
            hi = u
        step = score / curvature
        new = u + step
        if not lo < new < hi:
            new = 0.5 * (lo + hi)
        if abs(new - u) <= 1e-9 / math.sqrt(curvature) + 4e-16 * abs(u):  # well within the posterior's sd
            return new, curvature
        u = new
    return u, curvature


@numba.njit(cache=True, nogil=True)
def _log_density(eta, y, n, sigma, u):
    """A dyad's conditional log density of u up to a constant (exact softplus)."""
    value = -0.5 * u * u
    for i in range(n):
        x = eta[i] + sigma * u
        value += y[i] * x - (max(x, 0.0) + math.log1p(math.exp(-abs(x))))
    return value


@numba.njit(cache=True, nogil=True)
def _reach(eta, y, n, sigma, mode, peak, direction, first, drop, most):
    """How far from the mode (in u, towards `direction`) the log density has fallen by `drop`: probed from `first`
    outwards by factors of 1.5, at most `most` (where curvature >= 1 guarantees the fall)."""
    reach = min(max(first, 1e-9 * most), most)
    while reach < most and _log_density(eta, y, n, sigma, mode + direction * reach) > peak - drop:
        reach = min(1.5 * reach, most)
    return reach


class KernelLayout(NamedTuple):
    """The rows' layout: level code, outcome (rows sorted by dyad), dyad row offsets (n_dyads + 1), each dyad's
    rule and each rule's half-width in u."""

    level: np.ndarray
    y: np.ndarray
    offsets: np.ndarray
    rule_of_dyad: np.ndarray
    rule_half_width: np.ndarray


class KernelSettings(NamedTuple):
    """The kernel's accuracy settings (see `QuadratureOptions`): node spacing in u and b, node cap, series region,
    series terms and tolerance (log), node-skipping threshold."""

    spacing_u: float
    spacing_b: float
    max_nodes: int
    log_rho: float
    max_terms: int
    log_tol: float
    skip: float


class KernelOutputs(NamedTuple):
    """Arrays the kernel fills: per-dyad log-likelihood (n_dyads), gradient in coef and in the level effects,
    E[b] and E[b^2] per dyad (n_dyads, 2), each row's Pr(y = 1) (empty: not computed) and whether each dyad took
    a rule of its own (empty: not recorded)."""

    dyad_loglik: np.ndarray
    grad_coef: np.ndarray
    grad_level: np.ndarray
    dyad_b: np.ndarray
    row_prob: np.ndarray
    own_rule: np.ndarray


@numba.njit(cache=True, nogil=True)
def marginal_loglik(X, coef, level_effect, sigma, layout, settings, want_grad, out):
    """Sum over dyads of log L_d with linear predictor eta_t = X_t @ coef + level_effect[level_t] (the second
    term carries effects shared across dyads, e.g. years). Fills dyad_loglik (n_dyads), grad_coef and grad_level
    (only if want_grad), dyad_b (n_dyads, 2: conditional posterior mean and mean square of b) and, if want_grad
    and row_prob is not empty, each row's Pr(y = 1) averaged over its dyad's conditional posterior (the
    gradient's sigmoid sums: y_t - d/d eta_t) and, if own_rule is not empty, whether each dyad was evaluated on a
    rule of its own (the range rule). Returns (total, d total / d sigma, number of exactly evaluated (row, node)
    pairs); (-inf, 0, 0) at an invalid point.

    X (rows, p), level, y: rows sorted by dyad; offsets: (n_dyads + 1) row offsets; rule_of_dyad: each dyad's rule;
    rule_half_width: each rule's range in u (node count from `rule_size`). The design is read once, dyad by dyad,
    while its rows are in cache. `layout`, `settings` and `out` are a KernelLayout, KernelSettings and KernelOutputs.
    """
    level, y, offsets, rule_of_dyad, rule_half_width = layout
    spacing_u, spacing_b, max_nodes, log_rho, max_terms, log_tol, skip = settings
    dyad_loglik, grad_coef, grad_level, dyad_b, row_prob, own_rule = out
    n_dyads = offsets.size - 1
    n_rules = rule_half_width.size
    M = max_terms
    if not _valid_parameters(coef, level_effect, sigma):
        _reject(dyad_loglik, grad_coef, grad_level, dyad_b, row_prob, own_rule)
        return -np.inf, 0.0, 0
    max_rows = 1
    for d in range(n_dyads):
        max_rows = max(max_rows, offsets[d + 1] - offsets[d])
    series_coef = np.empty(M)  # series of softplus: (-1)^(m+1) / m
    alt = np.empty(M)  # series of the sigmoid: (-1)^(m+1)
    for m in range(M):
        alt[m] = 1.0 if m % 2 == 0 else -1.0
        series_coef[m] = alt[m] / (m + 1)
    # the rules at this sigma: first node, spacing, size and log weights log(w_k phi(u_k))
    rule_k = np.empty(n_rules, np.int64)
    for r in range(n_rules):
        rule_k[r] = rule_size(rule_half_width[r], sigma, spacing_u, spacing_b, max_nodes)
    max_k = max(rule_k.max(), OWN_RULE_MIN_NODES)  # scratch also holds a dyad's own rule
    rule_u0 = np.empty(n_rules)
    rule_du = np.empty(n_rules)
    rule_lw = np.full((n_rules, max_k), -np.inf)
    for r in range(n_rules):
        rule_u0[r] = -rule_half_width[r]
        rule_du[r] = 2.0 * rule_half_width[r] / (rule_k[r] - 1)
        _trapezoid_log_weights(rule_lw[r], rule_u0[r], rule_du[r], rule_k[r])
    # decay[r, m, k] = exp(-(m+1) (b_top - b_k)): moves the m-th power sums from the top node to node k
    decay = np.zeros((n_rules, M, max_k))
    for r in range(n_rules):
        h = sigma * rule_du[r]
        K = rule_k[r]
        for m in range(M):
            for k in range(K):
                decay[r, m, k] = math.exp(-(m + 1) * h * (K - 1 - k))
    min_sd_steps = sd_steps(skip)
    # scratch, reused by every dyad
    T = np.zeros(M)
    R = np.zeros((max_k + 1, M))
    node_value = np.empty(max_k)  # series part of sum_t softplus(x_tk)
    node_sig = np.empty(max_k)  # series part of sum_t sigmoid(x_tk)
    logw = np.empty(max_k)
    own_lw = np.empty(max_k)  # log weights of a dyad's own rule
    p = np.zeros(max_k)
    w = np.empty(max_rows)
    wp = np.empty(max_rows)
    eta = np.empty(max_rows)
    grad_eta = np.empty(max_rows)
    n_coef = coef.size
    for j in range(n_coef):
        grad_coef[j] = 0.0
    for j in range(grad_level.size):
        grad_level[j] = 0.0
    general = _general_scratch(max_k, max_rows, M)
    q = np.empty(max_rows)  # each row's exp(x) at the band node being evaluated
    first = np.zeros(M, np.int64)  # the lowest node at which each series term matters
    band_sig = np.empty((max_k, max_rows))  # sigmoids of the band's pairs, for the gradient
    total = 0.0
    grad_sigma = 0.0
    pairs = 0
    for d in range(n_dyads):
        start = offsets[d]
        n = offsets[d + 1] - start
        r = rule_of_dyad[d]
        K = rule_k[r]
        b_top = sigma * (rule_u0[r] + (K - 1) * rule_du[r])
        eta_max = -np.inf
        eta_sum = 0.0  # non-finite iff some eta is (or their sum overflows): checked before any bucket index
        n_events = 0.0
        for i in range(n):
            e = 0.0
            for j in range(n_coef):
                e += X[start + i, j] * coef[j]
            e += level_effect[level[start + i]]
            eta[i] = e
            eta_max = max(eta_max, e)
            eta_sum += e
            n_events += y[start + i]
        if not math.isfinite(eta_sum):
            _reject(dyad_loglik, grad_coef, grad_level, dyad_b, row_prob, own_rule)
            return -np.inf, 0.0, 0
        y_d = y[start:start + n]
        ks = _top_series_node(eta_max, sigma, rule_u0[r], rule_du[r], K, log_rho)
        if n_events == 0.0 and ks == K - 1:
            ll, gs, mean_u, sq_u, edge = _series_dyad(
                eta, n, rule_lw[r], K, rule_u0[r], rule_du[r], sigma, eta_max + b_top, b_top, decay[r], log_tol, M,
                skip, want_grad, grad_eta, series_coef, alt, w, wp, T, node_value, node_sig, logw, p)
        elif n_events == 0.0 and ks >= 0:
            ll, gs, mean_u, sq_u, edge, n_pairs = _band_dyad(
                eta, eta_max, n, rule_lw[r], K, ks, rule_u0[r], rule_du[r], sigma, decay[r], log_tol, M, skip,
                want_grad, grad_eta, series_coef, alt, w, wp, q, T, first, node_value, node_sig, logw, p, band_sig)
            pairs += n_pairs
        else:
            ll, gs, mean_u, sq_u, edge, n_pairs = _general_dyad(
                eta, y_d, n, rule_lw[r], K, rule_u0[r], rule_du[r], sigma, log_rho, log_tol, M, skip, want_grad,
                grad_eta, series_coef, alt, T, R, node_sig, logw, p, general)
            pairs += n_pairs
        missed = _rule_misses(edge, mean_u, sq_u, rule_du[r], skip, min_sd_steps)
        if missed:
            ll, gs, mean_u, sq_u, n_pairs = _own_rule_dyad(
                eta, y_d, n, sigma, mean_u, rule_du[r], max_k, own_lw, min_sd_steps, log_rho, log_tol, M, skip,
                want_grad, grad_eta, series_coef, alt, T, R, node_sig, logw, p, general)
            pairs += n_pairs
        if own_rule.size:
            own_rule[d] = missed
        if want_grad:
            for i in range(n):
                g = grad_eta[i]
                for j in range(n_coef):
                    grad_coef[j] += X[start + i, j] * g
                grad_level[level[start + i]] += g
            if row_prob.size:
                for i in range(n):
                    row_prob[start + i] = y[start + i] - grad_eta[i]
        dyad_loglik[d] = ll
        total += ll
        grad_sigma += gs
        dyad_b[d, 0] = sigma * mean_u
        dyad_b[d, 1] = sigma * sigma * sq_u
    # a last guard: overflow in extreme (finite) parameters must not reach the sampler as nan or +inf
    finite = math.isfinite(total) and math.isfinite(grad_sigma)
    for j in range(n_coef):
        finite = finite and math.isfinite(grad_coef[j])
    for j in range(grad_level.size):
        finite = finite and math.isfinite(grad_level[j])
    if not finite:
        _reject(dyad_loglik, grad_coef, grad_level, dyad_b, row_prob, own_rule)
        return -np.inf, 0.0, 0
    return total, grad_sigma, pairs


@numba.njit(cache=True, nogil=True)
def _own_rule_dyad(eta, y, n, sigma, u_start, du_shared, max_k, lw, min_sd_steps, log_rho, log_tol, M, skip,
                   want_grad, grad_eta, coef, alt, T, R, s_series, logw, p, general):
    """A dyad whose shared rule missed its conditional posterior, on a trapezoid rule of its own (general path):
    from its mode, out to where its log density has fallen by skip + 2 on each side (curvature >= 1 bounds that
    distance by sqrt(2 (skip + 2))), spaced at most as the shared rule and at 1 / (1.25 sd_steps) Laplace sds;
    refined while its discrete posterior still fails the shared rule's check."""
    mode, curvature = _conditional_mode(eta, y, n, sigma, u_start)
    sd = 1.0 / math.sqrt(curvature)
    drop = skip + 2.0
    most = math.sqrt(2.0 * drop)
    peak = _log_density(eta, y, n, sigma, mode)
    first = 1.25 * sd * most  # a Gaussian of this sd falls by `drop` at sd * most
    below = _reach(eta, y, n, sigma, mode, peak, -1.0, first, drop, most)
    above = _reach(eta, y, n, sigma, mode, peak, 1.0, first, drop, most)
    du = min(du_shared, sd / (1.25 * min_sd_steps))
    pairs = 0
    for _ in range(OWN_RULE_ATTEMPTS):
        span = below + above
        K = max_k if not span / du < max_k - 1 else max(int(math.ceil(span / du)) + 1, 3)
        du = span / (K - 1)
        u0 = mode - below
        _trapezoid_log_weights(lw, u0, du, K)
        ll, gs, mean_u, sq_u, edge, n_pairs = _general_dyad(
            eta, y, n, lw, K, u0, du, sigma, log_rho, log_tol, M, skip, want_grad, grad_eta, coef, alt, T, R,
            s_series, logw, p, general)
        pairs += n_pairs
        if not _rule_misses(edge, mean_u, sq_u, du, skip, min_sd_steps):
            break
        if edge > du * math.exp(-skip):  # not expected (the reach was probed): widen both sides
            below = min(1.5 * below, most)
            above = min(1.5 * above, most)
        var_u = sq_u - mean_u * mean_u  # the discrete posterior's spread, if it resolved any
        du = min(du, math.sqrt(var_u) / (1.25 * min_sd_steps)) if var_u > 0.0 else 0.25 * du
    return ll, gs, mean_u, sq_u, pairs


@numba.njit(cache=True, nogil=True, inline="always")
def _power_sums(eta, n, b, log_wmax, log_tol, M, w, wp, T):
    """w_t = exp(eta_t + b) of a dyad's rows, all in the series region at b (the largest log w_t is log_wmax), and
    their power sums T[m] = sum_t w_t^(m+1) for as many terms as the series needs; returns that number."""
    nt = _n_terms(log_wmax, log_tol, M)
    for i in range(n):
        w[i] = math.exp(eta[i] + b)
        wp[i] = w[i]
    for m in range(nt):
        acc = 0.0
        for i in range(n):
            acc += wp[i]
            wp[i] *= w[i]
        T[m] = acc
    return nt


@numba.njit(cache=True, nogil=True, inline="always")
def _node_posterior(logw, nodes, top, u0, du, skip, node_sig, p):
    """The discrete posterior p of a dyad without events over nodes 0..nodes-1 from their log weights (top: the
    largest; nodes below top - skip get none): log L_d, the mean and mean square of u and d log L_d / d sigma
    (-sum_k p_k u_k sum_t sigmoid(x_tk), the sigmoid sums in node_sig)."""
    acc = 0.0
    for k in range(nodes):
        p[k] = math.exp(logw[k] - top) if logw[k] >= top - skip else 0.0
        acc += p[k]
    ll = top + math.log(acc)
    mean_u = 0.0
    sq_u = 0.0
    gs = 0.0
    for k in range(nodes):
        p[k] /= acc
        u = u0 + k * du
        mean_u += p[k] * u
        sq_u += p[k] * u * u
        gs -= p[k] * u * node_sig[k]
    return ll, mean_u, sq_u, gs


@numba.njit(cache=True, nogil=True, inline="always")
def _series_dyad(eta, n, lw, K, u0, du, sigma, log_wmax, b_top, decay, log_tol, M, skip, want_grad, grad_eta,
                 coef, alt, w, wp, T, node_value, node_sig, logw, p):
    """A dyad without events whose rows are all in the series region at every node. Returns log L_d, its
    derivative in sigma, the discrete posterior's mean and mean square of u and its larger end-node weight."""
    nt = _power_sums(eta, n, b_top, log_wmax, log_tol, M, w, wp, T)  # at the top node
    for k in range(K):
        node_value[k] = 0.0
        node_sig[k] = 0.0
    for m in range(nt):
        cv = coef[m] * T[m]
        cs = alt[m] * T[m]
        for k in range(K):
            node_value[k] += cv * decay[m, k]
            node_sig[k] += cs * decay[m, k]
    top = -np.inf
    for k in range(K):
        logw[k] = lw[k] - node_value[k]
        top = max(top, logw[k])
    ll, mean_u, sq_u, gs = _node_posterior(logw, K, top, u0, du, skip, node_sig, p)
    if want_grad:
        # d/d eta_t = -sum_k p_k sigmoid(x_tk) = -sum_m (-1)^(m+1) w_t^m sum_k p_k decay[m, k]
        for i in range(n):
            wp[i] = w[i]
            grad_eta[i] = 0.0
        for m in range(nt):
            acc = 0.0
            for k in range(K):
                acc += p[k] * decay[m, k]
            c = alt[m] * acc
            for i in range(n):
                grad_eta[i] -= c * wp[i]
                wp[i] *= w[i]
    return ll, gs, mean_u, sq_u, max(p[0], p[K - 1])


@numba.njit(cache=True, nogil=True, inline="always")
def _top_series_node(eta_max, sigma, u0, du, K, log_rho):
    """The highest node of a rule at which a row with linear predictor eta_max is in the series region (with a
    dyad's largest, every row of the dyad), or -1 if none is."""
    h = sigma * du
    x0 = eta_max + sigma * u0
    if x0 > log_rho:
        return -1
    if h <= 0.0 or (log_rho - x0) >= (K - 1) * h:
        return K - 1
    return int((log_rho - x0) / h)


@numba.njit(cache=True, nogil=True, inline="always")
def _band_dyad(eta, eta_max, n, lw, K, ks, u0, du, sigma, decay, log_tol, M, skip, want_grad, grad_eta, coef, alt,
               w, wp, q, T, first, node_value, node_sig, logw, p, band_sig):
    """A dyad without events whose rows reach the decision boundary at the top nodes (ks < K - 1). Nodes 0..ks,
    where every row is in the series region, from power sums at node ks scaled down by the shared decay table;
    nodes above ks exactly, upwards until the log weight, concave in u, is falling and `skip` below the largest:
    no later node can matter. Returns log L_d, its derivative in sigma, the discrete posterior's mean and mean
    square of u, its larger end-node weight and the number of exactly evaluated pairs."""
    h = sigma * du
    b_s = sigma * (u0 + ks * du)
    dec = decay[:, K - 1 - ks:]
    log_wmax = eta_max + b_s
    nt = _power_sums(eta, n, b_s, log_wmax, log_tol, M, w, wp, T)  # at node ks
    for k in range(ks + 1):
        node_value[k] = 0.0
        node_sig[k] = 0.0
    # term m at node k is T_m exp(-(m+1) (ks - k) h) <= n exp((m+1) (log_wmax - (ks - k) h)): below n tol (the
    # series' truncation), it is left out, so it is summed only from node first[m] upwards
    for m in range(nt):
        first[m] = 0
        if h > 0.0:
            reach = ((m + 1) * log_wmax - log_tol) / ((m + 1) * h)
            first[m] = ks + 1 if reach < 0.0 else max(0, ks - int(reach))
        cv = coef[m] * T[m]
        cs = alt[m] * T[m]
        for k in range(first[m], ks + 1):
            node_value[k] += cv * dec[m, k]
            node_sig[k] += cs * dec[m, k]
    top = -np.inf
    for k in range(ks + 1):
        logw[k] = lw[k] - node_value[k]
        top = max(top, logw[k])
    k_end = ks
    pairs = 0
    # the nodes above ks, exactly: exp(x) moves by one factor exp(h) per node; softplus as in _exact_node
    eh = math.exp(h)
    for i in range(n):
        q[i] = w[i]
    previous = logw[ks]
    for k in range(ks + 1, K):
        j = k - ks - 1
        b = sigma * (u0 + k * du)
        positive = 0.0
        prod = 1.0
        log_prod = 0.0
        sg = 0.0
        for i in range(n):
            qi = q[i] * eh
            q[i] = qi
            if qi > 1e16:
                positive += eta[i] + b + 1.0 / qi
                s = 1.0 - 1.0 / qi
            else:
                t = 1.0 / (1.0 + qi)
                prod *= t
                s = qi * t
                if prod < 1e-250:
                    log_prod += math.log(prod)
                    prod = 1.0
            band_sig[j, i] = s
            sg += s
        pairs += n
        node_value[k] = positive - log_prod - math.log(prod)
        node_sig[k] = sg
        logw[k] = lw[k] - node_value[k]
        top = max(top, logw[k])
        k_end = k
        if logw[k] < top - skip and logw[k] < previous:
            break
        previous = logw[k]
    ll, mean_u, sq_u, gs = _node_posterior(logw, k_end + 1, top, u0, du, skip, node_sig, p)
    if want_grad:
        # d/d eta_t = -sum_k p_k sigmoid(x_tk): the series nodes through the powers of w_t, the band's as kept
        for i in range(n):
            wp[i] = w[i]
            grad_eta[i] = 0.0
        for m in range(nt):
            acc = 0.0
            for k in range(first[m], ks + 1):
                acc += p[k] * dec[m, k]
            c = alt[m] * acc
            for i in range(n):
                grad_eta[i] -= c * wp[i]
                wp[i] *= w[i]
        for k in range(ks + 1, k_end + 1):
            pk = p[k]
            if pk > 0.0:
                j = k - ks - 1
                for i in range(n):
                    grad_eta[i] -= pk * band_sig[j, i]
    edge = max(p[0], p[K - 1] if k_end == K - 1 else 0.0)
    return ll, gs, mean_u, sq_u, edge, pairs


@numba.njit(cache=True, nogil=True)
def _general_scratch(max_k, max_rows, M):
    """Work arrays of the general path, reused by every dyad (bucket sums H must start at zero, log_wmax at -inf)."""
    H = np.zeros((max_k + 1, M))  # scaled power sums of the rows in each bucket
    log_wmax = np.full(max_k + 1, -np.inf)  # log of the largest scaled w in each bucket
    E = np.zeros(M)  # exp(-(m+1) h): one node's decay
    s_exact = np.zeros(max_k)  # exact part of sum_t sigmoid(x_tk)
    ncross = np.zeros(max_k, np.int64)  # rows beyond the series region at node k
    base = np.empty(max_k)  # log weight without the exact pairs
    upper = np.empty(max_k)  # upper bound of the log weight
    keep = np.zeros(max_k, np.bool_)
    bucket = np.empty(max_rows, np.int64)
    terms = np.empty(max_rows, np.int64)
    cross_order = np.empty(max_rows, np.int64)  # crossing rows in bucket order
    cross_eta = np.zeros(max_rows + 1)  # prefix sums of eta over the crossing rows in that order
    count = np.zeros(max_k + 2, np.int64)
    sig = np.empty((max_rows, max_k))  # exact sigmoid of the crossing pairs, for the gradient
    wrow = np.empty(max_rows)  # each row's w at its last series node
    q_value = np.empty(max_rows)  # exp(x) of each crossing row at the node where it was last evaluated
    q_node = np.empty(max_rows, np.int64)
    return (H, log_wmax, E, s_exact, ncross, base, upper, keep, bucket, terms, cross_order, cross_eta, count, sig,
            wrow, q_value, q_node)


@numba.njit(cache=True, nogil=True, inline="always")
def _general_dyad(eta, y, n, lw, K, u0, du, sigma, log_rho, log_tol, M, skip, want_grad, grad_eta, coef, alt,
                  T, R, s_series, logw, p, general):
    """Any dyad (eta, y and grad_eta indexed 0..n-1): rows bucketed by the number of nodes at which they are in the
    series region, power sums by a recursion down the nodes, exact evaluation of the pairs beyond the series
    region, provably negligible nodes left out. Returns log L_d, its derivative in sigma, the discrete posterior's
    mean and mean square of u, its larger end-node weight and the number of exactly evaluated pairs."""
    (H, log_wmax, E, s_exact, ncross, base, upper, keep, bucket, terms, cross_order, cross_eta, count, sig,
     wrow, q_value, q_node) = general
    h = sigma * du
    b0 = sigma * u0
    for m in range(M):
        E[m] = math.exp(-(m + 1) * h)
    pairs = 0
    # rows: bucket j = number of nodes where the row is in the series region; powers scaled at node j - 1
    n_events = 0.0
    y_eta = 0.0
    jmin = K
    most_terms = 0
    for i in range(n):
        x0 = eta[i] + b0
        n_events += y[i]
        y_eta += y[i] * eta[i]
        j = _top_series_node(eta[i], sigma, u0, du, K, log_rho) + 1
        bucket[i] = j
        jmin = min(jmin, j)
        if j > 0:
            log_w = x0 + (j - 1) * h
            wi = math.exp(log_w)
            nt = _n_terms(log_w, log_tol, M)
            wrow[i] = wi
            terms[i] = nt
            most_terms = max(most_terms, nt)
            log_wmax[j] = max(log_wmax[j], log_w)
            wm = wi
            for m in range(nt):
                H[j, m] += wm
                wm *= wi
    # crossing rows (bucket < K) in bucket order (counting sort): those crossing at node k are a prefix
    for j in range(jmin, K + 2):
        count[j] = 0
    for i in range(n):
        if bucket[i] < K:
            count[bucket[i] + 1] += 1
    for j in range(jmin + 1, K + 1):
        count[j] += count[j - 1]
    for i in range(n):
        j = bucket[i]
        if j < K:
            cross_order[count[j]] = i
            count[j] += 1
    n_cross_rows = count[K - 1] if jmin < K else 0  # count[j] = crossing rows with bucket <= j
    for c in range(n_cross_rows):
        cross_eta[c + 1] = cross_eta[c] + eta[cross_order[c]]
    # nodes, descending: T[m] = sum over rows in series at node k of (w_t a_k)^m, and the upper bounds
    for m in range(M):
        T[m] = H[K, m]
        H[K, m] = 0.0
    log_wbound = log_wmax[K]
    log_wmax[K] = -np.inf
    nt = _n_terms(log_wbound, log_tol, M)
    best_k = K - 1
    for k in range(K - 1, -1, -1):
        v = 0.0
        s = 0.0
        for m in range(nt):
            v += coef[m] * T[m]
            s += alt[m] * T[m]
        s_series[k] = s
        nc = count[k] if k >= jmin else 0
        ncross[k] = nc
        b = b0 + k * h
        base[k] = lw[k] + n_events * b + y_eta - v
        ub = base[k]
        if nc > 0:  # Jensen: sum softplus(x) >= nc * softplus(mean x) >= nc * (a tangent line at mean x)
            ub -= nc * _softplus_floor(cross_eta[nc] / nc + b)
        upper[k] = ub
        if ub > upper[best_k]:
            best_k = k
        if k > 0:  # move to node k - 1: decay, then add the rows whose last series node is k - 1
            log_wbound -= h
            joins = log_wmax[k] > -np.inf
            if joins:
                log_wbound = max(log_wbound, log_wmax[k])
                log_wmax[k] = -np.inf
            nt_new = _n_terms(log_wbound, log_tol, M)
            for m in range(nt_new, nt):
                T[m] = 0.0
            for m in range(min(nt, nt_new)):
                T[m] *= E[m]
            if joins:
                for m in range(nt_new):
                    T[m] += H[k, m]
                    H[k, m] = 0.0
            nt = nt_new
    # the exact log weight at the largest upper bound is a lower bound of the maximum weight; then every node
    # whose upper bound reaches within `skip` of it, in ascending order (so each row's exp(x) moves by one factor)
    eh = math.exp(h)
    for c in range(n_cross_rows):
        q_node[c] = -2
    sp, s_exact[best_k] = _exact_node(best_k, eta, cross_order, ncross[best_k], b0 + best_k * h, eh, q_value,
                                      q_node, sig)
    logw[best_k] = base[best_k] - sp
    pairs += ncross[best_k]
    floor_ = logw[best_k] - skip
    top = logw[best_k]
    klo = K
    khi = -1
    for k in range(K):
        keep[k] = upper[k] >= floor_
        if keep[k]:
            klo = min(klo, k)
            khi = max(khi, k)
            if k != best_k:
                sp, s_exact[k] = _exact_node(k, eta, cross_order, ncross[k], b0 + k * h, eh, q_value, q_node, sig)
                logw[k] = base[k] - sp
                pairs += ncross[k]
                top = max(top, logw[k])
    acc = 0.0
    for k in range(K):
        p[k] = 0.0
    for k in range(klo, khi + 1):
        if keep[k]:
            p[k] = math.exp(logw[k] - top)
            acc += p[k]
    ll = top + math.log(acc)
    mean_u = 0.0
    sq_u = 0.0
    gs = 0.0
    for k in range(klo, khi + 1):
        p[k] /= acc
        u = u0 + k * du
        mean_u += p[k] * u
        sq_u += p[k] * u * u
        gs += p[k] * u * (n_events - s_series[k] - s_exact[k])
    if want_grad:
        # y_t - sum_k p_k sigmoid(x_tk); the series part through R_j[m] = sum_{k<j} p_k exp(-m (j-1-k) h)
        lo = max(jmin, 1)
        for m in range(most_terms):
            T[m] = 0.0
        for j in range(1, K + 1):
            for m in range(most_terms):
                T[m] = E[m] * T[m] + p[j - 1]
            if j >= lo:
                for m in range(most_terms):
                    R[j, m] = T[m]
        for i in range(n):
            j = bucket[i]
            g = y[i]
            if j > 0:
                wi = wrow[i]
                acc_s = 0.0
                wm = wi
                for m in range(terms[i]):
                    acc_s += alt[m] * wm * R[j, m]
                    wm *= wi
                g -= acc_s
            grad_eta[i] = g
        for c in range(n_cross_rows):
            i = cross_order[c]
            g = 0.0
            for k in range(max(bucket[i], klo), khi + 1):
                if keep[k]:
                    g += p[k] * sig[c, k]
            grad_eta[i] -= g
    return ll, gs, mean_u, sq_u, max(p[0], p[K - 1]), pairs


@numba.njit(cache=True, nogil=True, inline="always")
def _exact_node(k, eta, cross_order, nc, b, eh, q_value, q_node, sig):
    """Exact softplus and sigmoid sums of the rows crossing at node k; their sigmoids are kept in sig[:, k].

    q = exp(x) of a row evaluated at node k - 1 moves by one factor exp(h); softplus(x) = -log(1 / (1 + q)) is
    summed as the log of a product (renormalised before it underflows): per pair, no transcendental function.
    """
    positive = 0.0  # sum of x where exp(x) would overflow (softplus(x) = x there)
    prod = 1.0
    log_prod = 0.0
    sg = 0.0
    for c in range(nc):
        row = cross_order[c]
        if q_node[c] == k - 1:
            q = q_value[c] * eh
        else:
            q = math.exp(eta[row] + b)
        q_value[c] = q
        q_node[c] = k
        if q > 1e16:  # softplus(x) = x + log1p(1 / q) = x + 1 / q in double precision; keeps each factor
            # 1 / (1 + q) of the product above 1e-16, so that it cannot underflow between renormalisations
            positive += eta[row] + b + 1.0 / q
            s = 1.0 - 1.0 / q
        else:
            t = 1.0 / (1.0 + q)
            prod *= t
            s = q * t
            if prod < 1e-250:
                log_prod += math.log(prod)
                prod = 1.0
        sig[c, k] = s
        sg += s
    return positive - log_prod - math.log(prod), sg
