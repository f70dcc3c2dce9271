"""Defense cooperation agreements (Kinne's DCAD v1.0, agreement-level file): which DCAs each state has in force in
each year, counted in all and by type (general framework agreements and sector-specific ones)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from .frames import as_int_codes, years_in_spells

DCA_STARTS = ("signature", "entry_into_force")
DCA_TYPES = ("general", "sector")
TERMINATED = 1  # DCAD's `terminated`: 1 terminated, 0 not, -88 / -99 unknown


def agreement_spells(dcad: pd.DataFrame, start: Literal["signature", "entry_into_force"] = "signature"
                     ) -> pd.DataFrame:
    """One row per agreement: DCAid, ccode1, ccode2, type, first and last year in force.

    In force from the signature year (with `start="entry_into_force"`, the entry-into-force year where DCAD
    records one, else the signature year) until Kinne's `endYearEstimate`, which already carries renewals and is
    right-censored at 2010; a terminated agreement (`terminated` = 1) with a known `durationActual` ends no later
    than its first year plus that duration. An agreement whose first year falls after its last is never in force.
    """
    if start not in DCA_STARTS:
        raise ValueError(f"DCA start must be one of {', '.join(DCA_STARTS)}, got {start!r}")
    frame = dcad[["DCAid", "ccode1", "ccode2", "type", "signYear", "EIFYear", "terminated", "durationActual",
                  "endYearEstimate"]].copy()
    first = frame["signYear"].astype(float)
    if start == "entry_into_force":
        first = frame["EIFYear"].astype(float).fillna(first)
    last = frame["endYearEstimate"].astype(float)
    ended = (frame["terminated"] == TERMINATED) & frame["durationActual"].notna()
    last = last.where(~ended, np.minimum(last, first + frame["durationActual"].astype(float)))
    spells = frame[["DCAid", "ccode1", "ccode2", "type"]].assign(first_year=first, last_year=last)
    spells = spells[spells["first_year"] <= spells["last_year"]]
    return as_int_codes(spells, ["ccode1", "ccode2", "first_year", "last_year"]).reset_index(drop=True)


def dcas_in_force(dcad: pd.DataFrame, start: Literal["signature", "entry_into_force"] = "signature"
                  ) -> pd.DataFrame:
    """ccode, year, dca_count, dca_general, dca_sector: the number of DCAs each state has in force that year (an
    agreement counts for both signatories). Only state-years with at least one DCA are returned; within DCAD's
    coverage (1980-2010) every other state-year has none."""
    spells = agreement_spells(dcad, start)
    sides = pd.concat([spells.rename(columns={side: "ccode"})[["DCAid", "ccode", "type", "first_year", "last_year"]]
                       for side in ("ccode1", "ccode2")], ignore_index=True)
    years = years_in_spells(sides, ["DCAid", "ccode", "type"], "first_year", "last_year")
    counts = pd.crosstab([years["ccode"], years["year"]], years["type"])
    counts = counts.reindex(columns=list(DCA_TYPES), fill_value=0).add_prefix("dca_")
    counts.columns.name = None
    counts["dca_count"] = counts[[f"dca_{t}" for t in DCA_TYPES]].sum(axis=1)
    return counts.reset_index()[["ccode", "year", "dca_count", *(f"dca_{t}" for t in DCA_TYPES)]]


def coverage_years(dcad: pd.DataFrame) -> tuple[int, int]:
    """The first signature year and the last year in force in the file: outside these years DCA status is
    unknown, not zero."""
    return int(dcad["signYear"].min()), int(dcad["endYearEstimate"].max())
