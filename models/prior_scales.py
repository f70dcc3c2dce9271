"""Slope priors by the rule of Gelman, Jakulin, Pittau & Su (2008), "A weakly informative default prior
distribution for logistic and other regression models" (Annals of Applied Statistics 2(4): 1360-1383).

The rule puts one independent prior (Cauchy(0, 2.5) in the paper) on every coefficient g_j of inputs brought to a
common scale: a numeric input is centred and divided by two standard deviations (sd 0.5), a binary input is
centred and keeps a difference of 1 between its two values, a dummy of a categorical input is centred, and an
interaction is the product of its rescaled inputs. The models sample slopes per standard deviation of each design
column (beta, models.builders.Standardiser), whose interactions are products of the raw inputs, so the rule is a
fixed linear map beta = A g: expanding each product of centred inputs over the design's columns gives the raw
coefficients, and beta_j = sd_j x raw_j. A main effect of the product form keeps its meaning (the effect where the
other input is 0); the prior is placed where the paper's rule places it, on the effect at the other input's mean.

Inputs are the formula's variables after any transform (`np.log(x)` is one input). A term whose lower-order
columns are not all in the design (an interaction without its main effects) is rescaled without centring.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np


def input_scale(values: np.ndarray) -> float:
    """f of one input: 2 sd for a numeric input, the distance between the two values of a binary one."""
    levels = np.unique(values)
    if len(levels) <= 2:
        return float(levels[-1] - levels[0]) or 1.0
    return 2.0 * float(np.std(values, ddof=1))


def _inputs(design, frame, rows: np.ndarray) -> dict[str, tuple[float, float]]:
    """(mean, f) of every input over the selected `rows`: each numeric component of a term (by name), and each
    dummy column."""
    inputs = {}
    for term in design.terms.values():
        for component in getattr(term, "components", []):
            if getattr(component, "kind", None) == "categoric":
                for column in (c for c in frame.columns[design.slices[term.name]] if ":" not in c):
                    inputs[column] = (float(frame[column].mean()), 1.0)
            else:
                values = np.asarray(component.value, dtype=float)[rows]
                if values.ndim == 1 or values.shape[1] == 1:
                    inputs[component.name] = (float(values.mean()), input_scale(values.ravel()))
    return inputs


def gelman_map(design, terms: tuple[str, ...], column_sd: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """A (len(terms) x len(terms)) with per-sd slopes beta = A @ g, g the coefficients of the rescaled inputs and
    their products (column j of A: g_j's contribution to every slope). formulae names an interaction column by
    its inputs' columns joined by ':'; a column whose inputs are not all known is taken as an input of its own.
    `rows` (a boolean mask) selects the rows the likelihood uses, on which inputs are centred and scaled (the
    hurdle count part: the positive rows); default every row."""
    frame = design.as_dataframe()
    rows = np.ones(len(frame), dtype=bool) if rows is None else np.asarray(rows, dtype=bool)
    frame = frame[rows]
    inputs = _inputs(design, frame, rows)
    parts = {t: tuple(t.split(":")) if all(p in inputs for p in t.split(":")) else (t,) for t in terms}
    for term, pieces in parts.items():
        if pieces == (term,) and term not in inputs:
            inputs[term] = (float(frame[term].mean()), input_scale(frame[term].to_numpy(float)))
    position = {frozenset(pieces): i for i, pieces in enumerate(parts.values())}
    raw = np.zeros((len(terms), len(terms)))  # raw[i, j]: coefficient of design column i per unit of g_j
    for j, pieces in enumerate(parts.values()):
        divisor = float(np.prod([inputs[p][1] for p in pieces]))
        subsets = [s for r in range(1, len(pieces) + 1) for s in combinations(pieces, r)]
        if not all(frozenset(s) in position for s in subsets):  # lower-order columns missing: rescale only
            raw[j, j] = 1.0 / divisor
            continue
        for subset in subsets:  # prod_p (x_p - m_p) = sum over subsets S of prod_{p in S} x_p prod_{p not in S} -m_p
            raw[position[frozenset(subset)], j] += np.prod([-inputs[p][0] for p in pieces if p not in subset]) / divisor
    return np.asarray(column_sd, dtype=float)[:, None] * raw


def slope_map(prior, design, terms: tuple[str, ...], column_sd: np.ndarray,
              rows: np.ndarray | None = None) -> np.ndarray | None:
    """The map from the sampled coefficients to the per-sd slopes under the prior's scale rule (None: the prior
    is on the per-sd slopes themselves), with inputs scaled on `rows` (default every row)."""
    return None if prior.scale_rule == "per_sd" else gelman_map(design, terms, column_sd, rows)
