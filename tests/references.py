"""Reference computations that only the tests use: the discrete conditional posterior of a dyad's effect on a
quadrature rule, and each group's adaptive Gauss-Hermite log-likelihood, both in plain NumPy beside the code they
check."""

from __future__ import annotations

import numpy as np
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
