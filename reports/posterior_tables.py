"""Tables of the Bayesian fits: population parameters next to our frequentist estimates and the paper's, and the
posterior probability that the interaction is negative or positive.

Reads saved fits (`coupproof fit`) and frequentist results (`coupproof freq`); never refits. Terms are labelled
with the panel variables' long names (`labels`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm

from inference.diagnostics import HDI_PROB as PROB
from inference.frequentist import FitResult
from inference.record import fit_record
from models.specs import ModelSpec

from .frequentist import REFERENCE
from .posterior_plots import variable_label

COLUMNS = ["model", "part", "term", "label", "mean", "pr_negative", "pr_positive"]
# A count slope whose posterior keeps more than this share of its prior's interquartile range is weakly identified:
# its estimate is mostly the prior's.
WEAKLY_IDENTIFIED = 0.5


def _part(name: str, spec: ModelSpec) -> str:
    """The frequentist/paper part a posterior variable corresponds to (the count dispersion is the count part's,
    the cut points the ordinal part's, the sds the random effects')."""
    family = spec.family_info
    variable = {"count_alpha": "count_coef", "cutpoints": "coef"}.get(name, name)
    try:
        return family.part(variable).name
    except KeyError:
        return "random effects"


def _parameter_label(name: str, term: str, spec: ModelSpec, labels: dict[str, str] | None) -> str:
    """A row's label: the term's long name for coefficients, a description for the other parameters."""
    if name in ("coef", "count_coef"):
        return variable_label(term, labels)
    described = {"year_sd": "sd of the year intercepts", "count_alpha": "dispersion of the counts",
                 "cutpoints": f"cut point {term}"}
    if spec.group is not None:
        described[spec.group_sd] = f"sd of the {spec.group} intercepts"
    return described.get(name, term)


def table_parameters(spec: ModelSpec) -> list[str]:
    """The population parameters of the table, in its order."""
    group_sd = [spec.group_sd] if spec.group is not None else []
    return ["coef", "count_coef", *group_sd, "year_sd", "count_alpha", "cutpoints"]


def population_table(tree, freq: list[FitResult] | None = None, reference: Path = REFERENCE,
                     labels: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per population parameter: posterior mean, sd, 94% HDI, R-hat, bulk and tail ESS, MCSE, next to
    our frequentist estimate (clustered SE) and the paper's."""
    import arviz as az

    spec = fit_record(tree).spec
    post = tree["posterior"]
    rows = []
    for name in table_parameters(spec):
        if name not in post:
            continue
        summary = az.summary(tree, var_names=[name], kind="all", ci_prob=PROB, ci_kind="hdi")
        summary = summary.apply(pd.to_numeric, errors="coerce")
        dims = [d for d in post[name].dims if d not in ("chain", "draw")]
        terms = [str(t) for t in post[dims[0]].values] if dims else [name]
        for term, (_, row) in zip(terms, summary.iterrows()):
            rows.append({"model": spec.name, "part": _part(name, spec), "term": term,
                         "label": _parameter_label(name, term, spec, labels), **row.to_dict()})
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


def interaction_probabilities(tree, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Posterior probability that the interaction coefficient (of the logit, zero or ordinal part, and of the
    count part where it has the term) is negative or positive; no rows for a model without an interaction."""
    spec = fit_record(tree).spec
    term = spec.interaction_term
    post = tree["posterior"]
    rows = []
    for name, dim in (("coef", "coef_term"), ("count_coef", "count_coef_term")):
        if term is None or name not in post or term not in post[dim].values:
            continue
        draws = np.asarray(post[name].sel({dim: term})).ravel()
        rows.append({"model": spec.name, "part": _part(name, spec), "term": term,
                     "label": variable_label(term, labels), "mean": draws.mean(),
                     "pr_negative": float((draws < 0).mean()), "pr_positive": float((draws > 0).mean())})
    return pd.DataFrame(rows, columns=COLUMNS)


def _iqr(values: np.ndarray) -> float:
    lower, upper = np.quantile(values, [0.25, 0.75])
    return float(upper - lower)


def count_part_identification(tree, prior, draws: int = 20000, seed: int = 0) -> pd.DataFrame:
    """How much the hurdle count part's data narrowed each slope's prior: the posterior's interquartile range over
    the prior's, on the scale the priors are set on (standardised slopes, or the rescaled inputs' coefficients of
    Gelman et al.'s rule; 1: the data taught nothing; a robust measure, so Cauchy priors work too), and the
    posterior probability of the slope's sign. `prior` is the fit's count-slope prior (its record's
    `priors["count_slopes"]`)."""
    from models.builders import RESCALED
    from models.priors import DISTRIBUTIONS

    prior_draws = pm.draw(DISTRIBUTIONS[prior.dist][0].dist(**prior.kwargs), draws=draws, random_seed=seed)
    prior_iqr = _iqr(np.asarray(prior_draws))
    post = tree["posterior"]
    def draws(name: str) -> np.ndarray:
        return post[name].stack(sample=("chain", "draw")).transpose("count_term", "sample").values

    on_prior_scale = draws("count_beta" if prior.scale_rule == "per_sd" else f"count_beta{RESCALED}")
    return pd.DataFrame({
        "term": [str(t) for t in post["count_beta"]["count_term"].values],
        "posterior_over_prior_iqr": [_iqr(row) / prior_iqr for row in on_prior_scale],
        "pr_positive": (draws("count_beta") > 0).mean(axis=1),
    })
