"""Dyad-robust standard errors (Aronow, Samii & Assenova 2015, Political Analysis): in dyadic data every dyad that
shares a state shares that state's shocks (sender and receiver effects), so the scores of two observations are
correlated whenever their dyads share a member, not only within a dyad. The sandwich's meat sums s_r s_r' over
every pair of observations whose dyads share at least one state: by inclusion and exclusion, the sum over states
of each state's score total squared, less the sum over undirected dyads of theirs (a pair within one dyad shares
both its states and is counted twice in the first sum). No small-sample factor (ASA give none); dyad-clustered
SEs from statsmodels carry G/(G-1)(N-1)/(N-K). The difference can leave the covariance indefinite (on the paper's
models, with about 100 events, most fits have a negative eigenvalue): its negative eigenvalues are set to 0, as
Cameron, Gelbach & Miller (2011) do for multiway clustering, and the fit's note says how many."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.design import DERIVED_GROUPINGS, ModelData


def dyad_members(data: ModelData) -> tuple[np.ndarray, np.ndarray] | None:
    """The two states of each row's dyad, where the model's grouping is made of two columns (dyad, undirected_dyad,
    a:b, pair(a, b)); None for any other grouping (not a dyadic design)."""
    if data.groups is None or data.group_labels is None:
        return None
    labels, parsed = data.group_labels, data.spec.parsed
    columns = parsed.group_columns if len(parsed.group_columns) == 2 else DERIVED_GROUPINGS.get(parsed.group, ())
    if len(columns) != 2 or not all(c in labels.columns for c in columns):
        return None
    return labels[columns[0]].to_numpy()[data.groups], labels[columns[1]].to_numpy()[data.groups]


def dyad_robust_meat(scores: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """sum over pairs of rows (r, r') whose dyads share a state of s_r s_r'^T, from per-state and per-dyad score
    totals (O(N K^2), not a pass over pairs)."""
    scores = np.asarray(scores, dtype=float)
    first, second = np.asarray(first), np.asarray(second)
    states, codes = np.unique(np.concatenate([first, second]), return_inverse=True)
    a, b = codes[: len(first)], codes[len(first):]
    by_state = np.zeros((len(states), scores.shape[1]))
    np.add.at(by_state, a, scores)
    np.add.at(by_state, b, scores)
    low, high = np.minimum(a, b), np.maximum(a, b)
    pair = pd.factorize(low * len(states) + high)[0]
    by_pair = np.zeros((pair.max() + 1, scores.shape[1]))
    np.add.at(by_pair, pair, scores)
    return by_state.T @ by_state - by_pair.T @ by_pair


def positive_part(cov: np.ndarray) -> tuple[np.ndarray, int]:
    """The covariance with its negative eigenvalues set to 0, and how many there were: inclusion and exclusion can
    leave a multiway covariance indefinite, and Cameron, Gelbach & Miller (2011) advise this repair (it only raises
    variances)."""
    values, vectors = np.linalg.eigh(0.5 * (cov + cov.T))
    negative = int((values < 0).sum())
    return (vectors * np.maximum(values, 0.0)) @ vectors.T if negative else cov, negative


def dyad_robust_cov(fitted, first: np.ndarray, second: np.ndarray, repair: bool = True) -> np.ndarray:
    """Aronow, Samii & Assenova's dyad-robust covariance of a statsmodels maximum-likelihood fit: bread
    (-Hessian)^-1 around the meat of dyad_robust_meat, from the fit's per-row scores; with `repair`, its negative
    eigenvalues set to 0 (positive_part)."""
    params = np.asarray(fitted.params)
    scores = fitted.model.score_obs(params)
    bread = np.linalg.inv(-np.asarray(fitted.model.hessian(params)))
    cov = bread @ dyad_robust_meat(scores, first, second) @ bread
    return positive_part(cov)[0] if repair else cov


def coverage_study(n_states: int = 30, years: int = 3, replications: int = 200, slope: float = 0.5,
                   state_sd: float = 1.0, seed: int = 2015) -> pd.DataFrame:
    """Monte Carlo of the two SEs of a pooled logit's slope on directed dyad-years with sender and receiver effects
    (sd `state_sd`) and a dyadic input made of both states' attributes, x_ij = z_i + z_j: the empirical sd of the
    estimates, each SE's mean and how often its 95% interval covers the estimates' Monte Carlo mean (the pooled
    logit's own target, which the random effects attenuate). Dyad clustering sees only within-dyad dependence and
    should under-cover; the dyad-robust SE should not."""
    import statsmodels.api as sm

    rng = np.random.default_rng(seed)
    a, b = np.meshgrid(np.arange(n_states), np.arange(n_states), indexing="ij")
    off = a != b
    first, second = np.repeat(a[off], years), np.repeat(b[off], years)
    dyad = pd.factorize(first * n_states + second)[0]
    estimates, clustered, robust = [], [], []
    for _ in range(replications):
        z, sender, receiver = rng.normal(size=(3, n_states))
        x = z[first] + z[second]
        eta = -1.0 + slope * x + state_sd * (sender[first] + receiver[second])
        y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
        X = sm.add_constant(x)
        fitted = sm.Logit(y, X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": dyad})
        estimates.append(fitted.params[1])
        clustered.append(np.sqrt(fitted.cov_params()[1, 1]))
        robust.append(np.sqrt(dyad_robust_cov(fitted, first, second)[1, 1]))
    estimates, centre = np.asarray(estimates), float(np.mean(estimates))
    rows = []
    for name, se in (("dyad-clustered", np.asarray(clustered)), ("dyad-robust", np.asarray(robust))):
        rows.append({"se": name, "replications": replications, "states": n_states, "sd_of_estimates":
                     float(estimates.std(ddof=1)), "mean_se": float(se.mean()),
                     "coverage_95": float(np.mean(np.abs(estimates - centre) <= 1.96 * se))})
    return pd.DataFrame(rows)
