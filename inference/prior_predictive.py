"""The prior predictive check: what a model's priors say about its outcome before seeing it, against the data.

Outcomes are simulated from the priors on the model's own design (inference.simulation) and summarised as the
quantities a reader can judge: the share of rows with an event (any count, for a hurdle), the mean count among
positive rows (hurdle) and each category's share (ordinal). A prior that fits its design puts the observed value
inside the central `CENTRAL` share of its prior predictive distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.design import ModelData
from models.priors import Prior

from .settings import DEFAULT_SEED
from .simulation import draw_outcomes, draw_parameters

CENTRAL = 0.90  # the prior predictive interval the observed value must lie in
MAX_CELLS = 20_000_000  # simulated outcomes held at once (simulations x rows): about 160 MB


def _category(label) -> str:
    """An ordinal category as written: 2 for 2.0."""
    return f"{label:g}" if isinstance(label, (int, float, np.number)) else str(label)


def outcome_quantities(y: np.ndarray, data: ModelData) -> dict[str, np.ndarray]:
    """Each quantity of outcomes `y` (simulations x rows, or one row of observed values): the event rate, the mean
    count among positive rows (hurdle families) and each category's share (ordinal families)."""
    y = np.atleast_2d(y)
    family = data.spec.family_info
    if family.is_ordinal:
        return {f"share of {_category(label)}": (y == k).mean(axis=1) for k, label in enumerate(data.categories)}
    positive = y > 0
    out = {"event rate": positive.mean(axis=1)}
    if family.is_hurdle:
        with np.errstate(invalid="ignore", divide="ignore"):
            out["mean count among positive rows"] = np.where(positive.any(axis=1), y.sum(axis=1)
                                                             / positive.sum(axis=1), np.nan)
    return out


@dataclass
class PriorPredictive:
    """One model's prior predictive draws of each quantity and the observed values.

    Attributes
    ----------
    model : str
        The model's name.
    label : str
        Its label.
    simulated : dict of str to numpy.ndarray
        Each quantity's prior predictive draws.
    observed : dict of str to float
        Each quantity in the data.
    """

    model: str
    label: str
    simulated: dict[str, np.ndarray]
    observed: dict[str, float]

    def table(self) -> pd.DataFrame:
        """One row per quantity: its value in the data, the prior predictive median and central interval, the data's
        percentile, and whether it lies inside the interval."""
        low, high = (1 - CENTRAL) / 2, (1 + CENTRAL) / 2
        rows = []
        for name, draws in self.simulated.items():
            draws = draws[np.isfinite(draws)]
            obs = self.observed[name]
            q = np.quantile(draws, [low, 0.5, high]) if len(draws) else np.full(3, np.nan)
            percentile = float((draws < obs).mean() + 0.5 * (draws == obs).mean()) if len(draws) else np.nan
            rows.append({"model": self.model, "label": self.label, "quantity": name, "in_data": obs,
                         "prior_low": q[0], "prior_median": q[1], "prior_high": q[2], "percentile": percentile,
                         "simulations": len(draws), "inside": bool(q[0] <= obs <= q[2])})
        return pd.DataFrame(rows)


def prior_predictive(data: ModelData, priors: dict[str, Prior], simulations: int = 400,
                     seed: int = DEFAULT_SEED) -> PriorPredictive:
    """Simulate the model's outcome from its priors on its own design and summarise it.

    Parameters
    ----------
    data : models.design.ModelData
        The model's estimation data (design, groups, observed outcome).
    priors : dict of str to models.priors.Prior
        The priors to check.
    simulations : int, optional
        Prior predictive draws (default: 400): the parameters drawn at once, the outcomes in batches that keep
        at most `MAX_CELLS` of them in memory.
    seed : int, optional
        Random seed (default: the project's).

    Returns
    -------
    PriorPredictive
        The draws and the observed values of each quantity.

    Examples
    --------
    >>> import coupproof as cp
    >>> model = cp.Model("m4", cp.load_panel())
    >>> prior_predictive(model.data, model.priors).table()
    """
    params = draw_parameters(data, priors, simulations, seed)
    rng = np.random.default_rng([seed, 1])
    batch = max(1, min(simulations, MAX_CELLS // max(len(data.y), 1)))
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, simulations, batch):
        y = draw_outcomes(params.isel(simulation=slice(start, start + batch)), data, rng)
        for name, values in outcome_quantities(y, data).items():
            parts.setdefault(name, []).append(values)
    observed = {name: float(v[0]) for name, v in outcome_quantities(data.y.to_numpy()[None, :], data).items()}
    return PriorPredictive(data.spec.name, data.spec.label or data.spec.name,
                           {name: np.concatenate(v) for name, v in parts.items()}, observed)
