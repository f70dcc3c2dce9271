"""Posterior predictive checks that matter for rare events, from saved fits (no refitting).

For a thinned set of posterior draws, each row's probability of an event given its dyad's data (the dyad effect
integrated over its conditional posterior, from the marginal likelihood kernel) gives replicated outcomes. They
are compared with what happened: new pacts per decade and per region of State A, a calibration table, and for
hurdle models a rootogram of the number of concessions.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from inference.diagnostics import HDI_PROB as PROB
from inference.store import fit_quadrature
from models.builders import Standardiser, with_intercept
from models.design import ModelData
from models.marginal_op import DyadRows

# COW state codes by region of State A
REGIONS = ((2, 199, "Americas"), (200, 399, "Europe"), (400, 599, "Sub-Saharan Africa"),
           (600, 699, "Middle East and North Africa"), (700, 999, "Asia and Oceania"))


def region_of(ccode: pd.Series) -> pd.Series:
    """COW region of each state code."""
    bins = [low for low, _, _ in REGIONS] + [REGIONS[-1][1] + 1]
    return pd.cut(ccode, bins=bins, right=False, labels=[name for _, _, name in REGIONS]).astype(str)


def row_probabilities(tree, data: ModelData, draws: int = 200, seed: int = 0) -> np.ndarray:
    """(draws x rows) probabilities of an event (for hurdles: a pact with any concession), each row's dyad effect
    integrated over its conditional posterior given the draw; rows in the sample's order."""
    post = tree["posterior"]
    coef = np.concatenate([np.asarray(post["intercept"])[..., None], np.asarray(post["beta"])], axis=-1)
    coef = coef.reshape(-1, coef.shape[-1])
    sigma = np.asarray(post["dyad_sd"]).reshape(-1)
    years = np.asarray(post["year_effect"]).reshape(len(sigma), -1) if "year_effect" in post else None
    pick = np.random.default_rng(seed).choice(len(sigma), size=min(draws, len(sigma)), replace=False)
    y = (data.y.to_numpy() > 0).astype(float)
    options = fit_quadrature(tree)
    rows = DyadRows.from_groups(data.groups, y, options, level=data.years)
    standardiser = Standardiser(**{k: (tuple(v) if k == "terms" else np.asarray(v))
                                   for k, v in json.loads(tree.attrs["standardiser"]).items()})
    X = rows.sort(with_intercept(standardiser.transform(data)))
    probs = np.empty((len(pick), len(y)))
    for i, s in enumerate(pick):
        result = rows.evaluate(X, coef[s], sigma[s], None if years is None else years[s], want_grad=False,
                               row_prob=True)
        probs[i, rows.order] = result.row_prob
    return probs


def replicate_counts(probs: np.ndarray, groups: pd.Series, observed: np.ndarray, seed: int = 1,
                     prob: float = PROB) -> pd.DataFrame:
    """Observed and replicated numbers of events per group (e.g. decade): posterior predictive mean and interval
    from Bernoulli draws at the rows' probabilities."""
    codes, labels = pd.factorize(groups, sort=True)
    rng = np.random.default_rng(seed)
    replicated = np.stack([np.bincount(codes, weights=(rng.random(p.size) < p), minlength=len(labels))
                           for p in probs])
    lower, upper = np.quantile(replicated, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    return pd.DataFrame({"group": labels, "observed": np.bincount(codes, weights=observed, minlength=len(labels)),
                         "expected": replicated.mean(axis=0), "lower": lower, "upper": upper})


def calibration_table(probs: np.ndarray, observed: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Rows grouped into bins of equal size by posterior mean probability: mean predicted against observed rate."""
    mean = probs.mean(axis=0)
    order = np.argsort(mean, kind="stable")
    groups = np.empty(len(mean), int)
    groups[order] = np.arange(len(mean)) * bins // len(mean)
    frame = pd.DataFrame({"bin": groups, "predicted": mean, "observed": observed})
    table = frame.groupby("bin").agg(rows=("observed", "size"), predicted=("predicted", "mean"),
                                     observed=("observed", "mean"), events=("observed", "sum"))
    return table.reset_index()


def count_predictive(tree, data: ModelData, draws: int = 400, seed: int = 2) -> xr.DataTree:
    """Hurdle count part as an ArviZ tree for a rootogram: observed numbers of concessions among positive rows,
    and replicated ones from the zero-truncated Poisson / negative binomial at each draw."""
    from scipy import stats

    post = tree["posterior"]
    positive = data.y.to_numpy() > 0
    X = data.X.to_numpy()[positive]
    coef = np.asarray(post["count_coef"]).reshape(-1, X.shape[1])
    alpha = np.asarray(post["count_alpha"]).reshape(-1) if "count_alpha" in post else None
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(coef), size=min(draws, len(coef)), replace=False)
    mu = np.exp(coef[pick] @ X.T)
    if alpha is None:
        dist = stats.poisson(mu)
    else:
        a = alpha[pick][:, None]
        dist = stats.nbinom(a, a / (a + mu))
    # zero truncation by inversion: u uniform on (F(0), 1)
    u = dist.cdf(0) + rng.random(mu.shape) * (1 - dist.cdf(0))
    replicated = np.maximum(dist.ppf(u), 1).astype(np.int64)
    observed = data.y.to_numpy()[positive].astype(np.int64)
    obs = xr.Dataset({"concessions": ("pact", observed)})
    pred = xr.Dataset({"concessions": (("chain", "draw", "pact"), replicated[None])})
    return xr.DataTree.from_dict({"observed_data": obs, "posterior_predictive": pred})
