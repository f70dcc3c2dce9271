"""Table 2 under the closest readings of the concession measure (issue 33): the paper's two hurdle models fitted
with each reading's counts, their key interactions beside the paper's, in every part.

The readings are ranked by the measure alone (data_prep.concession_readings: their distance to Table 5) before
any model is fitted; this only reports what each of the top readings gives."""

from __future__ import annotations

import pandas as pd
from scipy.stats import norm

from data_prep.concession_readings import FIT_CHOICES, Reading, with_reading_counts
from models.design import model_data
from models.specs import get_spec

from .frequentist import fit_data

TABLE2_MODELS = ("h1", "h2")


def fitted_readings(ranked: pd.DataFrame, top: int) -> list[Reading]:
    """The `top` closest readings that give different counts (the choices that change a hurdle's outcome), in
    rank order."""
    chosen, seen = [], set()
    for row in ranked.itertuples():
        key = tuple(getattr(row, c) for c in FIT_CHOICES)
        if key not in seen:
            seen.add(key)
            chosen.append(Reading(**{c: getattr(row, c) for c in Reading.__dataclass_fields__}))
        if len(chosen) == top:
            break
    return chosen


def table2_under_readings(frame: pd.DataFrame, pacts: pd.DataFrame, atop_members: pd.DataFrame,
                          readings: list[Reading], paper: pd.DataFrame, config_path=None) -> pd.DataFrame:
    """Each reading's Table 2: every part's key interaction (estimate, dyad-clustered SE, p), the part's events and
    log-likelihood, beside the paper's estimate and SE (`paper`: reports/reference/mcward_yoon_2023_tables.csv)."""
    rows = []
    for rank, reading in enumerate(readings, start=1):
        counted = with_reading_counts(frame, pacts, atop_members, reading, config_path)
        for name in TABLE2_MODELS:
            data = model_data(counted, get_spec(name))
            term = data.spec.interaction_term
            for result in fit_data(data):
                table = result.table
                if term not in table.index:
                    continue
                estimate, se = float(table.loc[term, "estimate"]), float(table.loc[term, "se"])
                mine = paper[(paper["model"] == name) & (paper["part"] == result.part) & (paper["term"] == term)]
                rows.append({"rank": rank, **{c: getattr(reading, c) for c in ("item_list", "scoring",
                                                                               "obligations", "missing")},
                             "model": name, "part": result.part, "term": term, "estimate": estimate, "se": se,
                             "p": float(2 * norm.sf(abs(estimate / se))), "events": result.n_events,
                             "nobs": result.nobs, "loglik": result.loglik,
                             "paper": float(mine["estimate"].iloc[0]) if len(mine) else float("nan"),
                             "paper_se": float(mine["se"].iloc[0]) if len(mine) else float("nan")})
    return pd.DataFrame(rows)
