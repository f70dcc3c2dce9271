"""Alternative threat measures: recent militarized disputes (GML MIDs) and strategic rivalries (Thompson & Dreyer)."""

from __future__ import annotations

import pandas as pd

from .frames import any_in_last_years, as_int_codes, years_in_spells


def recent_mid(gml_ddy: pd.DataFrame, window: int = 5) -> pd.DataFrame:
    """ccode, year, recent_mid = 1 if the state was in an ongoing GML MID in t-window+1..t (only such years)."""
    mids = as_int_codes(gml_ddy.loc[gml_ddy["gmlmidongoing"] == 1, ["ccode1", "year"]], ["ccode1", "year"])
    return any_in_last_years(mids.rename(columns={"ccode1": "ccode"}), ["ccode"], window, "recent_mid")


def rivalry_counts(td_rivalries: pd.DataFrame, last_year: int) -> pd.DataFrame:
    """ccode, year, rivalries = number of Thompson & Dreyer strategic rivalries the state is in that year.

    Rivalries still running at the end of the data (missing end year) are taken to run to `last_year`.
    """
    spells = td_rivalries[["rivalryno", "ccode1", "ccode2", "styear", "endyear"]].copy()
    spells["endyear"] = spells["endyear"].fillna(last_year)
    spells = as_int_codes(spells, ["rivalryno", "ccode1", "ccode2", "styear", "endyear"])
    sides = pd.concat([
        spells.rename(columns={"ccode1": "ccode"})[["rivalryno", "ccode", "styear", "endyear"]],
        spells.rename(columns={"ccode2": "ccode"})[["rivalryno", "ccode", "styear", "endyear"]],
    ], ignore_index=True)
    years = years_in_spells(sides, ["rivalryno", "ccode"], "styear", "endyear").drop_duplicates()
    return years.groupby(["ccode", "year"]).size().rename("rivalries").reset_index()
