"""Rare-events logits for the robustness suite: King & Zeng's (2001) bias-corrected estimates and Firth's (1993)
penalised likelihood, each as a `FitResult` like the other frequentist fits."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from models.design import ModelData

from .diagnostics import HDI_PROB
from .dyadic import dyad_members, dyad_robust_meat, positive_part
from .frequentist import FitResult, clusters, fit_logit


def king_zeng_correction(X: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, float]:
    """King & Zeng's (2001, eq. 11) small-sample bias of the logit MLE `beta` on design `X`, without case-control
    weighting: bias = (X'WX)^-1 X'W xi, xi_i = Q_ii (pi_i - 1/2), Q = X (X'WX)^-1 X', W = diag(pi (1 - pi)); and
    the factor (n / (n + k))^2 by which the corrected estimate's variance shrinks."""
    pi = expit(X @ beta)
    w = pi * (1 - pi)
    information_inv = np.linalg.inv((X * w[:, None]).T @ X)
    q_diag = np.einsum("ij,jk,ik->i", X, information_inv, X)
    xi = q_diag * (pi - 0.5)
    bias = information_inv @ (X.T @ (w * xi))
    n, k = X.shape
    return bias, (n / (n + k)) ** 2


def fit_relogit(data: ModelData) -> FitResult:
    """The logit with dyad-clustered SEs, corrected for rare-event bias (King & Zeng 2001): estimates minus the
    bias, clustered (and, on a dyadic design, dyad-robust) covariance scaled by (n / (n + k))^2. The
    log-likelihood is the uncorrected fit's."""
    fit = fit_logit(data)
    bias, shrink = king_zeng_correction(data.X.to_numpy(dtype=float), np.asarray(fit.params))
    robust = None if fit.cov_dyad_robust is None else (np.asarray(fit.cov_dyad_robust) * shrink).tolist()
    return FitResult(fit.model, "logit", fit.terms, (np.asarray(fit.params) - bias).tolist(),
                     (np.asarray(fit.cov) * shrink).tolist(), fit.nobs, fit.n_clusters, fit.n_events, fit.loglik,
                     fit.converged, "rare-events logit (King & Zeng bias correction)", cov_dyad_robust=robust)


def firth_scores(X: np.ndarray, y: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's modified score of Firth's logit, x_r (y_r - p_r + h_r (1/2 - p_r)) with h_r the hat value (the
    estimating equations the penalised fit solves: they sum to 0 at its estimate), and the Fisher information
    X' W X, the sandwich's bread."""
    p = expit(X @ beta)
    w = p * (1.0 - p)
    information = X.T @ (X * w[:, None])
    hat = w * np.einsum("ij,jk,ik->i", X, np.linalg.inv(information), X)
    return X * (y - p + hat * (0.5 - p))[:, None], information


def firth_dyad_robust_cov(X: np.ndarray, y: np.ndarray, beta: np.ndarray, first: np.ndarray,
                          second: np.ndarray) -> tuple[np.ndarray, int]:
    """Aronow, Samii & Assenova's dyad-robust covariance of Firth's estimate: the information's inverse around the
    meat of the modified scores of rows whose dyads share a state; negative eigenvalues set to 0 (and counted)."""
    scores, information = firth_scores(X, y, beta)
    bread = np.linalg.inv(information)
    return positive_part(bread @ dyad_robust_meat(scores, first, second) @ bread)


def fit_firth(data: ModelData, level: float = HDI_PROB) -> FitResult:
    """Firth's penalised-likelihood logit (firthmodels, the Jeffreys-prior penalty) with profile penalised-likelihood
    intervals at `level` and penalised likelihood-ratio tests (Heinze & Schemper 2002): Wald SEs of the penalised
    fit are unreliable for rare events. The SE column keeps the model-based Wald SEs (not clustered); on a dyadic
    design the dyad-robust sandwich of the modified scores stands beside them. The log-likelihood is the penalised
    one."""
    from firthmodels import FirthLogisticRegression

    X = data.X.to_numpy(dtype=float)
    # the NumPy backend: as fast as numba's on the full panel (0.7 s for Model 4) without its compilation
    model = FirthLogisticRegression(fit_intercept=False, max_iter=100, backend="numpy").fit(
        X, data.y.to_numpy(dtype=float))
    model.lrt()
    bounds = np.asarray(model.conf_int(alpha=1 - level, method="pl"))[: X.shape[1]]
    se = np.asarray(model.bse_)[: X.shape[1]]
    groups = clusters(data)
    members = dyad_members(data)
    robust, negative = (None, 0) if members is None else firth_dyad_robust_cov(
        X, data.y.to_numpy(dtype=float), np.asarray(model.coef_)[: X.shape[1]], *members)
    return FitResult(data.spec.name, "logit", [str(c) for c in data.X.columns], np.asarray(model.coef_).tolist(),
                     np.diag(se**2).tolist(), len(X), len(np.unique(groups)),
                     int((data.y > 0).sum()), float(model.loglik_), bool(model.converged_),
                     "Firth penalised logit",
                     note=f"profile penalised-likelihood {level:.0%} intervals and likelihood-ratio tests; Wald SEs "
                          "shown (not clustered)" + ("" if members is None else "; dyad-robust SEs from the modified "
                                                     f"scores ({negative} negative eigenvalue(s) set to 0)"),
                     cov_dyad_robust=None if robust is None else robust.tolist(),
                     pvalues=np.asarray(model.lrt_pvalues_)[: X.shape[1]].tolist(),
                     intervals={"level": level, "method": "profile penalised likelihood",
                                "lower": bounds[:, 0].tolist(), "upper": bounds[:, 1].tolist()})
