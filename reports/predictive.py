"""Posterior predictive checks that matter for rare events, from saved fits (no refitting).

For a thinned set of posterior draws, each row's probability of an event given its group's data (the group effect
integrated over its conditional posterior, from the marginal likelihood kernel: `inference.fitting.fit_kernel`)
gives replicated outcomes. They are compared with what happened: events per decade and per region of State A, a
calibration table, and for hurdle models a rootogram of the counts (which needs no kernel).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from inference.diagnostics import HDI_PROB as PROB
from inference.fitting import fit_kernel
from models.design import ModelData

# COW state codes by region of State A
REGIONS = ((2, 199, "Americas"), (200, 399, "Europe"), (400, 599, "Sub-Saharan Africa"),
           (600, 699, "Middle East and North Africa"), (700, 999, "Asia and Oceania"))


def region_of(ccode: pd.Series) -> pd.Series:
    """COW region of each state code."""
    bins = [low for low, _, _ in REGIONS] + [REGIONS[-1][1] + 1]
    return pd.cut(ccode, bins=bins, right=False, labels=[name for _, _, name in REGIONS]).astype(str)


def row_probabilities(tree, data: ModelData, draws: int = 200, seed: int = 0) -> np.ndarray:
    """(draws x rows) probabilities of an event (for hurdles: any count), each row's group effect integrated over
    its conditional posterior given the draw; rows in the sample's order. Marginal fits only (the kernel's, via
    `inference.fitting.fit_kernel`)."""
    kernel = fit_kernel(tree, data)
    pick = np.random.default_rng(seed).choice(kernel.n_draws, size=min(draws, kernel.n_draws), replace=False)
    probs = np.empty((len(pick), len(data.y)))
    for i, s in enumerate(pick):
        probs[i, kernel.rows.order] = kernel.evaluate(s, row_prob=True).row_prob
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
    """Hurdle count part as an ArviZ tree for a rootogram: observed counts among positive rows, and replicated
    ones from the zero-truncated Poisson / negative binomial (the count part's own terms) at each draw."""
    from scipy import stats

    post = tree["posterior"]
    positive = data.positive
    terms = [str(t) for t in post["count_coef_term"].values]
    X = data.count_X[terms].to_numpy()[positive]
    coef = np.asarray(post["count_coef"].transpose("chain", "draw", "count_coef_term")).reshape(-1, len(terms))
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
    name = data.spec.outcome
    obs = xr.Dataset({name: ("positive_row", observed)})
    pred = xr.Dataset({name: (("chain", "draw", "positive_row"), replicated[None])})
    return xr.DataTree.from_dict({"observed_data": obs, "posterior_predictive": pred})
