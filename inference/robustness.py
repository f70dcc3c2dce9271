"""The robustness suite's fits: each variant's panel (built with its options, or the monadic panel), its specs on
the model layer, its frequentist estimator (logit, rare-events logit, Firth, Heckman), and its Bayesian versions
as jobs for the sensitivity refits' Dask fan-out and cache."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from itertools import cycle
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from data_prep.monadic import monadic_panel, narrowed_sample
from data_prep.panel import panel_frame
from models.design import ModelData, model_data
from models.robustness import Variant
from models.specs import PAPER_MODELS, ModelSpec

from .frequentist import FitResult, clusters, fit_data
from .rare_events import fit_firth, fit_relogit
from .refits import Job, Refit
from .selection import heckman_results, heckman_two_step

PanelBuilder = Callable[[dict], xr.Dataset]  # panel options -> a dyad panel built with them


def variant_panel(variant: Variant, base: xr.Dataset, build: PanelBuilder) -> xr.Dataset:
    """The panel a variant's models are fitted on: the base panel, one built with the variant's options, or the
    monadic panel of the base."""
    panel = build(variant.panel) if variant.panel else base
    return monadic_panel(panel) if variant.design == "monadic" else panel


def with_sample(spec: ModelSpec, base: ModelSpec, panel: xr.Dataset) -> tuple[ModelSpec, xr.Dataset]:
    """The spec on its base model's sample narrowed to the rows where the variables it adds are present (the
    main sample otherwise)."""
    added = tuple(v for v in spec.variables if v not in base.variables and v in panel
                  and bool((panel[v].isnull() & panel[spec.sample]).any()))
    panel, sample = narrowed_sample(panel, spec.sample, added)
    return replace(spec, sample=sample), panel


def variant_data(variant: Variant, panel: xr.Dataset, specs: list[ModelSpec]) -> list[ModelData]:
    """The estimation data of each spec on the variant's panel; `specs` are the variant's (or its Bayesian
    versions'), which follow its base models in order, version after version."""
    out = []
    for spec, base in zip(specs, cycle(variant.models)):
        spec, narrowed = with_sample(spec, PAPER_MODELS[base], panel)
        out.append(model_data(panel_frame(narrowed), spec))
    return out


def selection_outcome(data: ModelData, variant: Variant, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """A Heckman variant's selection indicator (its `selection` variable > 0) on the sample's rows, and the spec's
    outcome on the selected rows (missing elsewhere)."""
    selected = frame.loc[data.X.index, variant.selection] > 0
    return selected, frame.loc[data.X.index, data.spec.outcome].where(selected)


def fit_heckman(data: ModelData, variant: Variant, frame: pd.DataFrame) -> list[FitResult]:
    """Heckman's two-step model of a count spec: selection = the variant's `selection` variable over every row of
    the sample (every term), outcome = the spec's outcome over the selected rows (every term but the variant's
    exclusions)."""
    selected, outcome = selection_outcome(data, variant, frame)
    X = data.X.drop(columns=[c for c in data.X.columns if c in variant.exclusion])
    fit = heckman_two_step(outcome, selected, X, data.X)
    return heckman_results(data.spec.name, fit, clusters(data), selected.to_numpy())


def prepare_variant(variant: Variant, base: xr.Dataset, build: PanelBuilder,
                    bayes: bool = False) -> tuple[xr.Dataset, list[ModelData]]:
    """A variant's panel and the estimation data of its models (its Bayesian versions' where `bayes`): everything
    a fit needs, so that a variant the panel cannot serve fails before any fitting."""
    panel = variant_panel(variant, base, build)
    return panel, variant_data(variant, panel, variant.bayes_specs() if bayes else variant.specs())


def fit_variant(variant: Variant, panel: xr.Dataset, datasets: list[ModelData]) -> list[FitResult]:
    """Every frequentist fit of one prepared variant (both models, every part)."""
    results = []
    for data in datasets:
        if variant.estimator == "relogit":
            results.append(fit_relogit(data))
        elif variant.estimator == "firth":
            results.append(fit_firth(data))
        elif variant.estimator == "heckman":
            results += fit_heckman(data, variant, panel_frame(panel))
        else:
            results += fit_data(data)
    return results


def bayes_jobs(variant: Variant, panel: xr.Dataset, refit: Refit) -> list[Job]:
    """The Bayesian fits of a variant (each Bayesian version of each model, with the group random intercept) as
    jobs for `run_fits`: the sensitivity refits' fan-out and cache."""
    return [(data, refit) for data in variant_data(variant, panel, variant.bayes_specs())]


EXCLUSION_ARGUMENTS = Path(__file__).resolve().parents[1] / "models" / "exclusion_arguments.toml"


def exclusion_table(panel: xr.Dataset, variants: dict[str, Variant],
                    arguments: str | Path = EXCLUSION_ARGUMENTS) -> pd.DataFrame:
    """`heckman_exclusions` for every model of every Heckman variant that the base panel serves, with each
    candidate's argument for or against the exclusion restriction (models/exclusion_arguments.toml)."""
    from data_prep.io import read_toml

    said = read_toml(arguments, "exclusion arguments", ValueError).get("arguments", {})
    frame = panel_frame(panel)
    tables = [heckman_exclusions(data, variant, frame)
              for variant in variants.values() if variant.estimator == "heckman" and not variant.panel
              for data in variant_data(variant, panel, variant.specs())]
    if not tables:
        return pd.DataFrame()
    table = pd.concat(tables, ignore_index=True)
    return table.assign(argument=table["excluded"].map(said).fillna(""))


def heckman_exclusions(data: ModelData, variant: Variant, frame: pd.DataFrame) -> pd.DataFrame:
    """The Heckman model of a count spec with each candidate control as the excluded variable in turn, and with no
    control in the outcome equation (every one excluded), by the two-step and by full-information maximum
    likelihood (dyad-clustered SEs): the key interaction's estimate, SE and p in the outcome equation, and rho.
    The candidates are the spec's terms other than the key interaction and its constitutive terms."""
    from scipy.stats import norm

    from .selection import heckman_ml

    selected, outcome = selection_outcome(data, variant, frame)
    key = data.spec.interaction_term
    core = {"Intercept", key, *(data.spec.interaction or ())}
    controls = [c for c in data.X.columns if c not in core]
    groups = clusters(data)
    rows = []
    for excluded in [[c] for c in controls] + [controls]:
        X = data.X.drop(columns=excluded)
        two = heckman_two_step(outcome, selected, X, data.X)
        ml = heckman_ml(outcome, selected, X, data.X, groups, start=two)
        two_se = float(np.sqrt(two.outcome_cov.loc[key, key]))
        ml_se = float(np.sqrt(ml.cov.loc[f"outcome:{key}", f"outcome:{key}"]))
        rows.append({"model": data.spec.name, "excluded": excluded[0] if len(excluded) == 1 else "every control",
                     "term": key, "two_step": float(two.outcome[key]), "two_step_se": two_se,
                     "two_step_p": float(2 * norm.sf(abs(two.outcome[key] / two_se))), "two_step_rho": two.rho,
                     "ml": float(ml.outcome[key]), "ml_se_clustered": ml_se,
                     "ml_p": float(2 * norm.sf(abs(ml.outcome[key] / ml_se))), "ml_rho": ml.rho,
                     "ml_converged": ml.converged})
    return pd.DataFrame(rows)
