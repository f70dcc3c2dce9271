"""Heckman's (1979) two-step selection model, as the paper's robustness check of Table 2 uses it: a probit of
selection (there: forming a pact) over every row, then a linear model of the outcome (the number of concessions)
over the selected rows with the inverse Mills ratio, with Heckman's corrected covariance (Greene 2003, eq. 22-22)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.stats import norm

from .frequentist import FitResult

MILLS = "inverse_mills_ratio"


@dataclass(frozen=True)
class HeckmanFit:
    """Both stages: the probit (gamma, its covariance) and the outcome equation (beta with the Mills ratio's
    coefficient last, its corrected covariance), the error sd sigma and correlation rho."""

    selection: pd.Series
    selection_cov: pd.DataFrame
    outcome: pd.Series
    outcome_cov: pd.DataFrame
    sigma: float
    rho: float
    selection_loglik: float
    n_selected: int
    n_total: int
    converged: bool


def heckman_two_step(y: pd.Series, selected: pd.Series, X: pd.DataFrame, Z: pd.DataFrame) -> HeckmanFit:
    """Two-step estimates: probit of `selected` on Z (every row), OLS of `y` on X and the inverse Mills ratio
    (selected rows). Z must hold at least one variable X lacks (the exclusion restriction)."""
    if not set(Z.columns) - set(X.columns):
        raise ValueError("the selection equation needs a variable the outcome equation lacks (exclusion restriction)")
    s = selected.to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probit = sm.Probit(s, Z).fit(disp=0, maxiter=200)
    gamma = probit.params.to_numpy()
    index = Z.to_numpy(dtype=float) @ gamma
    keep = s == 1
    mills = norm.pdf(index[keep]) / norm.cdf(index[keep])
    X_star = np.column_stack([X.to_numpy(dtype=float)[keep], mills])
    y_sel = y.to_numpy(dtype=float)[keep]
    coef, *_ = np.linalg.lstsq(X_star, y_sel, rcond=None)
    residual = y_sel - X_star @ coef
    delta = mills * (mills + index[keep])
    beta_mills = coef[-1]
    sigma2 = residual @ residual / keep.sum() + delta.mean() * beta_mills**2
    rho2 = min(beta_mills**2 / sigma2, 1.0)
    bread = np.linalg.inv(X_star.T @ X_star)
    Z_sel = Z.to_numpy(dtype=float)[keep]
    cross = (X_star * delta[:, None]).T @ Z_sel
    middle = X_star.T @ (X_star * (1 - rho2 * delta)[:, None]) + rho2 * cross @ np.asarray(probit.cov_params()) @ cross.T
    cov = sigma2 * bread @ middle @ bread
    names = [*map(str, X.columns), MILLS]
    return HeckmanFit(pd.Series(gamma, index=Z.columns), probit.cov_params(), pd.Series(coef, index=names),
                      pd.DataFrame(cov, index=names, columns=names), float(np.sqrt(sigma2)),
                      float(np.sign(beta_mills) * np.sqrt(rho2)), float(probit.llf), int(keep.sum()), len(s),
                      bool(probit.mle_retvals.get("converged", True)))


def heckman_results(model: str, fit: HeckmanFit, groups: np.ndarray, selected: np.ndarray) -> list[FitResult]:
    """The two stages as FitResults (parts 'selection' and 'outcome'); the outcome's log-likelihood is not defined
    by the two-step estimator (nan)."""
    return [
        FitResult(model, "selection", [str(t) for t in fit.selection.index], fit.selection.tolist(),
                  fit.selection_cov.to_numpy().tolist(), fit.n_total, len(np.unique(groups)),
                  fit.n_selected, fit.selection_loglik, fit.converged, "Heckman first stage (probit)"),
        FitResult(model, "outcome", [str(t) for t in fit.outcome.index], fit.outcome.tolist(),
                  fit.outcome_cov.to_numpy().tolist(), fit.n_selected, len(np.unique(groups[selected])),
                  fit.n_selected, float("nan"), fit.converged,
                  f"Heckman second stage (linear, rho {fit.rho:.2f}, sigma {fit.sigma:.2f})"),
    ]


@dataclass(frozen=True)
class HeckmanMLFit:
    """Full-information maximum likelihood of the selection model: the probit (gamma) and outcome (beta)
    coefficients, sigma and rho, their covariance (dyad-clustered sandwich of the per-row scores where groups are
    given, else the inverse Hessian) over (gamma, beta, log sigma, atanh rho), the log-likelihood and convergence."""

    selection: pd.Series
    outcome: pd.Series
    sigma: float
    rho: float
    cov: pd.DataFrame
    loglik: float
    n_selected: int
    n_total: int
    converged: bool


def _ml_parts(theta: np.ndarray, Z: np.ndarray, X: np.ndarray, y: np.ndarray, keep: np.ndarray):
    """Each row's log-likelihood and score of the selection model at theta = (gamma, beta, log sigma, atanh rho)."""
    from scipy.special import log_ndtr

    kz, kx = Z.shape[1], X.shape[1]
    gamma, beta, log_sigma, t = theta[:kz], theta[kz:kz + kx], theta[-2], theta[-1]
    sigma, rho = np.exp(log_sigma), np.tanh(np.clip(t, -7.0, 7.0))  # |rho| < 1 - 1e-6: r stays above 0
    r = np.sqrt(1.0 - rho**2)
    a = Z @ gamma
    loglik = np.empty(len(a))
    scores = np.zeros((len(a), len(theta)))
    out = ~keep  # not selected: log Phi(-a)
    loglik[out] = log_ndtr(-a[out])
    lam_out = np.exp(norm.logpdf(-a[out]) - loglik[out])
    scores[out, :kz] = -lam_out[:, None] * Z[out]
    e = (y[keep] - X[keep] @ beta) / sigma
    b = (a[keep] + rho * e) / r
    log_cdf = log_ndtr(b)
    loglik[keep] = log_cdf - log_sigma - 0.5 * e**2 - 0.5 * np.log(2 * np.pi)
    lam = np.exp(norm.logpdf(b) - log_cdf)
    scores[keep, :kz] = (lam / r)[:, None] * Z[keep]
    scores[keep, kz:kz + kx] = ((e - lam * rho / r) / sigma)[:, None] * X[keep]
    scores[keep, -2] = -lam * rho * e / r - 1.0 + e**2
    scores[keep, -1] = lam * (e + a[keep] * rho) / r
    return loglik, scores


def _ml_total(theta: np.ndarray, Z_out: np.ndarray, Z_in: np.ndarray, X_in: np.ndarray, y_in: np.ndarray
              ) -> tuple[float, np.ndarray]:
    """The summed log-likelihood and gradient of `_ml_parts`, from the rows split once into those not selected
    (Z_out) and selected (Z_in, X_in, y_in): matrix-vector products instead of a score per row, for the optimiser's
    many calls on hundreds of thousands of rows."""
    from scipy.special import log_ndtr

    kz, kx = Z_out.shape[1], X_in.shape[1]
    gamma, beta, log_sigma, t = theta[:kz], theta[kz:kz + kx], theta[-2], theta[-1]
    sigma, rho = np.exp(log_sigma), np.tanh(np.clip(t, -7.0, 7.0))
    r = np.sqrt(1.0 - rho**2)
    a_out = Z_out @ gamma
    log_out = log_ndtr(-a_out)
    lam_out = np.exp(norm.logpdf(-a_out) - log_out)
    a = Z_in @ gamma
    e = (y_in - X_in @ beta) / sigma
    b = (a + rho * e) / r
    log_cdf = log_ndtr(b)
    lam = np.exp(norm.logpdf(b) - log_cdf)
    total = log_out.sum() + (log_cdf - log_sigma - 0.5 * e**2).sum() - 0.5 * np.log(2 * np.pi) * len(e)
    grad = np.concatenate([Z_in.T @ (lam / r) - Z_out.T @ lam_out, X_in.T @ ((e - lam * rho / r) / sigma),
                           [(-lam * rho * e / r - 1.0 + e**2).sum(), (lam * (e + a * rho) / r).sum()]])
    return float(total), grad


def heckman_ml(y: pd.Series, selected: pd.Series, X: pd.DataFrame, Z: pd.DataFrame,
               groups: np.ndarray | None = None, start: HeckmanFit | None = None) -> HeckmanMLFit:
    """Full-information maximum likelihood of the Heckman selection model (Greene 2003, sec. 22.4), from the
    two-step estimates (`start`, where the caller has them), with analytic scores; SEs clustered on `groups` (the
    dyad) where given. The same exclusion restriction as the two-step."""
    from scipy.optimize import minimize

    start = heckman_two_step(y, selected, X, Z) if start is None else start
    Zm, Xm = Z.to_numpy(dtype=float), X.to_numpy(dtype=float)
    ym = np.nan_to_num(y.to_numpy(dtype=float))
    keep = selected.to_numpy(dtype=float) == 1
    rho0 = float(np.clip(start.rho, -0.9, 0.9))
    theta0 = np.concatenate([start.selection.to_numpy(), start.outcome.to_numpy()[:-1],
                             [np.log(max(start.sigma, 1e-3)), np.arctanh(rho0)]])

    parts = (np.ascontiguousarray(Zm[~keep]), np.ascontiguousarray(Zm[keep]), np.ascontiguousarray(Xm[keep]),
             ym[keep])

    def negative(theta):
        total, grad = _ml_total(theta, *parts)
        return -total, -grad

    result = minimize(negative, theta0, jac=True, method="BFGS", options={"maxiter": 1000, "gtol": 1e-6})
    theta = result.x
    loglik, scores = _ml_parts(theta, Zm, Xm, ym, keep)
    step = 1e-5  # the Hessian by central differences of the analytic gradient
    hessian = np.empty((len(theta), len(theta)))
    for j in range(len(theta)):
        e = np.zeros(len(theta))
        e[j] = step
        hessian[:, j] = (negative(theta + e)[1] - negative(theta - e)[1]) / (2 * step)
    bread = np.linalg.inv(0.5 * (hessian + hessian.T))
    if groups is None:
        cov = bread
    else:
        totals = pd.DataFrame(scores).groupby(np.asarray(groups)).sum().to_numpy()
        cov = bread @ (totals.T @ totals) @ bread
    names = [f"selection:{c}" for c in Z.columns] + [f"outcome:{c}" for c in X.columns] + ["log_sigma",
                                                                                           "atanh_rho"]
    kz = Z.shape[1]
    return HeckmanMLFit(pd.Series(theta[:kz], index=Z.columns), pd.Series(theta[kz:-2], index=X.columns),
                        float(np.exp(theta[-2])), float(np.tanh(theta[-1])),
                        pd.DataFrame(cov, index=names, columns=names), float(loglik.sum()), int(keep.sum()),
                        len(keep), bool(result.success))
