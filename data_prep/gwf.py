"""Geddes, Wright & Frantz autocratic regime types on COW codes: pure military regimes, and four exclusive types."""

from __future__ import annotations

import pandas as pd

# (GWF code, first year, last year, COW code, why). GWF rows describe the regime on 1 January.
GWF_TO_COW: tuple[tuple[int, int, int, int, str], ...] = (
    (255, 1946, 1990, 260, "GWF uses 255 for West Germany; COW 260 is West Germany to October 1990"),
    (678, 1991, 2010, 679, "GWF keeps 678 for unified Yemen; COW 679 is Yemen from May 1990"),
)

PURE_MILITARY = ("military",)
WITH_INDIRECT = ("military", "indirect military")


def _regime_years(gwf: pd.DataFrame) -> pd.DataFrame:
    """ccode (COW), year, gwf_regimetype for every GWF country-year, GWF codes recoded to COW."""
    frame = gwf[["cowcode", "year", "gwf_regimetype"]].rename(columns={"cowcode": "ccode"}).copy()
    frame["ccode"] = frame["ccode"].astype("int64")
    frame["year"] = frame["year"].astype("int64")
    for gwf_code, first, last, cow_code, _why in GWF_TO_COW:
        rows = (frame["ccode"] == gwf_code) & frame["year"].between(first, last)
        frame.loc[rows, "ccode"] = cow_code
    frame["gwf_regimetype"] = frame["gwf_regimetype"].astype(str)
    return frame.drop_duplicates(["ccode", "year"]).reset_index(drop=True)


def military_regime(gwf: pd.DataFrame, include_indirect: bool = False) -> pd.DataFrame:
    """ccode (COW), year, military_regime = 1 for pure military regimes (hybrids such as military-personal are 0).

    MY count military-personal hybrids as personalist; `include_indirect` also counts 'indirect military'.
    Every GWF country-year is returned, democracies included (0).
    """
    frame = _regime_years(gwf)
    types = WITH_INDIRECT if include_indirect else PURE_MILITARY
    frame["military_regime"] = frame["gwf_regimetype"].isin(types).astype("int64")
    return frame[["ccode", "year", "military_regime"]]


# Mutually exclusive regime types from GWF's eleven, hybrids with a personalist element counted as personalist (as
# McWard & Yoon do for military-personal); oligarchies, indirect military rule and non-autocracies are the rest.
REGIME_TYPES: dict[str, tuple[str, ...]] = {
    "military_regime": ("military",),
    "personalist_regime": ("personal", "military-personal", "party-personal", "party-military-personal"),
    "party_regime": ("party", "party-military"),
    "monarchy": ("monarchy",),
}


def regime_types(gwf: pd.DataFrame) -> pd.DataFrame:
    """ccode (COW), year and one 0/1 column per type of REGIME_TYPES for every GWF country-year (1946-2010)."""
    frame = _regime_years(gwf)
    for name, types in REGIME_TYPES.items():
        frame[name] = frame["gwf_regimetype"].isin(types).astype("int64")
    return frame[["ccode", "year", *REGIME_TYPES]]
