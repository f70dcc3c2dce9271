"""Assemble the directed dyad-year panel of McWard & Yoon (2023) as an xarray.Dataset, and write/read it.

State A (the potential coup-proofer) is a nondemocracy (Polity2 <= 6, not under foreign occupation); State B is
any COW state not under foreign occupation. State-year measures are built once per state and year, lagged there
(by re-keying the year) and then joined to both sides of every dyad.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from . import __version__
from .atop import alliance_flags, new_bilateral_defense_pacts, shared_defense_pacts
from .capabilities import capabilities
from .concessions import ConcessionOptions, concession_counts, concession_metadata, member_item_columns
from .conflict import recent_mid, rivalry_counts
from .coups import recent_coup
from .frames import as_int_codes, lag, unit_year_grid
from .gwf import military_regime
from .io import atomic_write_netcdf
from .polity import FOREIGN_OCCUPATION, new_regime, polity_country_years
from .sources import RAW_FILES, DataError, RawData
from .ssf import SSF_TO_COW, counterweights
from .states import directed_dyad_years, major_powers, state_abbreviations, system_members
from .threat import ThreatOptions, external_threat
from .validate import check_derived_variables
from .variables import CONTROLS, CORE, VARIABLES

SCHEMA_VERSION = 1
# Each design's dims and the variables every panel of it has (pacts: one sample per outcome, no year dim).
SAMPLE_MASKS = ("sample_no_controls", "sample_controls")
PANEL_LAYOUTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "dyad": (("dyad", "year"), ("in_panel", *SAMPLE_MASKS)),
    "monadic": (("state", "year"), ("in_panel", *SAMPLE_MASKS)),
    "country_year": (("country", "year"), ("in_panel", *SAMPLE_MASKS)),
    "pact": (("pact",), ("in_panel",)),
}
# The sources jointly cover 1950-2010: GWF, SSF and the GML MIDs end in 2010, Powell & Thyne begin in 1950.
SUPPORTED_YEARS = (1951, 2010)


@dataclass(frozen=True)
class PanelOptions:
    """Choices that define the panel; all of them are stored in the output's attrs."""

    start: int = 1960
    end: int = 2010
    max_polity_a: int | None = 6  # None keeps every State A (the paper's full-sample robustness check)
    recent_window: int = 5  # years in "recent coup", "new regime", "recent MID"
    military_include_indirect: bool = False
    threat: ThreatOptions = field(default_factory=ThreatOptions)
    concessions: ConcessionOptions = field(default_factory=ConcessionOptions)

    def __post_init__(self) -> None:
        low, high = SUPPORTED_YEARS
        if not (low <= self.start <= self.end <= high):
            raise DataError(
                f"year window {self.start}-{self.end} is outside the sources' joint coverage {low}-{high} "
                "(GWF, SSF and GML MIDs end in 2010; Powell & Thyne coups begin in 1950)")


def state_threat(raw: RawData, options: PanelOptions) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Unlagged external threat per state-year (ccode, year, threat), the capabilities table, and threat metadata."""
    members = system_members(raw.load("cow_ddy"))
    # the S-score threshold pools 1816-2010 whatever the panel's window, so threat is computed through 2010
    members = members[members["year"] <= max(options.end, options.threat.threshold_years[1])]
    contiguity = as_int_codes(raw.load("cow_contdir"), ["ccode1", "ccode2", "conttype"])
    caps = capabilities(raw.load("cow_nmc"))
    regional = raw.load("maoz_powers") if options.threat.regional_powers != "off" else None
    threat, meta = external_threat(
        members, alliance_flags(raw.load("atop_ddy")), contiguity, major_powers(raw.load("cow_majors")),
        caps[["ccode", "year", "cinc"]], options.threat, regional_powers=regional)
    return threat, caps, meta


def _state_years(raw: RawData, options: PanelOptions) -> tuple[pd.DataFrame, dict]:
    """One row per state and year with every monadic measure at year t (unlagged), plus threat metadata."""
    threat, caps, threat_meta = state_threat(raw, options)
    members = system_members(raw.load("cow_ddy"))
    polity = polity_country_years(raw.load("polity"))
    window = options.recent_window
    pieces = [
        polity[["ccode", "year", "polity", "polity2"]],
        new_regime(polity, window),
        counterweights(raw.load("ssf")),
        recent_coup(raw.load("coups"), window),
        military_regime(raw.load("gwf"), options.military_include_indirect),
        caps,
        threat,
        recent_mid(raw.load("gml_mids"), window),
        rivalry_counts(raw.load("td_rivalries"), options.end),
    ]
    states = members[members["year"].between(options.start - 2, options.end)]
    for piece in pieces:
        states = states.merge(piece, on=["ccode", "year"], how="left")
    for flag in ("recent_coup", "recent_mid", "rivalries"):
        states[flag] = states[flag].fillna(0)
    return states, threat_meta


def _lagged_states(states: pd.DataFrame) -> pd.DataFrame:
    """State measures at t-1, keyed to year t, with a `_lag` suffix."""
    columns = ["polity2", "counterweights", "counterbalancing", "military_regime", "cinc", "milex_change",
               "milper_change", "threat", "rivalries"]
    lagged = lag(states, ["ccode"], columns)
    return lagged.rename(columns={c: f"{c}_lag" for c in columns})


def _attach(dyads: pd.DataFrame, states: pd.DataFrame, side: str) -> pd.DataFrame:
    """Join state-year columns to one side ('a' or 'b') of the dyads, suffixing them with that side."""
    renamed = states.rename(columns={c: f"{c}_{side}" for c in states.columns if c not in ("ccode", "year")})
    return dyads.merge(renamed.rename(columns={"ccode": f"ccode_{side}"}), on=[f"ccode_{side}", "year"], how="left")


def build_dyad_frame(raw: RawData, options: PanelOptions = PanelOptions()) -> tuple[pd.DataFrame, dict]:
    """The panel as a long frame (one row per directed dyad-year in the sample) and its build metadata."""
    states, threat_meta = _state_years(raw, options)
    current = states[["ccode", "year", "polity", "polity2", "new_regime", "new_counterweight", "recent_coup",
                      "recent_mid"]]
    monadic = current.merge(_lagged_states(states), on=["ccode", "year"], how="left")

    dyads = directed_dyad_years(raw.load("cow_ddy"), options.start, options.end)
    dyads = _attach(_attach(dyads, monadic, "a"), monadic, "b")
    keep = dyads["polity2_a"].notna() & (dyads["polity_a"] != FOREIGN_OCCUPATION) \
        & (dyads["polity_b"] != FOREIGN_OCCUPATION)
    if options.max_polity_a is not None:
        keep &= dyads["polity2_a"] <= options.max_polity_a
    dyads = dyads[keep].reset_index(drop=True)

    flags = alliance_flags(raw.load("atop_ddy"))
    shared = lag(shared_defense_pacts(flags), ["ccode_a", "ccode_b"], ["shared_defense_pact"])
    dyads = dyads.merge(shared, on=["ccode_a", "ccode_b", "year"], how="left")
    dyads["shared_defense_pact"] = dyads["shared_defense_pact"].fillna(0)

    pacts = new_bilateral_defense_pacts(raw.load("atop_alliances"), raw.load("atop_members"))
    members = raw.load("atop_members", extra=member_item_columns(raw, options.concessions))
    pacts = concession_counts(members, pacts, options.concessions)
    pacts = pacts.drop_duplicates(["ccode_a", "ccode_b", "year"]).drop(columns="atopid")
    pacts["new_defense_pact"] = 1
    dyads = dyads.merge(pacts, on=["ccode_a", "ccode_b", "year"], how="left")
    dyads["new_defense_pact"] = dyads["new_defense_pact"].fillna(0)

    dyads["regime_difference"] = (dyads["polity2_lag_a"] - dyads["polity2_lag_b"]).abs()
    dyads["joint_democracy"] = ((dyads["polity2_lag_a"] >= 7) & (dyads["polity2_lag_b"] >= 7)).astype(float) \
        .where(dyads["polity2_lag_a"].notna() & dyads["polity2_lag_b"].notna())
    frame = dyads.rename(columns={
        "counterweights_lag_a": "counterweights_a", "counterbalancing_lag_a": "counterbalancing_a",
        "threat_lag_a": "threat_a", "threat_lag_b": "threat_b", "military_regime_lag_a": "military_regime_a",
        "cinc_lag_a": "cinc_a", "cinc_lag_b": "cinc_b", "milex_change_lag_a": "milex_change_a",
        "milper_change_lag_a": "milper_change_a", "rivalries_lag_a": "rivalries_a", "rivalries_lag_b": "rivalries_b",
    })
    frame = frame[["ccode_a", "ccode_b", "year", *VARIABLES]]
    frame["sample_no_controls"] = frame[list(CORE)].notna().all(axis=1)
    frame["sample_controls"] = frame["sample_no_controls"] & frame[list(CONTROLS)].notna().all(axis=1)
    meta = {"threat": threat_meta, "concessions": concession_metadata(options.concessions)}
    return frame.sort_values(["ccode_a", "ccode_b", "year"]).reset_index(drop=True), meta


def frame_to_dataset(frame: pd.DataFrame, abbreviations: pd.Series, years: tuple[int, int]) -> xr.Dataset:
    """Reshape the long frame into (dyad, year) arrays; cells outside the sample are NaN with `in_panel` False."""
    dyad_keys = frame[["ccode_a", "ccode_b"]].drop_duplicates().sort_values(["ccode_a", "ccode_b"])
    dyad_keys = dyad_keys.reset_index(drop=True)
    dyad_index = pd.MultiIndex.from_frame(dyad_keys)
    rows = dyad_index.get_indexer(pd.MultiIndex.from_frame(frame[["ccode_a", "ccode_b"]]))
    year_values = np.arange(years[0], years[1] + 1)
    cols = frame["year"].to_numpy() - years[0]
    grid = unit_year_grid(rows, cols, (len(dyad_keys), len(year_values)))

    data_vars = {"in_panel": (("dyad", "year"), grid(True, False, bool))}
    for name, var in VARIABLES.items():
        data_vars[name] = (("dyad", "year"), grid(frame[name].to_numpy(dtype=float), np.nan, "float64"),
                           {"long_name": var.long_name, "source": var.source, "lag": var.lag,
                            "description": var.description})
    for mask, text in (("sample_no_controls", "estimation sample of Table 1 Models 1 and 3 (no controls)"),
                       ("sample_controls", "estimation sample of Table 1 Models 2 and 4 (with controls)")):
        data_vars[mask] = (("dyad", "year"), grid(frame[mask].to_numpy(), False, bool), {"description": text})
    coords = {
        "dyad": np.arange(len(dyad_keys)),
        "year": year_values,
        "ccode_a": ("dyad", dyad_keys["ccode_a"].to_numpy()),
        "ccode_b": ("dyad", dyad_keys["ccode_b"].to_numpy()),
        **{f"stateabb_{side}": ("dyad", dyad_keys[f"ccode_{side}"].map(abbreviations).astype(object).fillna("")
                                .to_numpy(dtype=str)) for side in ("a", "b")},
    }
    return xr.Dataset(data_vars, coords=coords)


def content_checksum(ds: xr.Dataset) -> str:
    """sha256 over every variable's values and the attrs that describe the build (not the checksum itself): the
    key of anything derived from a panel, so that an edited panel (in place, or a copy keeping the attrs) is never
    served what was derived from the original."""
    digest = hashlib.sha256()
    for name in sorted(ds.variables):
        values = np.asarray(ds.variables[name].values)
        if values.dtype.kind in "OSU":  # text at its narrowest width: netCDF gives back '' as <U1 whatever it was
            values = np.array(values.astype(str).tolist(), dtype=str).reshape(values.shape)
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(values).data)
    # numpy scalars as Python ones: netCDF gives back the int attrs written as numpy integers
    attrs = {k: v.item() if isinstance(v, np.generic) else v for k, v in ds.attrs.items() if k != "panel_checksum"}
    digest.update(json.dumps(attrs, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def polity_limit(value: int) -> int | None:
    """`max_polity_a` as the command line and variant files give it: 10 or above (Polity2 tops at 10) keeps every
    State A, None."""
    return None if value >= 10 else value


def _options_record(options: PanelOptions) -> dict:
    return json.loads(json.dumps(asdict(options), default=str))


def panel_sources(options: PanelOptions) -> tuple[str, ...]:
    """Keys of the raw files a panel with these options reads (leeds_savun is read only by `data --check`, dcad and
    atop_inst only by the country-year and pact designs)."""
    unused = {"leeds_savun", "dcad", "atop_inst"} | (
        {"maoz_powers"} if options.threat.regional_powers == "off" else set())
    return tuple(key for key in RAW_FILES if key not in unused)


def build_panel(raw: RawData, options: PanelOptions = PanelOptions()) -> xr.Dataset:
    """Build the directed dyad-year panel from the raw files, with provenance attrs. Every raw file is checked
    (schema, years covered) before the build, and the built variables after it (none all missing or all zero)."""
    raw.validate_all(panel_sources(options), (options.start, options.end))
    raw.load("atop_members", extra=member_item_columns(raw, options.concessions))  # the items' columns, before the build
    frame, meta = build_dyad_frame(raw, options)
    ds = frame_to_dataset(frame, state_abbreviations(raw.load("cow_states")), (options.start, options.end))
    check_derived_variables(ds, raw.data_dir)
    ds.attrs = {
        "title": "Directed dyad-year panel, McWard & Yoon (2023) design",
        "schema_version": SCHEMA_VERSION,
        "package_version": __version__,
        "options": json.dumps(_options_record(options), sort_keys=True),
        "raw_file_sha256": json.dumps(dict(sorted(raw.checksums.items()))),
        "threat_metadata": json.dumps(meta["threat"], sort_keys=True, default=str),
        "concession_metadata": json.dumps(meta["concessions"], sort_keys=True, default=str),
        "substitutes": (
            "Counterbalancing uses the SSF-derived cbcount of the Mehrl & Choulis (2023) replication file (108 "
            "countries; SSF itself not available); SSF country codes recoded to COW: "
            + "; ".join(f"{s}->{c} in {a}-{b}" for s, a, b, c, _ in SSF_TO_COW)
            + ". Threat omits colonial contiguity (COW colonial contiguity not available). Concessions are "
            "unverified against Johnson (2015)."),
    }
    ds.attrs["panel_checksum"] = content_checksum(ds)
    return ds


def panel_to_frame(ds: xr.Dataset) -> pd.DataFrame:
    """The long pandas frame (one row per unit-year in the panel: dyad-years, or State A-years of the monadic
    panel) with the unit's codes (ccode_a, ccode_b) and year as columns."""
    frame = ds.drop_vars(["in_panel"]).to_dataframe()
    frame = frame[ds["in_panel"].to_numpy().ravel()]
    return frame.reset_index().drop(columns=[d for d in ds.dims if d != "year"])  # positional unit indices


_FRAMES: dict[str, pd.DataFrame] = {}  # the long frame of the last panel used, by content (building it takes s)


def panel_frame(ds: xr.Dataset, checksum: str | None = None) -> pd.DataFrame:
    """The panel's long frame (`panel_to_frame`), cached for the last panel seen, keyed by its content (not its
    recorded checksum, which an edited copy keeps); `checksum`, its content_checksum where the caller has it."""
    key = checksum or content_checksum(ds)
    if key not in _FRAMES:
        _FRAMES.clear()
        _FRAMES[key] = panel_to_frame(ds)
    return _FRAMES[key]


def recorded_checksum(path: str | os.PathLike) -> str:
    """The content checksum a panel file records, or "" where there is no readable panel file."""
    try:
        with xr.open_dataset(path, engine="h5netcdf") as existing:
            return str(existing.attrs.get("panel_checksum", ""))
    except Exception:  # noqa: BLE001 - missing or damaged: it is written anew
        return ""


def write_panel(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write the panel as compressed netCDF, atomically (no partial file is left on failure), unless the file
    already holds this content (the same checksum): then it is left as it is, time stamp included, so that the
    steps that read it are not redone for a panel that did not change."""
    checksum = str(ds.attrs.get("panel_checksum", ""))
    if checksum and Path(path).is_file() and recorded_checksum(path) == checksum:
        return Path(path)
    encoding = {name: {"zlib": True, "complevel": 4} for name in ds.data_vars}
    return atomic_write_netcdf(path, ds, encoding=encoding)


def read_panel(path: str | os.PathLike) -> xr.Dataset:
    """Load a panel written by `write_panel`, refusing a missing file or an older schema."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: panel file not found; build it with 'coupproof data' or 'make data'")
    try:
        ds = xr.load_dataset(path, engine="h5netcdf")
    except Exception as exc:  # noqa: BLE001 - any reader failure means a damaged or foreign file
        raise DataError(f"{path}: not a readable panel file ({type(exc).__name__}: {' '.join(str(exc).split())})"
                        ) from None
    if "schema_version" not in ds.attrs:
        raise DataError(f"{path}: not a panel written by 'coupproof data' (no schema_version)")
    if str(ds.attrs["schema_version"]) != str(SCHEMA_VERSION):
        raise DataError(f"{path}: panel schema {ds.attrs.get('schema_version')} is not {SCHEMA_VERSION}; rebuild it")
    dims, variables = PANEL_LAYOUTS.get(str(ds.attrs.get("design", "dyad")), PANEL_LAYOUTS["dyad"])
    missing = [v for v in variables if v not in ds.variables] + [d for d in dims if d not in ds.dims]
    if missing:
        raise DataError(f"{path}: not a panel written by 'coupproof data' (no {', '.join(missing)})")
    if ds.attrs.get("design") == "pact":
        from .institutions import check_one_row_per_pact

        try:
            check_one_row_per_pact(ds[["ccode_a", "ccode_b", "year", "atopid"]].to_dataframe())
        except DataError as exc:
            raise DataError(f"{path}: {exc}; rebuild it with 'coupproof data --design pact'") from None
    return ds
