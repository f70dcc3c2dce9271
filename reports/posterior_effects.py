"""Posterior marginal effects and predicted probabilities from saved Bayesian fits (Figure 1 and 3 analogs), for
any model whose interaction multiplies two numeric variables (the focal variable and its moderator).

The numbers are those of `inference.effects` (the API's predictions and slopes): this module only lays them out as
the paper's figures. Every curve is on the engine's grid over the observed range of the moderator (`CURVE_POINTS`
points), the other variables at typical values, summarised by the posterior mean and a 94% HDI. With group random
intercepts there are two answers, both given and labelled:

- conditional: for a group whose own effect is zero (b = 0);
- population-averaged: averaged over the distribution of group effects, Pr = E_b[logit^-1(eta + b)] with
  b ~ N(0, group_sd^2), integrated with the same trapezoid rule as the model.

A model without a group intercept has only the conditional curve. The marginal effect is the engine's slope of
Pr(y = 1) (a hurdle's Pr(y > 0)) in the focal variable, with the slope of the log-odds (the link scale, the same for
both kinds) beside it; predicted probabilities are at the focal variable's `focal_levels` (0, mean, mean + 1 sd);
hurdle models add the expected count, Pr(any) x E[count | count > 0], on the same grid. Year effects are held at 0.
"""

from __future__ import annotations

import pandas as pd
import xarray as xr

from inference.diagnostics import HDI_PROB as PROB
from inference.effects import (CURVE_POINTS, KINDS, PosteriorDraws, focal_levels, link_quantity, observed_range,
                               prediction_draws, slope_draws, summarise_draws)
from models.design import ModelData

from .frequentist import curve_columns, curve_variables

COUNT_QUANTITIES = {"Pr(y>0)": "Pr(any)", "E[y]": "expected count"}  # the engine's names: the table's
MARGINAL_EFFECT_COLUMNS = ("model", "outcome", "focal", "moderator", "value", "kind", "effect", "lower", "upper",
                           "logodds_effect", "logodds_lower", "logodds_upper")


def _summary(draws: xr.DataArray, quantities: list[str], prob: float) -> pd.DataFrame:
    """The engine's summary of the named quantities of `draws`: rows by kind, quantity, then grid point."""
    return summarise_draws(draws.sel(quantity=quantities), prob)


def _curve_table(summary: pd.DataFrame, data: ModelData, focal: str, moderator: str, **columns) -> pd.DataFrame:
    """A curve table from an engine summary: the columns every curve starts with (`curve_columns`), the kind,
    then `columns`."""
    head = curve_columns(data, focal, moderator, summary[moderator].to_numpy())
    return pd.DataFrame({**head, "kind": summary["kind"], **columns})


def marginal_effect_curves(draws: PosteriorDraws, data: ModelData, moderator: str | None = None,
                           points: int = CURVE_POINTS, kinds: tuple[str, ...] = KINDS, prob: float = PROB
                           ) -> pd.DataFrame:
    """d Pr(y = 1) / d focal across `moderator` (default: the interaction's), conditional and population-averaged:
    mean and HDI, plus the log-odds effect (b_focal + b_int z for the paper's models; the same for both kinds)."""
    focal, moderator = curve_variables(data, moderator=moderator)
    by = {moderator: observed_range(data, moderator, points)}
    family = data.spec.family_info
    effect = _summary(slope_draws(draws, data, focal, by, kinds), [family.quantities[0]], prob)
    logodds = _summary(slope_draws(draws, data, focal, by, kinds, scale="link"), [link_quantity(family.main)], prob)
    table = _curve_table(effect, data, focal, moderator, effect=effect["estimate"], lower=effect["lower"],
                         upper=effect["upper"], logodds_effect=logodds["estimate"], logodds_lower=logodds["lower"],
                         logodds_upper=logodds["upper"])
    return table[list(MARGINAL_EFFECT_COLUMNS)]


def _at_focal_levels(draws: PosteriorDraws, data: ModelData, moderator: str | None, points: int,
                     kinds: tuple[str, ...], prob: float, quantities: list[str]
                     ) -> tuple[str, str, list[tuple[str, float, pd.DataFrame]]]:
    """The focal variable, the moderator and, per focal level (label, value), the engine's summary of
    `quantities` across the moderator."""
    focal, moderator = curve_variables(data, moderator=moderator)
    grid = observed_range(data, moderator, points)
    summaries = [(label, level, _summary(prediction_draws(draws, data, {moderator: grid, focal: [level]}, kinds),
                                         quantities, prob))
                 for label, level in focal_levels(data, focal).items()]
    return focal, moderator, summaries


def predicted_probability_curves(draws: PosteriorDraws, data: ModelData, moderator: str | None = None,
                                 points: int = CURVE_POINTS, kinds: tuple[str, ...] = KINDS, prob: float = PROB
                                 ) -> pd.DataFrame:
    """Pr(y = 1) across `moderator` at three levels of the focal variable (`focal_level` names them, `focal_value`
    gives them: 0, mean, mean + 1 sd), conditional and population-averaged."""
    quantity = data.spec.family_info.quantities[0]
    focal, moderator, found = _at_focal_levels(draws, data, moderator, points, kinds, prob, [quantity])
    return pd.concat([_curve_table(summary, data, focal, moderator, focal_level=label, focal_value=level,
                                   probability=summary["estimate"], lower=summary["lower"], upper=summary["upper"])
                      for label, level, summary in found], ignore_index=True)


def count_curves(draws: PosteriorDraws, data: ModelData, moderator: str | None = None,
                 points: int = CURVE_POINTS, kinds: tuple[str, ...] = KINDS, prob: float = PROB
                 ) -> pd.DataFrame:
    """Hurdle models: Pr(any count) and the expected count, Pr(any) x E[count | count > 0] (the count part's own
    terms), across `moderator` at three levels of the focal variable."""
    if draws.count_coef is None:
        raise ValueError(f"model {draws.model} has no count part")
    focal, moderator, found = _at_focal_levels(draws, data, moderator, points, kinds, prob, list(COUNT_QUANTITIES))
    return pd.concat([_curve_table(summary, data, focal, moderator, quantity=summary["quantity"].map(COUNT_QUANTITIES),
                                   focal_level=label, estimate=summary["estimate"], lower=summary["lower"],
                                   upper=summary["upper"])
                      for label, _, summary in found], ignore_index=True)
