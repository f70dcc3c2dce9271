"""Reference computations that only the tests use: the discrete conditional posterior of a dyad's effect on a
quadrature rule, each group's adaptive Gauss-Hermite log-likelihood, both in plain NumPy beside the code they
check, and the logistic-normal mean and the intercept that gives it by scipy's adaptive quadrature
(models.average_rate)."""

from __future__ import annotations

import numpy as np
from scipy import integrate, optimize, stats
from scipy.special import expit, logit, logsumexp

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


def average_log_odds(b: float, mean: float, variance: float) -> float:
    """logit E[logit^-1(b + mean + sqrt(variance) Z)], Z standard normal, by adaptive quadrature."""
    scale = np.sqrt(variance)
    if scale == 0:
        return b + mean
    points = np.clip([-(b + mean) / scale, scale], -39, 39)
    average = integrate.quad(lambda z: stats.norm.pdf(z) * expit(b + mean + scale * z), -40, 40, points=points,
                             limit=500, epsabs=0, epsrel=1e-12)[0]
    return float(logit(average))


def intercept_for_average_rate(target: float, mean: float, variance: float) -> float:
    """The b with average_log_odds(b, mean, variance) = target, by root-finding."""
    return optimize.brentq(lambda b: average_log_odds(b, mean, variance) - target,
                           target - mean - 3 * variance - 10, target - mean + 3 * variance + 10, xtol=1e-13)
