"""Frequentist fits of any spec with statsmodels: logits with standard errors clustered on the formula's grouping
(the paper's Table 1), two-part hurdle models (Table 2) and ordinal logits, saved so that reports never refit. The
group intercept itself is not estimated here: as in the paper, it only defines the clusters."""

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
from inference.dyadic import dyad_members, dyad_robust_cov, positive_part
from models.design import ModelData
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
    note: str = ""  # how the estimator departs from the plain fit (rows dropped, intervals used)
    pvalues: list[float] | None = None  # tests other than Wald's (Firth: penalised likelihood ratio), by term
    intervals: dict | None = None  # intervals other than Wald's: {"level", "method", "lower", "upper"}, by term
    cov_dyad_robust: list[list[float]] | None = None  # Aronow, Samii & Assenova's, on a dyadic design

    def __repr__(self) -> str:  # the table, not the covariance matrix
        head = (f"{self.model} ({self.part}: {self.family}): {self.nobs:,} rows, {self.n_clusters:,} clusters, "
                f"{self.n_events:,} events, log-likelihood {self.loglik:.2f}"
                f"{'' if self.converged else ', NOT CONVERGED'}")
        return f"{head}\n{self.table.to_string(float_format=lambda v: f'{v:.4g}')}"

    @property
    def table(self) -> pd.DataFrame:
        """Estimates with clustered SEs, z and two-sided p-values (the estimator's own tests where it has them)."""
        params = pd.Series(self.params, index=self.terms)
        se = pd.Series(np.sqrt(np.diag(self.cov)), index=self.terms)
        from scipy.stats import norm

        z = params / se
        p = pd.Series(self.pvalues, index=self.terms) if self.pvalues is not None else 2 * norm.sf(np.abs(z))
        table = pd.DataFrame({"estimate": params, "se": se, "z": z, "p": p})
        if self.cov_dyad_robust is not None:  # beside the dyad-clustered SE: shocks shared by dyads with a state
            robust = np.sqrt(np.diag(self.cov_dyad_robust))
            table["se_dyad_robust"] = robust
            table["p_dyad_robust"] = 2 * norm.sf(np.abs(params.to_numpy() / robust))
        return table

    @property
    def covariance(self) -> pd.DataFrame:
        return pd.DataFrame(self.cov, index=self.terms, columns=self.terms)


def _cluster_fit(model, groups: np.ndarray, where: str):
    """Maximum likelihood with clustered SEs; a singular design (a column constant or collinear in these rows)
    is one error naming the model and part."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter is reported through `converged`
        try:
            return model.fit(disp=0, maxiter=200, cov_type="cluster", cov_kwds={"groups": groups})
        except np.linalg.LinAlgError as exc:
            raise ValueError(f"{where}: cannot be estimated ({exc}): a design column is constant or collinear in "
                             "its rows") from None


def _result(spec: ModelSpec, part: str, family: str, fitted, data_y: np.ndarray, groups: np.ndarray,
            members: tuple[np.ndarray, np.ndarray] | None = None) -> FitResult:
    """The fit as a FitResult; with `members` (the two states of each row's dyad) also the dyad-robust covariance."""
    params = pd.Series(fitted.params)
    cov = pd.DataFrame(fitted.cov_params())
    robust, note = None, ""
    if members is not None:
        with np.errstate(all="ignore"):
            robust, negative = positive_part(dyad_robust_cov(fitted, *members, repair=False))
        robust = robust.tolist()
        if negative:
            note = (f"dyad-robust covariance: {negative} negative eigenvalue(s) set to 0 (Cameron, Gelbach & Miller "
                    "2011)")
    return FitResult(
        model=spec.name, part=part, terms=[str(t) for t in params.index], params=params.tolist(),
        cov=cov.to_numpy().tolist(), nobs=int(fitted.nobs), n_clusters=len(np.unique(groups)),
        n_events=int((data_y > 0).sum()), loglik=float(fitted.llf),
        converged=bool(fitted.mle_retvals.get("converged", True)), family=family, note=note,
        cov_dyad_robust=robust)


def _rows_of(members, rows: np.ndarray):
    """The dyad members of the rows a part uses (None off a dyadic design)."""
    return None if members is None else (members[0][rows], members[1][rows])


def clusters(data: ModelData) -> np.ndarray:
    """Cluster codes for the sandwich: the formula's grouping, else every row its own cluster (robust SEs)."""
    return data.groups if data.groups is not None else np.arange(len(data.y))


def event_free_levels(data: ModelData) -> tuple[np.ndarray, list[str]]:
    """Rows and dummy columns of the categorical fixed effects' levels without any event (e.g. years without a new
    pact under C(year)): such a level's dummy runs off to minus infinity and the fit does not converge, while its
    rows, which the dummy then fits exactly, carry no information on the other coefficients. Returns a boolean mask
    of the rows to keep and the dummies to drop."""
    keep = np.ones(len(data.y), dtype=bool)
    dropped: list[str] = []
    if data.design is None or not hasattr(data.design, "terms"):
        return keep, dropped
    events = data.y.to_numpy() > 0
    for name, term in data.design.terms.items():
        if getattr(term, "kind", None) != "categoric":
            continue
        for column in data.X.columns[data.design.slices[name]]:
            on = data.X[column].to_numpy() == 1
            if on.any() and not events[on].any():
                keep &= ~on
                dropped.append(str(column))
    return keep, dropped


def fit_logit(data: ModelData) -> FitResult:
    """Logit of a binary outcome with standard errors clustered on the data's groups (statsmodels' sandwich,
    with the usual G/(G-1)·(N-1)/(N-K) small-sample factor). Levels of a categorical fixed effect without any
    event are left out with their rows (`event_free_levels`): the other coefficients are those of the full fit's
    limit, and the fit converges."""
    groups = clusters(data)
    keep, dropped = event_free_levels(data)
    X = data.X.loc[keep, [c for c in data.X.columns if c not in dropped]]
    fitted = _cluster_fit(sm.Logit(data.y[keep], X), groups[keep], f"model {data.spec.name}")
    result = _result(data.spec, "logit", "logit", fitted, data.y.to_numpy()[keep], groups[keep],
                     _rows_of(dyad_members(data), keep))
    if dropped:
        left_out = (f"{len(dropped)} level(s) without any event left out with their {int((~keep).sum()):,} rows "
                    f"({', '.join(dropped[:3])}{', ...' if len(dropped) > 3 else ''}): not estimable, and no "
                    "information on the other coefficients")
        result.note = "; ".join(n for n in (left_out, result.note) if n)
    return result


def fit_hurdle(data: ModelData) -> list[FitResult]:
    """Two-part hurdle: a logit for 'at least one' over all rows, a zero-truncated count model over positives
    (with the count part's own terms)."""
    count_family = data.spec.family_info.count
    groups = clusters(data)
    any_positive = (data.y > 0).astype(float)
    zero = _cluster_fit(sm.Logit(any_positive, data.X), groups, f"model {data.spec.name}: zero part")
    positive = data.positive
    counts, X_pos, g_pos = data.y[positive], data.count_X[positive], groups[positive]
    count = _cluster_fit(COUNT_FAMILIES[count_family](counts, X_pos, truncation=0), g_pos,
                         f"model {data.spec.name}: count part ({len(counts)} positive rows)")
    members = dyad_members(data)
    return [_result(data.spec, "zero", "logit", zero, any_positive.to_numpy(), groups, members),
            _result(data.spec, "count", f"zero-truncated {count_family}", count, counts.to_numpy(), g_pos,
                    _rows_of(members, np.asarray(positive)))]


def fit_ordinal(data: ModelData) -> FitResult:
    """Ordinal logit (statsmodels OrderedModel) with clustered SEs; the cut points are reported as statsmodels
    parametrises them (first cut, then log increments)."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    groups = clusters(data)
    model = OrderedModel(data.y.astype(int), data.X, distr="logit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = model.fit(method="bfgs", disp=0, maxiter=500, cov_type="cluster", cov_kwds={"groups": groups})
    return _result(data.spec, "ordinal", "ordinal logit", fitted, data.y.to_numpy(), groups, dyad_members(data))


def fit_data(data: ModelData) -> list[FitResult]:
    """Fit every part of the model of `data` (one for bernoulli and cumulative, two for hurdles)."""
    family = data.spec.family_info
    if family.is_hurdle:
        return fit_hurdle(data)
    return [fit_ordinal(data) if family.is_ordinal else fit_logit(data)]


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
