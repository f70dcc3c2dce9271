"""Polity5: regime scores on COW codes, nondemocracy, foreign occupation and recent regime change (byear)."""

from __future__ import annotations

import pandas as pd

from .frames import any_in_last_years

FOREIGN_OCCUPATION = -66


def polity_country_years(polity5: pd.DataFrame) -> pd.DataFrame:
    """Polity country-years on COW codes: ccode, year, polity, polity2, byear.

    Polity's own codes differ from COW for a few states (Ethiopia 529, Sudan-North 626, Serbia 342/347,
    Vietnam 818); democracyData's `cown` maps them. In transition years two Polity units can share one COW
    code (Ethiopia 1993, Yugoslavia 1991, Serbia 2006, Sudan 2011, Vietnam 1976): the unit whose Polity code
    equals the COW code is kept, else the lower Polity code; a regime start (`byear`) of either unit is kept.
    """
    frame = polity5.dropna(subset=["cown", "year"]).copy()
    frame["ccode"] = frame["cown"].astype("int64")
    frame["year"] = frame["year"].astype("int64")
    frame["_own_code"] = (frame["polity_annual_ccode"] == frame["cown"]).astype(int)
    frame = frame.sort_values(["ccode", "year", "_own_code", "polity_annual_ccode"], ascending=[True, True, False, True])
    regime_start = frame.groupby(["ccode", "year"])["byear"].max()  # a start recorded by either unit counts
    frame = frame.drop_duplicates(["ccode", "year"], keep="first").drop(columns="byear")
    frame = frame.merge(regime_start.reset_index(), on=["ccode", "year"])
    return frame[["ccode", "year", "polity", "polity2", "byear"]].reset_index(drop=True)


def new_regime(polity_cy: pd.DataFrame, window: int = 5) -> pd.DataFrame:
    """`new_regime` = 1 if a Polity regime began (its `byear`) in years t-window+1..t, else 0; per ccode, year.

    Defined for every country-year that Polity covers; missing elsewhere.
    """
    starts = polity_cy.loc[polity_cy["byear"].notna(), ["ccode", "byear"]].rename(columns={"byear": "year"})
    starts = starts.astype("int64")
    recent = any_in_last_years(starts, ["ccode"], window, "new_regime")
    out = polity_cy[["ccode", "year"]].merge(recent, on=["ccode", "year"], how="left")
    out["new_regime"] = out["new_regime"].fillna(0).astype("int64")
    return out
