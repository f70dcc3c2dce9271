"""Tables of the Bayesian fits: population parameters next to our frequentist estimates and the paper's, and the
posterior probability that each interaction is negative or positive.

Reads saved fits (`coupproof fit`) and frequentist results (`coupproof freq`); never refits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from inference.diagnostics import HDI_PROB as PROB
from inference.frequentist import FitResult
from inference.store import fit_spec

from .frequentist import REFERENCE


def _part(name: str, family: str) -> str:
    """The frequentist/paper part a posterior variable corresponds to."""
    if name == "count_coef":
        return "count"
    if name == "coef":
        return "logit" if family == "logit" else "zero"
    return "random effects"


def population_table(tree, freq: list[FitResult] | None = None, reference: Path = REFERENCE) -> pd.DataFrame:
    """One row per population parameter: posterior mean, sd, 94% HDI, R-hat, bulk and tail ESS, MCSE, next to
    our frequentist estimate (clustered SE) and the paper's."""
    import arviz as az

    spec = fit_spec(tree)
    post = tree["posterior"]
    rows = []
    for name in ("coef", "count_coef", "dyad_sd", "year_sd", "count_alpha"):
        if name not in post:
            continue
        summary = az.summary(tree, var_names=[name], kind="all", ci_prob=PROB, ci_kind="hdi")
        summary = summary.apply(pd.to_numeric, errors="coerce")
        terms = [str(t) for t in post["coef_term"].values] if "coef_term" in post[name].dims else [name]
        for term, (_, row) in zip(terms, summary.iterrows()):
            rows.append({"model": spec.name, "part": _part(name, spec.family), "term": term, **row.to_dict()})
    table = pd.DataFrame(rows).rename(columns={"hdi94_lb": "hdi_lower", "hdi94_ub": "hdi_upper"})
    ours = pd.DataFrame([{"model": f.model, "part": f.part, "term": t, "freq": e, "freq_se": s}
                         for f in (freq or []) for t, e, s in zip(f.table.index, f.table["estimate"], f.table["se"])])
    paper = pd.read_csv(reference).rename(columns={"estimate": "paper", "se": "paper_se"})
    keys = ["model", "part", "term"]
    if not ours.empty:
        table = table.merge(ours, on=keys, how="left")
    else:
        table[["freq", "freq_se"]] = np.nan
    return table.merge(paper[[*keys, "paper", "paper_se"]], on=keys, how="left")


def interaction_probabilities(tree) -> pd.DataFrame:
    """Posterior probability that each interaction coefficient (the logit or zero part, and the count part) is
    negative or positive."""
    spec = fit_spec(tree)
    term = spec.interaction_term
    post = tree["posterior"]
    rows = []
    for name in ("coef", "count_coef"):
        if name in post:
            draws = np.asarray(post[name].sel(coef_term=term)).ravel()
            rows.append({"model": spec.name, "part": _part(name, spec.family), "term": term,
                         "mean": draws.mean(), "pr_negative": float((draws < 0).mean()),
                         "pr_positive": float((draws > 0).mean())})
    return pd.DataFrame(rows)
