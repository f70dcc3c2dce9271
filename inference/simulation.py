"""Outcomes simulated from a model's priors (or from fixed population values): the draws behind simulation-based
calibration (inference.calibration) and the prior predictive check (inference.prior_predictive)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from scipy.special import expit

from models.builders import build_model
from models.design import ModelData
from models.priors import Prior

REJECT_ABOVE = 0.2  # truncated counts by rejection where Pr(count > 0) is at least this (at most 5 draws on average)
MAX_DIRECT_MEAN = 1e12  # above it, NumPy's samplers may overflow: inversion instead


def truncated_counts(mu: np.ndarray, alpha: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """Zero-truncated Poisson (alpha None) or negative binomial (PyMC's mu, alpha) counts: by rejection (redraw the
    zeros) where Pr(count > 0) is at least REJECT_ABOVE and the mean within NumPy's samplers, by inversion of the
    survival function elsewhere (exact for any mean, where rejection would stall). Both are exact draws."""
    from scipy import stats

    mu = np.asarray(mu, float)
    alpha = None if alpha is None else np.broadcast_to(np.asarray(alpha, float), mu.shape)
    counts = np.empty(mu.shape)
    positive = -np.expm1(-mu) if alpha is None else -np.expm1(alpha * (np.log(alpha) - np.log(alpha + mu)))
    reject = (positive >= REJECT_ABOVE) & (mu < MAX_DIRECT_MEAN)
    todo = np.flatnonzero(reject)
    while todo.size:
        m = mu.flat[todo]
        draw = rng.poisson(m) if alpha is None else rng.negative_binomial(alpha.flat[todo], alpha.flat[todo] / (
            alpha.flat[todo] + m))
        counts.flat[todo] = draw
        todo = todo[draw == 0]
    invert = np.flatnonzero(~reject)
    if alpha is None and invert.size:  # small means: the Poisson's cdf from k = 1 up, a few terms
        m = mu.flat[invert]
        small = m < 1.0
        counts.flat[invert[small]] = _small_truncated_poisson(m[small], positive.flat[invert[small]], rng)
        invert = invert[~small]
    if invert.size:
        m = mu.flat[invert]
        dist = stats.poisson(m) if alpha is None else stats.nbinom(alpha.flat[invert], alpha.flat[invert] / (
            alpha.flat[invert] + m))
        drawn = dist.isf(rng.uniform(size=invert.size) * positive.flat[invert])
        counts.flat[invert] = np.maximum(np.where(np.isfinite(drawn), drawn, 1.0), 1.0)
    return counts


def _small_truncated_poisson(mu: np.ndarray, positive: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Zero-truncated Poisson counts for means below 1 by sequential inversion: the first k whose cdf given k >= 1
    reaches a uniform draw (terms mu^k e^-mu / k! / Pr(k >= 1), summed from k = 1)."""
    u = rng.uniform(size=mu.shape)
    k = np.ones(mu.shape)
    term = np.exp(-mu) * mu / np.where(positive > 0, positive, 1.0)  # Pr(k = 1 | k >= 1); 1 in the limit mu -> 0
    term = np.where(positive > 0, term, 1.0)
    cdf = term.copy()
    for step in range(2, 60):
        more = u > cdf
        if not more.any():
            break
        term = term * mu / step
        k = k + more
        cdf = cdf + term
    return k


def _sorted_cutpoints(params: xr.Dataset) -> None:
    """Sort the drawn cut points in place. PyMC's prior predictive ignores the ordered transform and draws the cut
    points independently, unordered; the ordered prior's density (independent normals restricted to increasing
    values) is that of the sorted independent draws (their order statistics)."""
    shift = np.asarray(params["cutpoints"] - params["cutpoints_std"])  # the same for every cut point
    params["cutpoints_std"] = params["cutpoints_std"].copy(data=np.sort(np.asarray(params["cutpoints_std"]), axis=-1))
    params["cutpoints"] = params["cutpoints_std"] + shift


def draw_parameters(data: ModelData, priors: dict[str, Prior], simulations: int, seed: int,
                    fixed: dict[str, np.ndarray] | None = None) -> xr.Dataset:
    """`simulations` draws of every parameter of the non-centred model from its priors (PyMC's prior predictive,
    without the outcome), or the `fixed` population values in every draw; dim `simulation`."""
    built = build_model(data, priors, "plain")
    built.drop_initial_values()
    model = built.model
    if fixed:
        model = pm.do(model, {model[name]: value for name, value in fixed.items()})
    names = [v.name for v in (*model.free_RVs, *model.deterministics)]
    prior = pm.sample_prior_predictive(draws=simulations, model=model, random_seed=seed, var_names=names)
    params = prior["prior"].to_dataset().squeeze("chain", drop=True).rename(draw="simulation")
    for name, value in (fixed or {}).items():  # the fixed values, as the truth of every simulation
        params[name] = xr.DataArray(
            np.broadcast_to(np.asarray(value, float), (simulations, *np.shape(value))).copy(),
            dims=("simulation", *built.model.named_vars_to_dims.get(name, ())))
    if data.spec.family_info.is_ordinal:
        _sorted_cutpoints(params)
    return params


def linear_predictor(params: xr.Dataset, data: ModelData) -> np.ndarray:
    """Each simulation's linear predictor of every row (simulation, row): the original-scale coefficients on the
    design, plus every grouping's and the year intercepts."""
    eta = np.asarray(params["coef"]) @ np.asarray(data.X, float).T
    group = data.spec.group
    if group is not None:
        eta = eta + np.asarray(params[f"{group}_sd"])[:, None] * np.asarray(params[f"{group}_z"])[:, data.groups]
    for name, (codes, _labels) in data.sampled.items():  # further groupings (sender and receiver states, ...)
        if name in data.slopes:  # each group's intercept and slopes on the standardised variables
            effects = np.asarray(params[f"{name}_effects"])[:, codes]  # simulation x row x (1 + k)
            eta = eta + effects[..., 0] + np.sum(effects[..., 1:] * data.slopes[name][1], axis=-1)
        else:
            eta = eta + np.asarray(params[f"{name}_sd"])[:, None] * np.asarray(params[f"{name}_z"])[:, codes]
    if data.years is not None:
        eta = eta + np.asarray(params["year_effect"])[:, data.years]
    return eta


COUNT_DETERMINISTICS = ("count_beta", "count_intercept", "count_coef")


def with_outcome(data: ModelData, y: np.ndarray) -> ModelData:
    """The same design with another outcome."""
    return replace(data, y=pd.Series(np.asarray(y, float), index=data.y.index))


def count_part_on_positives(params: xr.Dataset, data: ModelData, priors: dict[str, Prior],
                            any_count: np.ndarray) -> None:
    """Recompute, in place, each simulation's count-part quantities that depend on which rows are positive (the
    slopes' scale map, the intercept of the average positive row, the original-scale coefficients: the count part
    is scaled and centred on the rows its likelihood uses) on that simulation's own positive rows `any_count`
    (simulation, row). The hurdle's generative model draws the count parameters given the 'any count' outcome;
    its free parameters' priors do not depend on it, so only these deterministic maps change. One model with
    those rows in shared variables is compiled once; each simulation sets them from a model built on its rows."""
    import pytensor

    with_rows = np.flatnonzero(any_count.any(axis=1))
    if not with_rows.size:
        return  # no simulation has a count to draw
    template = build_model(with_outcome(data, any_count[with_rows[0]].astype(float)), priors, "plain",
                           outcome_data=True)
    model, shared = template.model, template.extra["outcome_data"]
    free = [v for v in model.free_RVs if v.name.startswith("count_")]
    names = [n for n in COUNT_DETERMINISTICS if n in model.named_vars]
    function = pytensor.function(free, [model[n] for n in names], on_unused_input="ignore")
    values = {n: np.asarray(params[n]).copy() for n in names}
    for i, row in enumerate(any_count):
        if not row.any():
            continue  # no positive row: no count to draw, the template's values stand
        built = build_model(with_outcome(data, row.astype(float)), priors, "plain", outcome_data=True)
        for name, variable in built.extra["outcome_data"].items():
            shared[name].set_value(variable.get_value())
        for n, out in zip(names, function(*[np.asarray(params[v.name][i]) for v in free])):
            values[n][i] = out
    for n in names:
        params[n] = params[n].copy(data=values[n])


def draw_outcomes(params: xr.Dataset, data: ModelData, rng: np.random.Generator,
                  priors: dict[str, Prior] | None = None) -> np.ndarray:
    """The outcome of every row given each simulation's parameters (simulation, row): a logit's 0/1, a hurdle's
    zero-truncated counts where the logit part says 'any', an ordinal model's category. With `priors`, a hurdle's
    count-part quantities are first recomputed on each simulation's own positive rows (count_part_on_positives,
    in place); without, they stay those of `data`'s outcome (the prior predictive of a fitted model)."""
    eta = linear_predictor(params, data)
    family = data.spec.family_info
    if family.is_ordinal:
        below = expit(np.asarray(params["cutpoints"])[:, :, None] - eta[:, None, :])  # Pr(y <= k)
        return (rng.uniform(size=eta.shape)[:, None, :] > below).sum(axis=1).astype(float)
    y = (rng.uniform(size=eta.shape) < expit(eta)).astype(float)
    if family.is_hurdle and priors is not None:
        count_part_on_positives(params, data, priors, y > 0)
    if family.is_hurdle:
        sim, row = np.nonzero(y)
        coef = np.asarray(params["count_coef"])[sim]
        mu = np.exp(np.einsum("ij,ij->i", np.asarray(data.count_X, float)[row], coef))
        alpha = np.asarray(params["count_alpha"])[sim] if "count_alpha" in params else None
        y[sim, row] = truncated_counts(mu, alpha, rng)
    return y


def simulate(data: ModelData, priors: dict[str, Prior], simulations: int, seed: int,
             fixed: dict[str, np.ndarray] | None = None) -> tuple[xr.Dataset, np.ndarray]:
    """`simulations` draws of every parameter (from the prior, or the `fixed` population values) and of the outcome
    given them: (parameters with dim `simulation`, outcomes (simulation, row)); a hurdle's count part is drawn
    given each simulation's positive rows. Calibration simulates its cases with it."""
    params = draw_parameters(data, priors, simulations, seed, fixed)
    given = priors if not fixed else None  # fixed values are the truths as they are
    return params, draw_outcomes(params, data, np.random.default_rng([seed, 1]), given)
