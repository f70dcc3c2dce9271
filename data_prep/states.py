"""COW state system: directed dyad-years, yearly membership, major powers and state abbreviations."""

from __future__ import annotations

import pandas as pd

from .frames import as_int_codes


def directed_dyad_years(cow_ddy: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    """All COW directed dyad-years (ccode_a, ccode_b, year) in start..end, from peacesciencer's cow_ddy."""
    ddy = as_int_codes(cow_ddy, ["ccode1", "ccode2", "year"])
    ddy = ddy[ddy["year"].between(start, end)]
    return ddy.rename(columns={"ccode1": "ccode_a", "ccode2": "ccode_b"}).reset_index(drop=True)


def system_members(cow_ddy: pd.DataFrame) -> pd.DataFrame:
    """COW system members each year (ccode, year): every state that appears in a directed dyad that year."""
    ddy = as_int_codes(cow_ddy, ["ccode1", "year"])
    members = ddy[["ccode1", "year"]].drop_duplicates().rename(columns={"ccode1": "ccode"})
    return members.sort_values(["year", "ccode"]).reset_index(drop=True)


def major_powers(cow_majors: pd.DataFrame) -> pd.DataFrame:
    """COW major-power spells (ccode, styear, endyear) with integer codes."""
    return as_int_codes(cow_majors[["ccode", "styear", "endyear"]], ["ccode", "styear", "endyear"])


def state_abbreviations(cow_states: pd.DataFrame) -> pd.Series:
    """COW three-letter abbreviation for each ccode (the latest one if a code was re-used)."""
    states = as_int_codes(cow_states[["ccode", "stateabb"]].dropna(), ["ccode"])
    return states.drop_duplicates("ccode", keep="last").set_index("ccode")["stateabb"].astype(str)
