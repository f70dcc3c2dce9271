"""Assemble the country-year panel of Rahman (2026), defense cooperation agreements and coup attempts, as an
xarray.Dataset with dims (country, year).

Unit: every COW system member in each year of the window (all regimes). Outcome: a Powell & Thyne coup attempt
(and, separately, a successful coup) in year t. Treatment: DCAs in force at t-1 (DCAD). Controls at t-1 (years
since the last attempt at t, counted from earlier years). The same raw files, readers, checks and provenance as
the dyad panel; GDP and growth, which the study uses, are not among the raw files and are not invented.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import xarray as xr

from . import __version__
from .atop import alliance_flags
from .capabilities import capabilities, military_personnel_per_capita
from .conflict import recent_mid
from .coups import coup_events, years_since_coup
from .dca import DCA_STARTS, coverage_years, dcas_in_force
from .frames import lag, unit_year_grid
from .gwf import REGIME_TYPES, regime_types
from .panel import SCHEMA_VERSION, content_checksum
from .polity import polity_country_years
from .sources import DataError, RawData
from .ssf import counterweights
from .states import state_abbreviations, system_members
from .validate import COUNTRY_YEAR_SAMPLES, check_derived_variables
from .variables import COUNTRY_YEAR_VARIABLES

DESIGN = "country_year"
SOURCES = ("cow_states", "cow_ddy", "cow_nmc", "atop_ddy", "gml_mids", "polity", "ssf", "coups", "gwf", "dcad")
LAGGED = ("dca_count", "dca_general", "dca_sector", "polity2", *REGIME_TYPES, "counterbalancing", "cinc",
          "military_personnel_pc", "mid_ongoing", "defense_pact")
SUBSTITUTES = (
    "GDP per capita and economic growth, controls of Rahman (2026), are not among the raw files and are left out. "
    "Counterbalancing uses the SSF-derived cbcount of the Mehrl & Choulis (2023) replication file (108 countries; "
    "SSF itself not available). DCAs in force are coded from DCAD's agreement-level file (the dyadic file with "
    "Kinne's own in-force indicators was not found); DCAD starts in 1980, so agreements signed earlier and still in "
    "force are not counted.")


@dataclass(frozen=True)
class CountryYearOptions:
    """Choices that define the country-year panel; all of them are stored in the output's attrs."""

    start: int = 1981  # the DCA count is lagged one year and DCAD begins in 1980
    end: int = 2010
    dca_start: str = "signature"  # or "entry_into_force" (where DCAD records one, else the signature year)

    def __post_init__(self) -> None:
        if self.dca_start not in DCA_STARTS:
            raise DataError(f"dca_start must be one of {', '.join(DCA_STARTS)}, got {self.dca_start!r}")
        if not (1981 <= self.start <= self.end <= 2010):
            raise DataError(f"year window {self.start}-{self.end} is outside 1981-2010: DCAD covers 1980-2010 and "
                            "the DCA count is lagged one year (GWF and SSF also end in 2010)")


def defense_pact_years(atop_ddy: pd.DataFrame) -> pd.DataFrame:
    """ccode, year, defense_pact = 1 where the state has any ATOP defense pact in force (only such years)."""
    flags = alliance_flags(atop_ddy)
    years = flags.loc[flags["atop_defense"] == 1, ["ccode1", "year"]].drop_duplicates()
    return years.rename(columns={"ccode1": "ccode"}).assign(defense_pact=1).reset_index(drop=True)


def _state_years(raw: RawData, options: CountryYearOptions) -> pd.DataFrame:
    """One row per COW member and year from the year before the window, every measure at year t (unlagged)."""
    members = system_members(raw.load("cow_ddy"))
    dca_first, _ = coverage_years(raw.load("dcad"))
    dcas = dcas_in_force(raw.load("dcad"), options.dca_start)
    caps = capabilities(raw.load("cow_nmc"))[["ccode", "year", "cinc"]]
    pieces = [
        polity_country_years(raw.load("polity"))[["ccode", "year", "polity2"]],
        regime_types(raw.load("gwf")),
        counterweights(raw.load("ssf"))[["ccode", "year", "counterbalancing"]],
        caps.merge(military_personnel_per_capita(raw.load("cow_nmc")), on=["ccode", "year"], how="outer"),
        recent_mid(raw.load("gml_mids"), window=1).rename(columns={"recent_mid": "mid_ongoing"}),
        defense_pact_years(raw.load("atop_ddy")),
        dcas,
        coup_events(raw.load("coups")),
        years_since_coup(members, raw.load("coups")),
    ]
    states = members[members["year"].between(options.start - 1, options.end)]
    for piece in pieces:
        states = states.merge(piece, on=["ccode", "year"], how="left")
    for zero in ("mid_ongoing", "defense_pact", "coup_attempt", "coup_success"):
        states[zero] = states[zero].fillna(0)
    covered = states["year"] >= dca_first  # within DCAD's years no agreement means none; before, unknown
    for column in ("dca_count", "dca_general", "dca_sector"):
        states[column] = states[column].where(~covered | states[column].notna(), 0.0)
    return states


def build_country_year_frame(raw: RawData, options: CountryYearOptions = CountryYearOptions()) -> pd.DataFrame:
    """The panel as a long frame, one row per COW member and year in the window, with the sample masks."""
    states = _state_years(raw, options)
    current = states[["ccode", "year", "coup_attempt", "coup_success", "years_since_coup"]]
    lagged = lag(states, ["ccode"], list(LAGGED))
    frame = current[current["year"].between(options.start, options.end)].merge(lagged, on=["ccode", "year"],
                                                                              how="left")
    frame = frame.rename(columns={"mid_ongoing": "mid_last_year"})
    frame["any_dca"] = (frame["dca_count"] > 0).astype(float).where(frame["dca_count"].notna())
    frame = frame[["ccode", "year", *COUNTRY_YEAR_VARIABLES]]
    for sample, names in COUNTRY_YEAR_SAMPLES.items():
        frame[sample] = frame[list(names)].notna().all(axis=1)
    return frame.sort_values(["ccode", "year"]).reset_index(drop=True)


def country_year_dataset(frame: pd.DataFrame, abbreviations: pd.Series, years: tuple[int, int]) -> xr.Dataset:
    """Reshape the long frame into (country, year) arrays; cells outside the panel are NaN with `in_panel` False."""
    countries = np.sort(frame["ccode"].unique())
    year_values = np.arange(years[0], years[1] + 1)
    rows = np.searchsorted(countries, frame["ccode"].to_numpy())
    cols = frame["year"].to_numpy() - years[0]
    grid = unit_year_grid(rows, cols, (len(countries), len(year_values)))

    data_vars = {"in_panel": (("country", "year"), grid(True, False, bool))}
    for name, var in COUNTRY_YEAR_VARIABLES.items():
        data_vars[name] = (("country", "year"), grid(frame[name].to_numpy(dtype=float), np.nan, "float64"),
                           {"long_name": var.long_name, "source": var.source, "lag": var.lag,
                            "description": var.description})
    for sample, names in COUNTRY_YEAR_SAMPLES.items():
        data_vars[sample] = (("country", "year"), grid(frame[sample].to_numpy(), False, bool),
                             {"description": f"country-years with {', '.join(names)} present"})
    names = pd.Series(countries).map(abbreviations).astype(object).fillna("").to_numpy(dtype=str)
    coords = {"country": np.arange(len(countries)), "year": year_values, "ccode": ("country", countries),
              "stateabb": ("country", names)}
    return xr.Dataset(data_vars, coords=coords)


def build_country_year_panel(raw: RawData, options: CountryYearOptions = CountryYearOptions()) -> xr.Dataset:
    """Build the country-year panel from the raw files, with provenance attrs; every raw file is checked before
    the build (schema, years covered) and the built variables after it (none all missing or all zero)."""
    raw.validate_all(SOURCES, (options.start - 1, options.end))
    frame = build_country_year_frame(raw, options)
    ds = country_year_dataset(frame, state_abbreviations(raw.load("cow_states")), (options.start, options.end))
    check_derived_variables(ds, raw.data_dir, COUNTRY_YEAR_VARIABLES, COUNTRY_YEAR_SAMPLES, "country-year")
    ds.attrs = {
        "title": "Country-year panel, Rahman (2026) design: defense cooperation agreements and coup attempts",
        "design": DESIGN,
        "schema_version": SCHEMA_VERSION,
        "package_version": __version__,
        "options": json.dumps(asdict(options), sort_keys=True),
        "raw_file_sha256": json.dumps(dict(sorted(raw.checksums.items()))),
        "substitutes": SUBSTITUTES,
    }
    ds.attrs["panel_checksum"] = content_checksum(ds)
    return ds
