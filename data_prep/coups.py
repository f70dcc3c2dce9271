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
