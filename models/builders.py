"""PyMC builders for the paper's models with dyad random intercepts.

Two parameterisations of the same logit with a dyad effect b_d ~ N(0, dyad_sd^2):
- "marginal" (default, fast): b_d integrated out by quadrature inside the log-density, so NUTS samples only the
  population parameters; dyad effects are recovered afterwards (inference.dyad_effects).
- "plain": the non-centred reference, b_d = dyad_sd * z_d with z_d ~ N(0, 1) sampled by NUTS.
Covariates are standardised inside the model; `coef` reports intercept and slopes on the original scale. The
random intercept's grouping follows the spec (directed dyad, undirected dyad or State A); specs with year effects
add partially pooled year intercepts (non-centred). Hurdle models add a zero-truncated Poisson or negative
binomial part for the count among positive rows (fixed effects only: with about 80 pacts the data cannot
identify dyad effects there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from .design import ModelData
from .priors import Prior
from .marginal_op import DyadRows, marginal_dyad_loglik
from .quadrature import QuadratureOptions

METHODS = ("marginal", "plain")


@dataclass(frozen=True)
class Standardiser:
    """Column means and sds of the design (without the intercept), to move between scales."""

    terms: tuple[str, ...]
    mean: np.ndarray
    sd: np.ndarray

    @classmethod
    def from_design(cls, data: ModelData) -> "Standardiser":
        X = data.X.drop(columns="Intercept")
        sd = X.std().to_numpy()
        return cls(tuple(X.columns), X.mean().to_numpy(), np.where(sd > 0, sd, 1.0))

    def transform(self, data: ModelData) -> np.ndarray:
        return (data.X.drop(columns="Intercept").to_numpy() - self.mean) / self.sd


@dataclass
class BuiltModel:
    """A PyMC model with what is needed to interpret and post-process its draws."""

    model: pm.Model
    method: str
    standardiser: Standardiser
    rows: DyadRows | None  # the marginal method's row layout (rows sorted by dyad)
    quadrature: QuadratureOptions | None
    extra: dict = field(default_factory=dict)


def with_intercept(Z: np.ndarray) -> np.ndarray:
    """The standardised design with a leading column of ones (the kernel's X)."""
    return np.column_stack([np.ones(len(Z)), Z])


def _original_scale(intercept, beta, standardiser: Standardiser, name: str, dims: str):
    """Deterministic intercept and slopes on the covariates' original scale."""
    slopes = beta / standardiser.sd
    const = intercept - pt.sum(beta * standardiser.mean / standardiser.sd)
    return pm.Deterministic(name, pt.concatenate([const[None], slopes]), dims=dims)


def _year_effects(data: ModelData, priors: dict[str, Prior]):
    """Partially pooled year intercepts (non-centred), or None when the spec has none."""
    if data.years is None:
        return None
    year_sd = priors["year_sd"].create_scale("year_sd")
    year_z = pm.Normal("year_z", 0.0, 1.0, dims="year")
    return pm.Deterministic("year_effect", year_sd * year_z, dims="year")


def _logit_part(data: ModelData, y: np.ndarray, priors: dict[str, Prior], method: str,
                quadrature: QuadratureOptions, standardiser: Standardiser):
    Z = standardiser.transform(data)
    intercept = priors["intercept"].create("intercept")
    beta = priors["slopes"].create("beta", dims="term")
    dyad_sd = priors["dyad_sd"].create_scale("dyad_sd")
    year_effect = _year_effects(data, priors)
    rows = None
    if method == "plain":
        eta = intercept + pt.dot(pt.as_tensor(Z), beta)
        if year_effect is not None:
            eta = eta + year_effect[data.years]
        z = pm.Normal("dyad_z", 0.0, 1.0, dims="dyad")
        pm.Bernoulli("y", logit_p=eta + dyad_sd * z[data.groups], observed=y)
    else:
        rows = DyadRows.from_groups(data.groups, y, quadrature, level=data.years)
        coef = pt.concatenate([intercept[None], beta])
        pm.Potential("marginal_loglik", marginal_dyad_loglik(coef, dyad_sd, rows.sort(with_intercept(Z)), rows,
                                                             year_effect))
    _original_scale(intercept, beta, standardiser, "coef", "coef_term")
    return rows


def _count_part(data: ModelData, y: np.ndarray, priors: dict[str, Prior], standardiser: Standardiser) -> int:
    """Zero-truncated Poisson or negative binomial for the counts among positive rows (fixed effects only)."""
    positive = y > 0
    Z = standardiser.transform(data)[positive]
    c0 = priors["count_intercept"].create("count_intercept")
    cb = priors["count_slopes"].create("count_beta", dims="term")
    mu = pt.exp(c0 + pt.dot(pt.as_tensor(Z), cb))
    if data.spec.count_family == "negbin":
        counts = pm.NegativeBinomial.dist(mu=mu, alpha=priors["count_alpha"].create("count_alpha"))
    else:
        counts = pm.Poisson.dist(mu=mu)
    pm.Truncated("count", counts, lower=1, observed=y[positive])
    _original_scale(c0, cb, standardiser, "count_coef", "coef_term")
    return int(positive.sum())


def build_model(data: ModelData, priors: dict[str, Prior], method: str = "marginal",
                quadrature: QuadratureOptions = QuadratureOptions()) -> BuiltModel:
    """The PyMC model of `data.spec`: a logit (Table 1) or a hurdle (Table 2), with dyad intercepts."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use {', '.join(METHODS)}")
    standardiser = Standardiser.from_design(data)
    coords = {"term": list(standardiser.terms), "coef_term": ["Intercept", *standardiser.terms],
              "dyad": np.arange(data.n_groups)}
    if data.year_labels is not None:
        coords["year"] = data.year_labels
    y = data.y.to_numpy()
    extra = {}
    with pm.Model(coords=coords) as model:
        if data.spec.family == "logit":
            rows = _logit_part(data, y, priors, method, quadrature, standardiser)
        else:
            rows = _logit_part(data, (y > 0).astype(float), priors, method, quadrature, standardiser)
            extra["n_positive"] = _count_part(data, y, priors, standardiser)
    return BuiltModel(model, method, standardiser, rows, quadrature if method == "marginal" else None, extra)
