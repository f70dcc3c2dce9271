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
Pr(any) x E[count | count > 0], on the same grid. Year effects are held at 0. The draws, the average over the group
effects and the truncated count mean are those of `inference.effects` (the API's predictions and slopes); this
module lays them out as the paper's figures (three levels of the focal variable, the log-odds effect beside).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from inference.diagnostics import HDI_PROB as PROB
from inference.effects import KINDS, PosteriorDraws, group_average, truncated_count_mean
from models.design import ModelData

from .frequentist import design_slope, focal_levels, grid_rows, interaction_variables, moderator_grid

KIND_LABELS = {"conditional": "conditional (group effect 0)", "population": "population-averaged"}


def _kinds(draws: PosteriorDraws, kinds: tuple[str, ...]) -> tuple[str, ...]:
    """The kinds that differ for this model: without a group only the conditional one."""
    return kinds if draws.group_sd is not None else tuple(k for k in kinds if k == "conditional")


def _variables(data: ModelData) -> tuple[str, str]:
    found = interaction_variables(data)
    if isinstance(found, str):
        raise ValueError(f"model {data.spec.name}: {found}")
    return found


def mean_probability(eta: np.ndarray, group_sd: np.ndarray | None, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Pr(y = 1) and its derivative in eta for every draw (rows of eta) and grid point: at b = 0 (conditional) or
    averaged over b ~ N(0, group_sd^2) (population)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use {', '.join(KINDS)}")
    return group_average(eta, group_sd if kind == "population" else None, derivative=True)


def summarise(values: np.ndarray, prob: float = PROB) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Posterior mean and HDI bounds of (draws x grid) values."""
    from arviz_stats import hdi

    bounds = hdi(xr.DataArray(values, dims=("sample", "grid")), prob=prob, dim="sample").values
    return values.mean(axis=0), bounds[:, 0], bounds[:, 1]


def _curve_frame(draws: PosteriorDraws, data: ModelData, focal: str, moderator: str, grid: np.ndarray,
                 kind: str, **columns) -> pd.DataFrame:
    """The columns every curve table starts with, then `columns`."""
    return pd.DataFrame({"model": draws.model, "outcome": data.spec.outcome, "focal": focal,
                         "moderator": moderator, "value": grid, "kind": kind, **columns})


def marginal_effect_curves(draws: PosteriorDraws, data: ModelData, moderator: str | None = None, points: int = 101,
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
    for kind in _kinds(draws, kinds):
        _, dp = mean_probability(eta, draws.group_sd, kind)
        mean, lower, upper = summarise(dp * logodds, prob)
        lo_mean, lo_lower, lo_upper = summarise(logodds, prob)
        frames.append(_curve_frame(draws, data, focal, moderator, grid, kind, effect=mean, lower=lower, upper=upper,
                                   logodds_effect=lo_mean, logodds_lower=lo_lower, logodds_upper=lo_upper))
    return pd.concat(frames, ignore_index=True)


def predicted_probability_curves(draws: PosteriorDraws, data: ModelData, moderator: str | None = None,
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
        for kind in _kinds(draws, kinds):
            p, _ = mean_probability(eta, draws.group_sd, kind)
            mean, lower, upper = summarise(p, prob)
            frames.append(_curve_frame(draws, data, focal, moderator, grid, kind, counterbalancing=label,
                                       counterbalancing_value=level, probability=mean, lower=lower, upper=upper))
    return pd.concat(frames, ignore_index=True)


def concession_curves(draws: PosteriorDraws, data: ModelData, moderator: str | None = None, points: int = 101,
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
        for kind in _kinds(draws, kinds):
            p, _ = mean_probability(eta, draws.group_sd, kind)
            for quantity, values in (("Pr(any)", p), ("expected count", p * count_mean)):
                mean, lower, upper = summarise(values, prob)
                frames.append(_curve_frame(draws, data, focal, moderator, grid, kind, quantity=quantity,
                                           counterbalancing=label, estimate=mean, lower=lower, upper=upper))
    return pd.concat(frames, ignore_index=True)
