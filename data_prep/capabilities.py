"""COW National Material Capabilities: CINC and year-on-year changes in military expenditure and personnel."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import as_int_codes, lag


def capabilities(nmc: pd.DataFrame) -> pd.DataFrame:
    """ccode, year, cinc, milex_change, milper_change (NMC's -9 missing codes become NaN)."""
    frame = as_int_codes(nmc[["ccode", "year", "cinc", "milex", "milper"]], ["ccode", "year"])
    for column in ("cinc", "milex", "milper"):
        frame[column] = frame[column].where(frame[column] >= 0, np.nan)
    previous = lag(frame, ["ccode"], ["milex", "milper"]).rename(columns={"milex": "_milex", "milper": "_milper"})
    frame = frame.merge(previous, on=["ccode", "year"], how="left")
    frame["milex_change"] = frame["milex"] - frame["_milex"]
    frame["milper_change"] = frame["milper"] - frame["_milper"]
    return frame[["ccode", "year", "cinc", "milex_change", "milper_change"]]


def military_personnel_per_capita(nmc: pd.DataFrame) -> pd.DataFrame:
    """ccode, year, military_personnel_pc: military personnel per 1,000 people (milper / tpop x 1,000; both are
    in thousands in NMC, whose negative missing codes and a zero population become NaN)."""
    frame = as_int_codes(nmc[["ccode", "year", "milper", "tpop"]], ["ccode", "year"])
    milper = frame["milper"].where(frame["milper"] >= 0)
    tpop = frame["tpop"].where(frame["tpop"] > 0)
    frame["military_personnel_pc"] = 1000 * milper / tpop
    return frame[["ccode", "year", "military_personnel_pc"]]
