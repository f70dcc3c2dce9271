"""ATOP 5.1: new bilateral defense pacts (the outcome) and defense pacts in force between two states."""

from __future__ import annotations

import pandas as pd

from .frames import as_int_codes


def new_bilateral_defense_pacts(alliances: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Directed dyads forming a new bilateral defense pact: atopid, ccode_a, ccode_b, year (= begyr).

    A pact is an ATOP alliance with `bilat == 1` and `defense == 1`; its founding members are those whose entry
    year (`yrent`) equals the alliance's `begyr`. States that joined later by succession (e.g. the Czech
    Republic and Slovakia in 1993) do not count as forming a new pact. Both directions are returned.
    """
    pacts = alliances.loc[(alliances["bilat"] == 1) & (alliances["defense"] == 1), ["atopid", "begyr"]]
    founders = members[["atopid", "member", "yrent"]].merge(pacts, on="atopid")
    founders = founders.loc[founders["yrent"] == founders["begyr"], ["atopid", "member", "begyr"]].drop_duplicates()
    founders = as_int_codes(founders, ["atopid", "member", "begyr"])
    pairs = founders.merge(founders, on=["atopid", "begyr"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["member_a"] != pairs["member_b"]]
    pairs = pairs.rename(columns={"member_a": "ccode_a", "member_b": "ccode_b", "begyr": "year"})
    return pairs[["atopid", "ccode_a", "ccode_b", "year"]].sort_values(["year", "atopid", "ccode_a", "ccode_b"]) \
        .reset_index(drop=True)


def alliance_flags(atop_ddy: pd.DataFrame) -> pd.DataFrame:
    """peacesciencer's ATOP 5.1 directed dyad-year obligation flags with integer codes and 0/1 ints."""
    flags = ["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"]
    frame = atop_ddy[["ccode1", "ccode2", "year", *flags]].fillna(0)
    return as_int_codes(frame, ["ccode1", "ccode2", "year", *flags])


def shared_defense_pacts(flags: pd.DataFrame) -> pd.DataFrame:
    """ccode_a, ccode_b, year with shared_defense_pact = 1 where a bilateral or multilateral defense pact is in force
    between the two (either direction); dyad-years without one are absent (fill with 0)."""
    defense = flags.loc[flags["atop_defense"] == 1, ["ccode1", "ccode2", "year"]]
    both = pd.concat([defense, defense.rename(columns={"ccode1": "ccode2", "ccode2": "ccode1"})], ignore_index=True)
    both = both.drop_duplicates().rename(columns={"ccode1": "ccode_a", "ccode2": "ccode_b"})
    both["shared_defense_pact"] = 1
    return both.reset_index(drop=True)
