"""Signorino-Ritter S-scores of alliance-portfolio similarity, computed from ATOP dyad-year flags.

McWard & Yoon (2023, sec. 3.2) pick potential adversaries by the ATOP-based S-score of Chiba, Johnson &
Leeds (2015), which is not in the raw data, so we rebuild it. Coding follows the CJL release notes and
``svmiller/fpsim``: each directed dyad-year is ranked by its strongest obligation (3 = defense/offense,
2 = neutrality/consultation, 1 = nonaggression only, 0 = none), every state is tied to itself with 3,
and S = 1 - 2 * d / d_max with absolute (city-block) distances over all system members k, i and j
included; d_max = N * 3 unweighted, or 3 * sum_k w_k when weighted by CINC (Signorino & Ritter 1999).
The computation is one N x N matrix per year and a C-level pairwise distance, no loops over dyads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

#: Largest minus smallest tie value (ranks 0..3).
DELTA = 3
#: Tie value of every state with itself.
SELF_TIE = 3

_FLAGS = ("atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul")


def alliance_ties(atop_ddy: pd.DataFrame) -> pd.DataFrame:
    """Rank each directed ATOP dyad-year by its strongest obligation (3 def/off, 2 neu/con, 1 nonagg only).

    Returns ``ccode1, ccode2, year, tie`` for rows with tie > 0 (absent rows mean no tie), the input to
    :func:`s_scores`.
    """
    missing = [c for c in ("ccode1", "ccode2", "year", *_FLAGS) if c not in atop_ddy.columns]
    if missing:
        raise ValueError(f"atop_ddy lacks columns {missing}")
    flags = atop_ddy[list(_FLAGS)].fillna(0).to_numpy() > 0
    defense, offense, neutral, nonagg, consul = flags.T
    tie = np.select([defense | offense, neutral | consul, nonagg], [3, 2, 1], default=0).astype(np.int8)
    out = atop_ddy.loc[tie > 0, ["ccode1", "ccode2", "year"]].astype("int64").copy()
    out["tie"] = tie[tie > 0]
    # A dyad listed twice in a year keeps its strongest tie.
    return (out.groupby(["ccode1", "ccode2", "year"], as_index=False, sort=True)["tie"].max()
            .astype({"tie": "int8"}))


def _year_matrix(codes: np.ndarray, ties_y: pd.DataFrame) -> np.ndarray:
    """The N x N tie matrix of one year (rows = i, columns = k), self-ties set to 3."""
    n = len(codes)
    mat = np.zeros((n, n), dtype=np.float64)
    if len(ties_y):
        r = np.searchsorted(codes, ties_y["ccode1"].to_numpy())
        c = np.searchsorted(codes, ties_y["ccode2"].to_numpy())
        mat[r, c] = ties_y["tie"].to_numpy()
    np.fill_diagonal(mat, SELF_TIE)
    return mat


def s_scores(
    ties: pd.DataFrame,
    members: pd.DataFrame,
    weights: pd.DataFrame | None = None,
    years: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """S for every undirected pair ccode1 < ccode2 of system members in each year (unweighted by default).

    ``ties`` is :func:`alliance_ties` output; ties with non-members that year are ignored. With ``weights``
    (``ccode, year, cinc``) S is CINC-weighted, missing CINC counting as weight 0. ``years`` (inclusive)
    restricts the years computed. Returns ``ccode1, ccode2, year, s``.
    """
    mem = members[["ccode", "year"]].astype("int64").drop_duplicates()
    if years is not None:
        mem = mem[mem["year"].between(years[0], years[1])]
    mem = mem.sort_values(["year", "ccode"])
    tie_cols = ties[["ccode1", "ccode2", "year", "tie"]]
    tie_by_year = {y: g for y, g in tie_cols.groupby("year", sort=False)}
    w_by_year = None
    if weights is not None:
        w = weights[["ccode", "year", "cinc"]].dropna()
        w_by_year = {y: g.set_index("ccode")["cinc"] for y, g in w.groupby("year", sort=False)}

    empty_ties = tie_cols.iloc[:0]
    parts_i, parts_j, parts_y, parts_s = [], [], [], []
    for year, group in mem.groupby("year", sort=True):
        codes = group["ccode"].to_numpy()
        n = len(codes)
        if n < 2:
            continue
        ty = tie_by_year.get(year, empty_ties)
        ty = ty[ty["ccode1"].isin(codes) & ty["ccode2"].isin(codes)]
        mat = _year_matrix(codes, ty)
        if w_by_year is None:
            dist = cdist(mat, mat, metric="cityblock")
            dmax = n * DELTA
        else:
            wy = w_by_year.get(year)
            wk = (wy.reindex(codes).fillna(0.0).to_numpy(dtype=float) if wy is not None
                  else np.zeros(n))
            total = wk.sum()
            if total <= 0:
                raise ValueError(f"no positive CINC weights among members in {year}")
            dist = cdist(mat, mat, metric="minkowski", p=1, w=wk)
            dmax = DELTA * total
        iu, ju = np.triu_indices(n, k=1)
        parts_i.append(codes[iu])
        parts_j.append(codes[ju])
        parts_y.append(np.full(len(iu), year, dtype=np.int64))
        parts_s.append(1.0 - 2.0 * dist[iu, ju] / dmax)
    if not parts_s:
        return pd.DataFrame({"ccode1": pd.Series(dtype="int64"), "ccode2": pd.Series(dtype="int64"),
                             "year": pd.Series(dtype="int64"), "s": pd.Series(dtype="float64")})
    return pd.DataFrame({
        "ccode1": np.concatenate(parts_i).astype("int64"),
        "ccode2": np.concatenate(parts_j).astype("int64"),
        "year": np.concatenate(parts_y),
        "s": np.concatenate(parts_s),
    })
