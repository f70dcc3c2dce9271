"""Counterbalancing from the SSF-derived substitute (Mehrl & Choulis 2023 replication file, `cbcount`).

The original State Security Forces data (De Bruin 2020) is not available; `cbcount` in this file is almost
certainly De Bruin's yearly count of counterweights (see ssf/SOURCE.md). Its codes follow a continuity
convention that differs from COW for a few states; `SSF_TO_COW` maps them by year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import lag

# (code in the SSF file, first year, last year, COW code, why). Years are inclusive.
SSF_TO_COW: tuple[tuple[int, int, int, int, str], ...] = (
    (255, 1955, 1990, 260, "SSF uses 255 for West Germany before unification; COW 260 is West Germany to 1990"),
    (315, 1993, 2010, 316, "SSF keeps 315 after the split; COW 316 is the Czech Republic from 1993"),
    (679, 1900, 1989, 678, "SSF uses 679 for Yemen throughout; COW 678 is the Yemen Arab Republic to 1990"),
)


def recode_to_cow(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of an SSF-coded country-year frame with `ccode` mapped to COW codes (see SSF_TO_COW)."""
    out = frame.copy()
    for ssf_code, first, last, cow_code, _why in SSF_TO_COW:
        rows = (out["ccode"] == ssf_code) & out["year"].between(first, last)
        out.loc[rows, "ccode"] = cow_code
    return out


def counterweights(ssf_raw: pd.DataFrame) -> pd.DataFrame:
    """Country-years with an SSF count: ccode (COW), year, counterweights, counterbalancing = log(1 + count),
    and new_counterweight = 1 when the count rose from the previous year.

    Without force-level records a new force that coincides with a disbanded one is invisible, so
    `new_counterweight` is a lower bound on SSF's own "new counterweight created" indicator.
    """
    frame = ssf_raw.loc[ssf_raw["cbcount"].notna(), ["ccode", "year", "cbcount"]].copy()
    frame["ccode"] = frame["ccode"].astype("int64")
    frame["year"] = frame["year"].astype("int64")
    frame = recode_to_cow(frame).rename(columns={"cbcount": "counterweights"})
    frame["counterbalancing"] = np.log1p(frame["counterweights"])
    previous = lag(frame, ["ccode"], ["counterweights"]).rename(columns={"counterweights": "_previous"})
    frame = frame.merge(previous, on=["ccode", "year"], how="left")
    frame["new_counterweight"] = np.where(
        frame["_previous"].isna(), np.nan, (frame["counterweights"] > frame["_previous"]).astype(float))
    return frame.drop(columns="_previous").sort_values(["ccode", "year"]).reset_index(drop=True)
