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
                  fit.selection_cov.to_numpy().tolist(), fit.n_total, int(len(np.unique(groups))),
                  fit.n_selected, fit.selection_loglik, fit.converged, "Heckman first stage (probit)"),
        FitResult(model, "outcome", [str(t) for t in fit.outcome.index], fit.outcome.tolist(),
                  fit.outcome_cov.to_numpy().tolist(), fit.n_selected, int(len(np.unique(groups[selected]))),
                  fit.n_selected, float("nan"), fit.converged,
                  f"Heckman second stage (linear, rho {fit.rho:.2f}, sigma {fit.sigma:.2f})"),
    ]
