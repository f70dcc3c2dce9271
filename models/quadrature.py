"""Integrating a dyad's random intercept out of a logit likelihood by quadrature on u = b / sigma.

For dyad d with rows t: L_d = ∫ prod_t Bernoulli(y_t | logit^-1(eta_t + sigma u)) phi(u) du, approximated by
sum_k w_k phi(u_k) exp(l_d(sigma u_k)). The rule is the trapezoid rule on a uniform grid in u, which the design
note (../shared/notes/marginal-likelihood-accuracy.md) measured to stay accurate at sigma = 2-3 where
Gauss-Hermite fails. Dyads with events (few, with narrow posteriors in the prior's tail) get a finer and wider grid.

This module holds the rules and a plain NumPy implementation (rows laid out densely as (dyad, slot) arrays padded
with a mask, every row evaluated at every node): the reference against which the fast kernel of
`marginal_kernel` is tested. The kernel checks per dyad that these shared rules cover its conditional posterior and
gives a dyad a rule of its own where they do not (far from the posterior); `dense_log_marginal`, a dense rule
centred on each dyad's conditional mode, is the reference there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import expit, logsumexp

LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


@dataclass(frozen=True)
class QuadratureRule:
    """Nodes u_k and log weights log(w_k phi(u_k)) of a rule for ∫ f(u) phi(u) du."""

    nodes: np.ndarray
    log_weights: np.ndarray

    @property
    def size(self) -> int:
        return int(self.nodes.size)


def trapezoid_rule(n_nodes: int, half_width: float) -> QuadratureRule:
    """Trapezoid rule with `n_nodes` points on [-half_width, half_width] against the standard normal density."""
    if n_nodes < 3 or half_width <= 0:
        raise ValueError("a trapezoid rule needs at least 3 nodes and a positive half-width")
    nodes = np.linspace(-half_width, half_width, n_nodes)
    step = nodes[1] - nodes[0]
    weights = np.full(n_nodes, step)
    weights[[0, -1]] = step / 2
    return QuadratureRule(nodes, np.log(weights) - 0.5 * nodes**2 - LOG_SQRT_2PI)


SAMPLED_CENTRINGS = ("information", "none")


@dataclass(frozen=True)
class QuadratureOptions:
    """The trapezoid rules on u = b / sigma and the fast kernel's accuracy settings.

    Each rule covers u in [-half_width, half_width] (dyads with events get a wider range: their conditional
    posterior can sit far in the prior's tail) with node spacing at most `max_spacing_u` in u and at most
    `max_spacing_b` in b = sigma * u, so the node count grows with sigma (capped at `max_nodes`): the error of the
    rule is set by the spacing in b, because the likelihood's poles lie pi from the real axis in b. In the kernel,
    a (row, node) pair enters through the power series of softplus where eta + b <= `series_log_rho`, with terms
    until they fall below `series_tol`; a node whose weight is provably below exp(-`skip_below`) of the dyad's
    largest is left out. Where a dyad's conditional posterior lies beyond these ranges or between their nodes (far
    from the posterior), the kernel gives that dyad a rule of its own (see `marginal_kernel`).

    `sampled_centring` says how the intercepts of the groupings the kernel does not integrate out (sender and
    receiver states beside the dyad) are sampled: "none" (the default) samples every group non-centred,
    "information" centres each group by the share of its information that comes from its own rows
    (models.builders.information_centring). Both are the same model; docs/models.md gives where the second mixes
    faster and where it does not.
    """

    half_width_no_event: float = 8.0
    half_width_event: float = 10.0
    max_spacing_u: float = 0.6
    max_spacing_b: float = 0.35
    max_nodes: int = 1001
    series_log_rho: float = -2.0
    series_terms: int = 12
    series_tol: float = 1e-15
    skip_below: float = 30.0
    sampled_centring: str = "none"

    def __post_init__(self) -> None:
        if self.sampled_centring not in SAMPLED_CENTRINGS:
            raise ValueError(f"sampled_centring must be one of {', '.join(SAMPLED_CENTRINGS)}, "
                             f"got {self.sampled_centring!r}")
        if min(self.half_width_no_event, self.half_width_event, self.max_spacing_u, self.max_spacing_b) <= 0:
            raise ValueError("quadrature half-widths and spacings must be positive")
        if self.max_nodes < 3:
            raise ValueError("max_nodes must be at least 3")
        if not self.series_log_rho < 0:
            raise ValueError("series_log_rho must be negative (the series of softplus converges for eta + b < 0)")
        if not 1 <= self.series_terms <= 64:
            raise ValueError("series_terms must be between 1 and 64")
        if not 0 < self.series_tol < 1:
            raise ValueError("series_tol must lie in (0, 1)")
        if self.skip_below < 20:
            raise ValueError("skip_below must be at least 20 (nodes below exp(-skip_below) are dropped)")

    def cache_record(self) -> dict:
        """The settings as a cache key records them: the sampled groupings' centring only where it is not the
        non-centred default, which every fit cached before the option had."""
        record = asdict(self)
        if self.sampled_centring == "none":
            del record["sampled_centring"]
        return record

    def half_width(self, events: bool) -> float:
        return self.half_width_event if events else self.half_width_no_event

    def n_nodes(self, events: bool, sigma: float) -> int:
        """Node count of the rule for dyads with (True) or without (False) events at this sigma."""
        from .marginal_kernel import rule_size

        return rule_size(self.half_width(events), float(sigma), self.max_spacing_u, self.max_spacing_b,
                         self.max_nodes)

    def rule(self, events: bool, sigma: float) -> QuadratureRule:
        """The rule for dyads with (True) or without (False) events at this sigma."""
        return trapezoid_rule(self.n_nodes(events, sigma), self.half_width(events))


@dataclass(frozen=True)
class DyadLayout:
    """Rows of a set of dyads arranged as (dyad, slot) arrays: `rows` indexes the sample (-1 = padding)."""

    dyads: np.ndarray  # group codes of these dyads
    rows: np.ndarray  # (n_dyads, max_rows) int
    mask: np.ndarray  # (n_dyads, max_rows) bool
    events: bool  # whether these dyads have at least one event

    def gather(self, values: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Row values in (dyad, slot) layout, `fill` in the padding."""
        return np.where(self.mask, values[np.maximum(self.rows, 0)], fill)


def dyad_layouts(groups: np.ndarray, y: np.ndarray, length_bins: tuple[int, ...] = (13, 26, 39)) -> list[DyadLayout]:
    """Dense layouts: dyads without events split by their number of rows (bins of `length_bins`, so that short
    dyads are not padded to the longest), then one layout for the dyads with at least one event."""
    n_groups = int(groups.max()) + 1
    events = np.bincount(groups, weights=(y > 0).astype(float), minlength=n_groups) > 0
    lengths = np.bincount(groups, minlength=n_groups)
    length_bin = np.digitize(lengths, length_bins)
    layouts = [_layout(groups, np.flatnonzero(~events & (length_bin == b)), False)
               for b in range(len(length_bins) + 1)]
    layouts.append(_layout(groups, np.flatnonzero(events), True))
    return [layout for layout in layouts if layout.dyads.size]


def _layout(groups: np.ndarray, dyads: np.ndarray, events: bool) -> DyadLayout:
    position = np.full(int(groups.max()) + 1, -1)
    position[dyads] = np.arange(dyads.size)
    keep = np.flatnonzero(position[groups] >= 0)
    order = keep[np.argsort(position[groups[keep]], kind="stable")]
    dyad_of_row = position[groups[order]]
    counts = np.bincount(dyad_of_row, minlength=dyads.size)
    slot = np.arange(order.size) - np.repeat(np.cumsum(counts) - counts, counts)
    width = max(int(counts.max()) if counts.size else 0, 1)
    rows = np.full((dyads.size, width), -1)
    rows[dyad_of_row, slot] = order
    return DyadLayout(dyads, rows, rows >= 0, events)


def node_loglik_numpy(eta: np.ndarray, y: np.ndarray, mask: np.ndarray, sigma: float,
                      rule: QuadratureRule) -> np.ndarray:
    """(n_dyads, n_nodes) log-likelihood of each dyad's rows at each node's dyad effect sigma * u_k."""
    out = np.empty((eta.shape[0], rule.size))
    for k, u in enumerate(rule.nodes):
        x = eta + sigma * u
        out[:, k] = np.sum(np.where(mask, y * x - np.logaddexp(0.0, x), 0.0), axis=1)
    return out


def log_marginal_numpy(eta: np.ndarray, y: np.ndarray, mask: np.ndarray, sigma: float,
                       rule: QuadratureRule) -> np.ndarray:
    """log L_d for every dyad of a layout (NumPy reference)."""
    return logsumexp(node_loglik_numpy(eta, y, mask, sigma, rule) + rule.log_weights, axis=1)


def conditional_mode(eta: np.ndarray, y: np.ndarray, mask: np.ndarray, sigma: float,
                     iterations: int = 120) -> np.ndarray:
    """Each dyad's conditional posterior mode of u, by bisection of its score -u + sigma sum_t (y_t - expit(x_t)),
    which decreases in u (the log density is concave with curvature >= 1) and changes sign within
    [sigma (events - rows), sigma events]."""
    events = np.sum(np.where(mask, y, 0.0), axis=1)
    lo, hi = sigma * (events - mask.sum(axis=1)), sigma * events
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        score = -mid + sigma * np.sum(np.where(mask, y - expit(eta + sigma * mid[:, None]), 0.0), axis=1)
        lo, hi = np.where(score > 0, mid, lo), np.where(score > 0, hi, mid)
    return 0.5 * (lo + hi)


def dense_log_marginal(eta: np.ndarray, y: np.ndarray, mask: np.ndarray, sigma: float, n_nodes: int = 2001,
                       half_width: float = 12.0) -> np.ndarray:
    """log L_d by a dense trapezoid rule centred on each dyad's conditional mode, for any parameter values: the
    reference of the fast kernel far from the posterior. `half_width` in u either side (the log density falls by
    at least half_width^2 / 2 there, curvature >= 1); the default spacing, 0.012 in u, resolves conditional sds
    down to about 0.02 in u and sigma up to about 25 (spacing 0.3 in b) to about 1e-13."""
    mode = conditional_mode(eta, y, mask, sigma)
    offsets = np.linspace(-half_width, half_width, n_nodes)
    step = offsets[1] - offsets[0]
    trap = np.full(n_nodes, np.log(step))
    trap[[0, -1]] -= np.log(2.0)
    out = np.empty(eta.shape[0])
    for d in range(eta.shape[0]):
        u = mode[d] + offsets
        x = eta[d][mask[d], None] + sigma * u
        joint = np.sum(y[d][mask[d], None] * x - np.logaddexp(0.0, x), axis=0) + trap - 0.5 * u**2 - LOG_SQRT_2PI
        out[d] = logsumexp(joint)
    return out


def dense_dyad_loglik(groups: np.ndarray, X: np.ndarray, coef: np.ndarray, y: np.ndarray, sigma: float) -> np.ndarray:
    """Per-dyad log L_d of rows in sample order (dyad codes `groups`, design X, eta = X @ coef) by
    `dense_log_marginal`: the reference the tests compare the kernel with, at any parameter values."""
    eta = X @ coef
    loglik = np.empty(groups.max() + 1)
    for layout in dyad_layouts(groups, y):
        loglik[layout.dyads] = dense_log_marginal(layout.gather(eta), layout.gather(y), layout.mask, sigma)
    return loglik
