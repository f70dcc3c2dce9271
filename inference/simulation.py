"""Outcomes simulated from a model's priors (or from fixed population values): the draws behind simulation-based
calibration (inference.calibration) and the prior predictive check (inference.prior_predictive)."""

from __future__ import annotations

import numpy as np
import pymc as pm
import xarray as xr
from scipy.special import expit

from models.builders import build_model
from models.design import ModelData
from models.priors import Prior


def truncated_counts(mu: np.ndarray, alpha: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """Zero-truncated Poisson (alpha None) or negative binomial (PyMC's mu, alpha) counts by inversion of the
    survival function: exact for any mean, where rejection sampling stalls when Pr(count > 0) is tiny."""
    from scipy import stats

    dist = stats.poisson(mu) if alpha is None else stats.nbinom(alpha, alpha / (alpha + mu))
    positive = dist.sf(0)
    counts = dist.isf(rng.uniform(size=np.shape(mu)) * positive)
    return np.maximum(np.where(np.isfinite(counts), counts, 1.0), 1.0)


def ordered_cutpoints_outcomes(params: xr.Dataset, data: ModelData, rng: np.random.Generator) -> np.ndarray:
    """Ordinal outcomes with the cut points drawn as the model's prior has them. PyMC's prior predictive ignores the
    ordered transform and draws the cut points independently, unordered; the ordered prior's density (independent
    normals restricted to increasing values) is that of the sorted independent draws (their order statistics), so
    the cut points are sorted in `params` and the outcomes drawn again from them."""
    shift = np.asarray(params["cutpoints"] - params["cutpoints_std"])  # the same for every cut point
    params["cutpoints_std"] = params["cutpoints_std"].copy(data=np.sort(np.asarray(params["cutpoints_std"]), axis=-1))
    params["cutpoints"] = params["cutpoints_std"] + shift
    eta = np.asarray(params["coef"]) @ np.asarray(data.X, float).T  # (simulation, row)
    group = data.spec.group
    if group is not None:
        eta = eta + np.asarray(params[f"{group}_sd"])[:, None] * np.asarray(params[f"{group}_z"])[:, data.groups]
    if data.years is not None:
        eta = eta + np.asarray(params["year_effect"])[:, data.years]
    below = expit(np.asarray(params["cutpoints"])[:, :, None] - eta[:, None, :])  # Pr(y <= k)
    return (rng.uniform(size=eta.shape)[:, None, :] > below).sum(axis=1).astype(float)


def simulate(data: ModelData, priors: dict[str, Prior], simulations: int, seed: int,
             fixed: dict[str, np.ndarray] | None = None) -> tuple[xr.Dataset, np.ndarray]:
    """`simulations` draws of every parameter (from the prior, or the `fixed` population values) and of the outcome
    given them, from the non-centred model (PyMC's prior predictive): (parameters with dim `simulation`, outcomes
    (simulation, row)). A hurdle's positive rows get zero-truncated counts from the count part's coefficients.
    Calibration simulates its cases with it, the prior predictive check (inference.prior_predictive) its specs."""
    built = build_model(data, priors, "plain")
    built.drop_initial_values()
    model = built.model
    if fixed:
        model = pm.do(model, {model[name]: value for name, value in fixed.items()})
    names = [v.name for v in (*model.free_RVs, *model.deterministics)] + ["y"]
    n = simulations
    prior = pm.sample_prior_predictive(draws=n, model=model, random_seed=seed, var_names=names)
    params = prior["prior"].to_dataset().squeeze("chain", drop=True).rename(draw="simulation")
    y = np.asarray(prior["prior_predictive"]["y"]).reshape(n, -1).astype(float)
    for name, value in (fixed or {}).items():  # the fixed values, as the truth of every simulation
        params[name] = xr.DataArray(np.broadcast_to(np.asarray(value, float), (n, *np.shape(value))).copy(),
                                    dims=("simulation", *built.model.named_vars_to_dims.get(name, ())))
    family = data.spec.family_info
    if family.is_ordinal:
        y = ordered_cutpoints_outcomes(params, data, np.random.default_rng([seed, 2]))
    if family.is_hurdle:
        coef = np.asarray(params["count_coef"])
        mu = np.exp(np.asarray(data.count_X, float) @ coef.T).T
        alpha = np.asarray(params["count_alpha"])[:, None] if "count_alpha" in params else None
        y = y * truncated_counts(mu, alpha, np.random.default_rng([seed, 1]))
    return params, y
