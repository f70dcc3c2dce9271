"""Posterior marginal effects and predicted probabilities from saved Bayesian fits (Figure 1 and 3 analogs), for
any model whose interaction multiplies two numeric variables (the focal variable and its moderator).

Every curve is computed draw by draw on a grid over the observed range of the moderator, with the other variables
at typical values (`models.design.typical_values`, as in the frequentist figures; the design follows the formula,
transforms and dummies included), and summarised by the posterior mean and a 94% HDI. With group random
intercepts there are two answers, both given and labelled:

- conditional: for a group whose own effect is zero (b = 0);
- population-averaged: averaged over the distribution of group effects, Pr = E_b[logit^-1(eta + b)] with
  b ~ N(0, group_sd^2), integrated with the same trapezoid rule as the model.

A model without a group intercept has only the conditional curve. Hurdle models add the expected count,
Pr(any) x E[count | count > 0], on the same grid. Year effects are held at 0.
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

from .frequentist import design_slope, focal_levels, grid_rows, interaction_variables, moderator_grid

KINDS = ("conditional", "population")
KIND_LABELS = {"conditional": "conditional (group effect 0)", "population": "population-averaged"}


@dataclass(frozen=True)
class EffectDraws:
    """Posterior draws a curve needs: coefficients on the original scale (one row per draw, columns named as the
    design's), the group sd (None without a group) and, for hurdle models, the count part."""

    model: str
    coef: pd.DataFrame
    group_sd: np.ndarray | None = None
    count_coef: pd.DataFrame | None = None
    count_alpha: np.ndarray | None = None
    count_family: str | None = None

    @classmethod
    def from_fit(cls, tree, every: int = 1) -> "EffectDraws":
        """Every `every`-th draw of each chain of a fit saved by `coupproof fit` (any method)."""
        post = tree["posterior"]
        spec = fit_spec(tree)

        def flat(name: str) -> np.ndarray:
            values = post[name].isel(draw=slice(None, None, every))
            return values.stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()

        def table(name: str, dim: str) -> pd.DataFrame:
            return pd.DataFrame(flat(name), columns=[str(t) for t in post[dim].values])

        has_count = "count_coef" in post
        return cls(model=spec.name, coef=table("coef", "coef_term"),
                   group_sd=flat(spec.group_sd) if spec.group is not None and spec.group_sd in post else None,
                   count_coef=table("count_coef", "count_coef_term") if has_count else None,
                   count_alpha=flat("count_alpha") if "count_alpha" in post else None,
                   count_family=spec.count_family)

    @property
    def n_draws(self) -> int:
        return len(self.coef)

    def kinds(self, kinds: tuple[str, ...] = KINDS) -> tuple[str, ...]:
        """The kinds that differ for this model: without a group only the conditional one."""
        return kinds if self.group_sd is not None else tuple(k for k in kinds if k == "conditional")

    def linear(self, X: pd.DataFrame, count: bool = False) -> np.ndarray:
        """The linear predictor (draws x rows) of design `X`, coefficients matched to columns by name."""
        coef = self.count_coef if count else self.coef
        missing = [c for c in X.columns if c not in coef.columns]
        if missing:
            raise ValueError(f"model {self.model}: the fit has no coefficient for {', '.join(missing)}; was it "
                             "fitted with another formula?")
        return coef[list(X.columns)].to_numpy() @ X.to_numpy().T


def design_rows(data: ModelData, moderator: str, grid: np.ndarray, focal_value: float | None = None,
                part: str = "zero") -> pd.DataFrame:
    """The design at typical values with the moderator on `grid` (and the focal variable at `focal_value`, or at
    its typical value), evaluated by the formula (interactions recomputed)."""
    focal = _variables(data)[0]
    return data.new_design(grid_rows(data, moderator, grid, focal, focal_value), part)


def _variables(data: ModelData) -> tuple[str, str]:
    found = interaction_variables(data)
    if isinstance(found, str):
        raise ValueError(f"model {data.spec.name}: {found}")
    return found


def mean_probability(eta: np.ndarray, group_sd: np.ndarray | None, kind: str,
                     options: QuadratureOptions = QuadratureOptions()) -> tuple[np.ndarray, np.ndarray]:
    """Pr(y = 1) and its derivative in eta for every draw (rows of eta) and grid point: at b = 0 (conditional) or
    averaged over b ~ N(0, group_sd^2) (population)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use {', '.join(KINDS)}")
    if kind == "conditional" or group_sd is None:
        p = expit(eta)
        return p, p * (1 - p)
    prob, slope = np.empty_like(eta), np.empty_like(eta)
    for s, sigma in enumerate(group_sd):
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


def _curve_frame(draws: EffectDraws, data: ModelData, focal: str, moderator: str, grid: np.ndarray,
                 kind: str, **columns) -> pd.DataFrame:
    """The columns every curve table starts with, then `columns`."""
    return pd.DataFrame({"model": draws.model, "outcome": data.spec.outcome, "focal": focal,
                         "moderator": moderator, "value": grid, "kind": kind, **columns})


def marginal_effect_curves(draws: EffectDraws, data: ModelData, moderator: str | None = None, points: int = 101,
                           kinds: tuple[str, ...] = KINDS, prob: float = PROB) -> pd.DataFrame:
    """d Pr(y = 1) / d focal across `moderator` (default: the interaction's), conditional and population-averaged:
    mean and HDI, plus the log-odds effect (b_focal + b_int z for the paper's models; the same for both kinds)."""
    focal, default = _variables(data)
    moderator = moderator or default
    grid = moderator_grid(data, moderator, points)
    rows = grid_rows(data, moderator, grid)
    eta = draws.linear(data.new_design(rows))
    logodds = draws.linear(design_slope(data, rows, focal))
    frames = []
    for kind in draws.kinds(kinds):
        _, dp = mean_probability(eta, draws.group_sd, kind)
        mean, lower, upper = summarise(dp * logodds, prob)
        lo_mean, lo_lower, lo_upper = summarise(logodds, prob)
        frames.append(_curve_frame(draws, data, focal, moderator, grid, kind, effect=mean, lower=lower, upper=upper,
                                   logodds_effect=lo_mean, logodds_lower=lo_lower, logodds_upper=lo_upper))
    return pd.concat(frames, ignore_index=True)


def predicted_probability_curves(draws: EffectDraws, data: ModelData, moderator: str | None = None,
                                 points: int = 101, kinds: tuple[str, ...] = KINDS, prob: float = PROB
                                 ) -> pd.DataFrame:
    """Pr(y = 1) across `moderator` at three levels of the focal variable (0, mean, mean + 1 sd), conditional
    and population-averaged. The level columns keep the paper's names (counterbalancing, counterbalancing_value)."""
    focal, default = _variables(data)
    moderator = moderator or default
    grid = moderator_grid(data, moderator, points)
    frames = []
    for label, level in focal_levels(data, focal).items():
        eta = draws.linear(data.new_design(grid_rows(data, moderator, grid, focal, level)))
        for kind in draws.kinds(kinds):
            p, _ = mean_probability(eta, draws.group_sd, kind)
            mean, lower, upper = summarise(p, prob)
            frames.append(_curve_frame(draws, data, focal, moderator, grid, kind, counterbalancing=label,
                                       counterbalancing_value=level, probability=mean, lower=lower, upper=upper))
    return pd.concat(frames, ignore_index=True)


def truncated_count_mean(mu: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """E[count | count > 0] of a zero-truncated Poisson (alpha None) or negative binomial with dispersion alpha."""
    if alpha is None:
        return mu / -np.expm1(-mu)
    p_zero = (alpha / (alpha + mu)) ** alpha
    return mu / (1 - p_zero)


def concession_curves(draws: EffectDraws, data: ModelData, moderator: str | None = None, points: int = 101,
                      kinds: tuple[str, ...] = KINDS, prob: float = PROB) -> pd.DataFrame:
    """Hurdle models: Pr(any count) and the expected count, Pr(any) x E[count | count > 0] (the count part's own
    terms), across `moderator` at three levels of the focal variable."""
    if draws.count_coef is None:
        raise ValueError(f"model {draws.model} has no count part")
    focal, default = _variables(data)
    moderator = moderator or default
    grid = moderator_grid(data, moderator, points)
    alpha = None if draws.count_alpha is None else draws.count_alpha[:, None]
    frames = []
    for label, level in focal_levels(data, focal).items():
        rows = grid_rows(data, moderator, grid, focal, level)
        eta = draws.linear(data.new_design(rows))
        count_mean = truncated_count_mean(np.exp(draws.linear(data.new_design(rows, "count"), count=True)), alpha)
        for kind in draws.kinds(kinds):
            p, _ = mean_probability(eta, draws.group_sd, kind)
            for quantity, values in (("Pr(any)", p), ("expected count", p * count_mean)):
                mean, lower, upper = summarise(values, prob)
                frames.append(_curve_frame(draws, data, focal, moderator, grid, kind, quantity=quantity,
                                           counterbalancing=label, estimate=mean, lower=lower, upper=upper))
    return pd.concat(frames, ignore_index=True)
