"""Powell & Thyne coup attempts: whether a state had a coup attempt (failed or successful) recently."""

from __future__ import annotations

import pandas as pd

from .frames import any_in_last_years


def recent_coup(ptcoups: pd.DataFrame, window: int = 5) -> pd.DataFrame:
    """ccode, year, recent_coup = 1 for years t with a coup attempt in t-window+1..t (events file, COW codes).

    Only years with a recent attempt are returned; every other covered country-year is 0.
    """
    events = ptcoups.loc[ptcoups["coup"].isin([1, 2]), ["ccode", "year"]].astype("int64")
    return any_in_last_years(events, ["ccode"], window, "recent_coup")


def coverage_years(ptcoups: pd.DataFrame) -> tuple[int, int]:
    """First and last year of the coup events file."""
    return int(ptcoups["year"].min()), int(ptcoups["year"].max())


ATTEMPT, SUCCESS = (1, 2), (2,)  # Powell & Thyne: 1 failed, 2 successful


def coup_events(ptcoups: pd.DataFrame) -> pd.DataFrame:
    """ccode, year, coup_attempt, coup_success: 1 where the state had any coup attempt (failed or successful), and
    any successful coup, that year; only years with an attempt are returned (every other covered year is 0)."""
    events = ptcoups.loc[ptcoups["coup"].isin(ATTEMPT), ["ccode", "year", "coup"]].astype("int64")
    events["coup_success"] = events["coup"].isin(SUCCESS).astype("int64")
    years = events.groupby(["ccode", "year"], as_index=False)["coup_success"].max()
    years.insert(2, "coup_attempt", 1)
    return years


def years_since_coup(state_years: pd.DataFrame, ptcoups: pd.DataFrame) -> pd.DataFrame:
    """ccode, year, years_since_coup: years since the state's last coup attempt before year t (1 if it was in t-1).

    A state without an earlier attempt counts from the later of its first year in `state_years` and the first
    year of the coup data (1950), so 0 in that year: the convention of peace-years counters (Carter & Signorino
    2010)."""
    first_data_year = int(ptcoups["year"].min())
    attempts = coup_events(ptcoups)[["ccode", "year"]].assign(_last=lambda f: f["year"]).sort_values("year")
    frame = state_years[["ccode", "year"]].drop_duplicates().sort_values("year").reset_index(drop=True)
    entry = frame.groupby("ccode")["year"].transform("min").clip(lower=first_data_year)
    frame = pd.merge_asof(frame, attempts, on="year", by="ccode", allow_exact_matches=False)  # last one before t
    frame["years_since_coup"] = (frame["year"] - frame["_last"].fillna(entry)).astype("int64")
    return frame.drop(columns="_last").sort_values(["ccode", "year"]).reset_index(drop=True)
