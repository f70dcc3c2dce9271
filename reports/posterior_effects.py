"""Posterior marginal effects and predicted probabilities from saved Bayesian fits (Figure 1 and 3 analogs).

Every curve is computed draw by draw on a grid over the observed range of the moderator, with the other
covariates at their sample means ("typical values", as in the frequentist figures), and summarised by the
posterior mean and a 94% HDI. With dyad random intercepts there are two answers, both given and labelled:

- conditional: for a dyad whose own effect is zero (b = 0);
- population-averaged: averaged over the distribution of dyad effects, Pr = E_b[logit^-1(eta + b)] with
  b ~ N(0, dyad_sd^2), integrated with the same trapezoid rule as the model.

Hurdle models add the expected number of concessions, Pr(any) x E[count | count > 0], on the same grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import expit

from inference.diagnostics import HDI_PROB as PROB
from inference.store import fit_spec
from models.design import ModelData
from models.quadrature import QuadratureOptions

from .frequentist import typical_values

KINDS = ("conditional", "population")
KIND_LABELS = {"conditional": "conditional (dyad effect 0)", "population": "population-averaged"}


@dataclass(frozen=True)
class EffectDraws:
    """Posterior draws a curve needs: coefficients on the original scale (one row per draw), the dyad sd and,
    for hurdle models, the count part."""

    model: str
    coef: pd.DataFrame
    dyad_sd: np.ndarray
    count_coef: pd.DataFrame | None = None
    count_alpha: np.ndarray | None = None
    count_family: str = "poisson"

    @classmethod
    def from_fit(cls, tree, every: int = 1) -> "EffectDraws":
        """Every `every`-th draw of each chain of a fit saved by `coupproof fit`."""
        post = tree["posterior"]

        def table(name: str) -> pd.DataFrame:
            values = np.asarray(post[name])[:, ::every].reshape(-1, post.sizes["coef_term"])
            return pd.DataFrame(values, columns=[str(t) for t in post["coef_term"].values])

        def flat(name: str) -> np.ndarray:
            return np.asarray(post[name])[:, ::every].reshape(-1)

        spec = fit_spec(tree)
        return cls(model=spec.name, coef=table("coef"), dyad_sd=flat("dyad_sd"),
                   count_coef=table("count_coef") if "count_coef" in post else None,
                   count_alpha=flat("count_alpha") if "count_alpha" in post else None,
                   count_family=spec.count_family)

    @property
    def n_draws(self) -> int:
        return len(self.dyad_sd)


def design_rows(data: ModelData, moderator: str, grid: np.ndarray, focal_value: float | None = None) -> pd.DataFrame:
    """Design rows at typical values with the moderator on `grid` (and the focal term at `focal_value`, or at its
    mean), the interaction product recomputed."""
    spec = data.spec
    focal, term = spec.interaction[0], spec.interaction_term
    X = pd.DataFrame([typical_values(data)] * len(grid)).reset_index(drop=True)
    X[moderator] = grid
    if focal_value is not None:
        X[focal] = focal_value
    X[term] = X[spec.interaction[0]] * X[spec.interaction[1]]
    return X


def mean_probability(eta: np.ndarray, dyad_sd: np.ndarray, kind: str,
                     options: QuadratureOptions = QuadratureOptions()) -> tuple[np.ndarray, np.ndarray]:
    """Pr(y = 1) and its derivative in eta for every draw (rows of eta) and grid point: at b = 0 (conditional) or
    averaged over b ~ N(0, dyad_sd^2) (population)."""
    if kind == "conditional":
        p = expit(eta)
        return p, p * (1 - p)
    if kind != "population":
        raise ValueError(f"unknown kind {kind!r}; use {', '.join(KINDS)}")
    prob, slope = np.empty_like(eta), np.empty_like(eta)
    for s, sigma in enumerate(dyad_sd):
        rule = options.rule(False, float(sigma))
        weights = np.exp(rule.log_weights)
        p = expit(eta[s][:, None] + sigma * rule.nodes[None, :])
        prob[s], slope[s] = p @ weights, (p * (1 - p)) @ weights
    return prob, slope


def summarise(values: np.ndarray, prob: float = PROB) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Posterior mean and HDI bounds of (draws x grid) values."""
    from arviz_stats import hdi

    bounds = hdi(xr.DataArray(values, dims=("sample", "grid")), prob=prob, dim="sample").values
    return values.mean(axis=0), bounds[:, 0], bounds[:, 1]


def _grid(data: ModelData, moderator: str, points: int) -> np.ndarray:
    return np.linspace(data.X[moderator].min(), data.X[moderator].max(), points)


def marginal_effect_curves(draws: EffectDraws, data: ModelData, moderator: str, points: int = 101,
                           kinds: tuple[str, ...] = KINDS, prob: float = PROB) -> pd.DataFrame:
    """d Pr(pact) / d counterbalancing across `moderator`, conditional and population-averaged: mean and HDI,
    plus the log-odds effect b_cb + b_int z (the same for both)."""
    spec = data.spec
    focal, term = spec.interaction[0], spec.interaction_term
    grid = _grid(data, moderator, points)
    X = design_rows(data, moderator, grid)
    coef = draws.coef[X.columns].to_numpy()
    eta = coef @ X.to_numpy().T
    logodds = coef[:, [X.columns.get_loc(focal)]] + coef[:, [X.columns.get_loc(term)]] * grid[None, :]
    frames = []
    for kind in kinds:
        _, dp = mean_probability(eta, draws.dyad_sd, kind)
        mean, lower, upper = summarise(dp * logodds, prob)
        lo_mean, lo_lower, lo_upper = summarise(logodds, prob)
        frames.append(pd.DataFrame({"model": draws.model, "moderator": moderator, "value": grid, "kind": kind,
                                    "effect": mean, "lower": lower, "upper": upper, "logodds_effect": lo_mean,
                                    "logodds_lower": lo_lower, "logodds_upper": lo_upper}))
    return pd.concat(frames, ignore_index=True)


def focal_levels(data: ModelData) -> dict[str, float]:
    """Counterbalancing at 0, its mean and mean + 1 sd (the paper's Figure 3)."""
    focal = data.X[data.spec.interaction[0]]
    mean, sd = focal.mean(), focal.std()
    return {"none (0)": 0.0, f"mean ({mean:.2f})": mean, f"mean + 1 sd ({mean + sd:.2f})": mean + sd}


def predicted_probability_curves(draws: EffectDraws, data: ModelData, moderator: str, points: int = 101,
                                 kinds: tuple[str, ...] = KINDS, prob: float = PROB) -> pd.DataFrame:
    """Pr(pact) across `moderator` at three levels of counterbalancing, conditional and population-averaged."""
    grid = _grid(data, moderator, points)
    frames = []
    for label, level in focal_levels(data).items():
        X = design_rows(data, moderator, grid, level)
        eta = draws.coef[X.columns].to_numpy() @ X.to_numpy().T
        for kind in kinds:
            p, _ = mean_probability(eta, draws.dyad_sd, kind)
            mean, lower, upper = summarise(p, prob)
            frames.append(pd.DataFrame({"model": draws.model, "moderator": moderator, "value": grid, "kind": kind,
                                        "counterbalancing": label, "counterbalancing_value": level,
                                        "probability": mean, "lower": lower, "upper": upper}))
    return pd.concat(frames, ignore_index=True)


def truncated_count_mean(mu: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """E[count | count > 0] of a zero-truncated Poisson (alpha None) or negative binomial with dispersion alpha."""
    if alpha is None:
        return mu / -np.expm1(-mu)
    p_zero = (alpha / (alpha + mu)) ** alpha
    return mu / (1 - p_zero)


def concession_curves(draws: EffectDraws, data: ModelData, moderator: str, points: int = 101,
                      kinds: tuple[str, ...] = KINDS, prob: float = PROB) -> pd.DataFrame:
    """Hurdle models: Pr(a new pact with any concession) and the expected number of concessions,
    Pr(any) x E[count | count > 0], across `moderator` at three levels of counterbalancing."""
    if draws.count_coef is None:
        raise ValueError(f"model {draws.model} has no count part")
    grid = _grid(data, moderator, points)
    frames = []
    for label, level in focal_levels(data).items():
        X = design_rows(data, moderator, grid, level)
        eta = draws.coef[X.columns].to_numpy() @ X.to_numpy().T
        mu = np.exp(draws.count_coef[X.columns].to_numpy() @ X.to_numpy().T)
        alpha = None if draws.count_alpha is None else draws.count_alpha[:, None]
        count_mean = truncated_count_mean(mu, alpha)
        for kind in kinds:
            p, _ = mean_probability(eta, draws.dyad_sd, kind)
            for quantity, values in (("Pr(any concession)", p), ("expected concessions", p * count_mean)):
                mean, lower, upper = summarise(values, prob)
                frames.append(pd.DataFrame({"model": draws.model, "moderator": moderator, "value": grid,
                                            "kind": kind, "quantity": quantity, "counterbalancing": label,
                                            "estimate": mean, "lower": lower, "upper": upper}))
    return pd.concat(frames, ignore_index=True)
