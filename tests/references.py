"""Reference computations that only the tests use: the discrete conditional posterior of a dyad's effect on a
quadrature rule, each group's adaptive Gauss-Hermite log-likelihood, both in plain NumPy beside the code they
check, and the rows' average probability over a normal group effect and the intercept that gives it, by a dense rule and
root-finding (models.average_rate)."""

from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.special import logsumexp

from inference.marginal_mle import agq_terms
from models.quadrature import QuadratureRule, node_loglik_numpy


def node_posterior_numpy(eta: np.ndarray, y: np.ndarray, mask: np.ndarray, sigma: float,
                         rule: QuadratureRule) -> np.ndarray:
    """Posterior probability of each node given the dyad's rows: the discrete conditional posterior of u_d."""
    joint = node_loglik_numpy(eta, y, mask, sigma, rule) + rule.log_weights
    return np.exp(joint - logsumexp(joint, axis=1, keepdims=True))


def agq_group_loglik(groups: np.ndarray, eta: np.ndarray, y: np.ndarray, sigma: float, nodes: int = 60
                     ) -> np.ndarray:
    """Per-group log L_g by adaptive Gauss-Hermite quadrature (inference.marginal_mle.agq_terms)."""
    _, terms, constant = agq_terms(groups, eta, y, sigma, nodes)
    return logsumexp(terms, axis=0) + constant


def average_log_odds(b: float, eta: np.ndarray, sd: float) -> float:
    """logit of the mean over rows r of E[logit^-1(b + eta_r + sd Z)], Z standard normal: the trapezoid rule on 4,001
    nodes over +-12 sds (exact to double precision for sd up to 20), in log space."""
    eta = np.atleast_1d(np.asarray(eta, dtype=float))
    z = np.linspace(-12.0, 12.0, 481) if sd > 0 else np.zeros(1)
    log_w = -0.5 * z**2 - logsumexp(-0.5 * z**2)
    u = b + eta[:, None] + sd * z[None, :]
    log_p = logsumexp(log_w[None, :] - np.logaddexp(0.0, -u)) - np.log(len(eta))
    log_q = logsumexp(log_w[None, :] - np.logaddexp(0.0, u)) - np.log(len(eta))
    return float(log_p - log_q)


def intercept_for_average_rate(target: float, eta: np.ndarray, sd: float) -> float:
    """The b with average_log_odds(b, eta, sd) = target, by root-finding."""
    eta = np.atleast_1d(np.asarray(eta, dtype=float))
    reach = 3 * (np.ptp(eta) + sd**2) + 10
    return optimize.brentq(lambda b: average_log_odds(b, eta, sd) - target, target - eta.max() - reach,
                           target - eta.min() + reach, xtol=1e-13)
