"""From the panel's long frame to a model's estimation data: the sample rows, the outcome, the design matrix
(intercept, covariates, interaction product) and the dyad groups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .specs import ModelSpec, SpecError

__all__ = ["ModelData", "SpecError", "build_design", "check_panel_has", "dyad_codes", "model_data"]


@dataclass(frozen=True)
class ModelData:
    """Estimation data of one model: outcome y, design X (with 'Intercept'), integer group codes of the random
    intercept, and year codes with their labels when the spec has year effects."""

    spec: ModelSpec
    y: pd.Series
    X: pd.DataFrame
    groups: np.ndarray
    n_groups: int
    years: np.ndarray | None = None
    year_labels: np.ndarray | None = None


def check_panel_has(frame: pd.DataFrame, spec: ModelSpec) -> None:
    """Raise SpecError naming every variable (and the sample mask) the spec needs but the panel lacks."""
    needed = (*spec.variables, spec.sample, *(("year",) if spec.year_effects else ()))
    missing = [v for v in needed if v not in frame.columns]
    if missing:
        raise SpecError(f"model {spec.name}: panel lacks variable(s) {', '.join(missing)}")


def build_design(frame: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """Intercept, the spec's covariates and the interaction product, in the order of `spec.terms`."""
    X = pd.DataFrame({"Intercept": 1.0}, index=frame.index)
    for name in spec.covariates:
        X[name] = frame[name].astype(float)
    left, right = spec.interaction
    X[spec.interaction_term] = frame[left].astype(float) * frame[right].astype(float)
    return X


def dyad_codes(frame: pd.DataFrame, group: str = "dyad") -> tuple[np.ndarray, int]:
    """Integer group codes: directed dyad (A, B), undirected dyad {A, B}, or State A."""
    if group == "dyad":
        keys = frame["ccode_a"].astype(np.int64) * 10_000 + frame["ccode_b"].astype(np.int64)
    elif group == "undirected_dyad":
        low = np.minimum(frame["ccode_a"], frame["ccode_b"]).astype(np.int64)
        high = np.maximum(frame["ccode_a"], frame["ccode_b"]).astype(np.int64)
        keys = low * 10_000 + high
    elif group == "state_a":
        keys = frame["ccode_a"].astype(np.int64)
    else:
        raise SpecError(f"unknown grouping {group!r}; use dyad, undirected_dyad or state_a")
    codes, uniques = pd.factorize(keys, sort=True)
    return codes.astype(np.int64), len(uniques)


def model_data(frame: pd.DataFrame, spec: ModelSpec) -> ModelData:
    """The spec's estimation sample from the panel frame (outcome missing -> 0 for hurdle counts without a pact)."""
    check_panel_has(frame, spec)
    rows = frame[frame[spec.sample].astype(bool)]
    if rows.empty:
        raise SpecError(f"model {spec.name}: the estimation sample {spec.sample} has no rows in this panel")
    y = rows[spec.outcome].astype(float)
    if spec.family == "hurdle":
        y = y.fillna(0.0)  # no new pact, no concessions
    X = build_design(rows, spec)
    if y.isna().any() or X.isna().any().any():
        raise SpecError(f"model {spec.name}: missing values inside the sample {spec.sample}")
    groups, n_groups = dyad_codes(rows, spec.group)
    years = year_labels = None
    if spec.year_effects:
        years, year_labels = pd.factorize(rows["year"].astype(np.int64), sort=True)
        years, year_labels = years.astype(np.int64), np.asarray(year_labels)
    return ModelData(spec, y, X, groups, n_groups, years, year_labels)
