"""Frequentist reproduction of the paper's models with statsmodels: logits with dyad-clustered standard errors
(Table 1) and two-part hurdle models of concessions (Table 2), saved so that reports never refit."""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.discrete.truncated_model import TruncatedLFNegativeBinomialP, TruncatedLFPoisson

from data_prep.io import atomic_write_text
from models.design import ModelData, model_data
from models.specs import ModelSpec

COUNT_FAMILIES = {"poisson": TruncatedLFPoisson, "negbin": TruncatedLFNegativeBinomialP}


@dataclass
class FitResult:
    """One fitted part of one model: estimates, clustered covariance and fit statistics (JSON-serialisable)."""

    model: str
    part: str  # "logit", "zero" or "count"
    terms: list[str]
    params: list[float]
    cov: list[list[float]]
    nobs: int
    n_clusters: int
    n_events: int
    loglik: float
    converged: bool
    family: str

    @property
    def table(self) -> pd.DataFrame:
        """Estimates with clustered SEs, z and two-sided p-values."""
        params = pd.Series(self.params, index=self.terms)
        se = pd.Series(np.sqrt(np.diag(self.cov)), index=self.terms)
        from scipy.stats import norm

        z = params / se
        return pd.DataFrame({"estimate": params, "se": se, "z": z, "p": 2 * norm.sf(np.abs(z))})

    @property
    def covariance(self) -> pd.DataFrame:
        return pd.DataFrame(self.cov, index=self.terms, columns=self.terms)


def _cluster_fit(model, groups: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter is reported through `converged`
        return model.fit(disp=0, maxiter=200, cov_type="cluster", cov_kwds={"groups": groups})


def _result(spec: ModelSpec, part: str, family: str, fitted, data_y: np.ndarray, groups: np.ndarray) -> FitResult:
    params = pd.Series(fitted.params)
    cov = pd.DataFrame(fitted.cov_params())
    return FitResult(
        model=spec.name, part=part, terms=[str(t) for t in params.index], params=params.tolist(),
        cov=cov.to_numpy().tolist(), nobs=int(fitted.nobs), n_clusters=int(len(np.unique(groups))),
        n_events=int((data_y > 0).sum()), loglik=float(fitted.llf),
        converged=bool(fitted.mle_retvals.get("converged", True)), family=family)


def fit_logit(data: ModelData) -> FitResult:
    """Logit of a binary outcome with standard errors clustered on the data's groups (statsmodels' sandwich,
    with the usual G/(G-1)·(N-1)/(N-K) small-sample factor)."""
    fitted = _cluster_fit(sm.Logit(data.y, data.X), data.groups)
    return _result(data.spec, "logit", "logit", fitted, data.y.to_numpy(), data.groups)


def fit_hurdle(data: ModelData, count_family: str = "poisson") -> list[FitResult]:
    """Two-part hurdle: a logit for 'at least one' over all rows, a zero-truncated count model over positives."""
    if count_family not in COUNT_FAMILIES:
        raise ValueError(f"unknown count family {count_family!r}; use {', '.join(COUNT_FAMILIES)}")
    any_positive = (data.y > 0).astype(float)
    zero = _cluster_fit(sm.Logit(any_positive, data.X), data.groups)
    positive = (data.y > 0).to_numpy()
    counts, X_pos, g_pos = data.y[positive], data.X[positive], data.groups[positive]
    count = _cluster_fit(COUNT_FAMILIES[count_family](counts, X_pos, truncation=0), g_pos)
    return [_result(data.spec, "zero", "logit", zero, any_positive.to_numpy(), data.groups),
            _result(data.spec, "count", f"zero-truncated {count_family}", count, counts.to_numpy(), g_pos)]


def fit_model(frame: pd.DataFrame, spec: ModelSpec, count_family: str = "poisson") -> list[FitResult]:
    """Fit one paper model (all of its parts) on the panel's long frame."""
    data = model_data(frame, spec)
    return [fit_logit(data)] if spec.family == "logit" else fit_hurdle(data, count_family)


def save_results(results: list[FitResult], path: str | Path, metadata: dict) -> Path:
    """Write every fitted part to one JSON file (atomically), with the panel's provenance in `metadata`."""
    payload = {"metadata": metadata, "fits": [asdict(r) for r in results]}
    return atomic_write_text(path, json.dumps(payload, indent=1) + "\n")


def load_results(path: str | Path) -> tuple[list[FitResult], dict]:
    """Read results written by `save_results`; anything else is a ValueError naming the file."""
    try:
        payload = json.loads(Path(path).read_text())
        return [FitResult(**fit) for fit in payload["fits"]], dict(payload["metadata"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not frequentist results written by 'coupproof freq' "
                         f"({type(exc).__name__}: {exc})") from None
