"""The third design, Kim & Woods (2022) as a large-N extension of McWard & Yoon: one row per new bilateral defense
pact of the dyad panel with a nondemocratic member, joined to ATOP 5.1's institutionalization codes of the pact's
founding phase (`milinst`, military institutionalization 0/1/2; `formal`, formality 0/1/2). Predictors are the
dyad panel's values in the pact's year, with State A the client: the pact's nondemocratic member, and where both
members are nondemocracies the weaker one (lower capability share). Kim & Woods's argument concerns the client
regime of an unequal alliance, and one row per pact keeps a pact between two nondemocracies from entering twice
with the same outcome."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from . import __version__
from .atop import new_bilateral_defense_pacts
from .frames import as_int_codes
from .panel import SCHEMA_VERSION, build_panel, content_checksum, panel_to_frame
from .sources import DataError, RawData

DESIGN = "pact"
OUTCOMES = ("milinst", "formal")
PREDICTORS = ("counterbalancing_a", "recent_coup_a", "new_regime_a", "military_regime_a", "regime_difference",
              "capability_share_a", "threat_a", "threat_b", "concessions_a", "concessions_b")
MODEL_PREDICTORS = ("counterbalancing_a", "recent_coup_a", "new_regime_a", "military_regime_a", "regime_difference",
                    "capability_share_a", "threat_a")


def founding_phase_codes(atopinst: pd.DataFrame, atop_members: pd.DataFrame) -> pd.DataFrame:
    """atopid, milinst, formal of each alliance's founding phase.

    ATOP numbers phases in `atopidphase` as atopid.k (k = 1, 2, ...; plain atopid for an alliance without phases).
    The founding phase is the phase of the members' earliest entry rows (phase 0 in the member file: no phases).
    A missing code stays missing: the pact is left out of that outcome's sample, not coded 0."""
    inst = atopinst[["atopid", "atopidphase", *OUTCOMES]].copy()
    inst["atopid"] = inst["atopid"].astype("int64")
    inst["phase"] = np.rint((inst["atopidphase"].astype(float) - inst["atopid"]) * 10).astype("int64")
    members = as_int_codes(atop_members[["atopid", "yrent", "phase"]].dropna(), ["atopid", "yrent", "phase"])
    first = members.sort_values(["atopid", "yrent", "phase"]).drop_duplicates("atopid")[["atopid", "phase"]]
    first["phase"] = first["phase"].where(first["phase"] > 0, 0)
    out = first.merge(inst, on=["atopid", "phase"], how="left", validate="one_to_one")
    return out[["atopid", *OUTCOMES]]


def pact_frame(dyads: pd.DataFrame, alliances: pd.DataFrame, atop_members: pd.DataFrame,
               atopinst: pd.DataFrame) -> pd.DataFrame:
    """One row per new pact of the dyad frame (directions with new_defense_pact = 1, State A the client: see
    `one_row_per_pact`), with its atopid, the founding phase's codes, the predictors and State A's capability share
    cinc_a / (cinc_a + cinc_b)."""
    events = dyads[dyads["new_defense_pact"] == 1].copy()
    pacts = new_bilateral_defense_pacts(alliances, atop_members).drop_duplicates(["ccode_a", "ccode_b", "year"])
    events = events.merge(pacts, on=["ccode_a", "ccode_b", "year"], how="left", validate="one_to_one")
    events = events.merge(founding_phase_codes(atopinst, atop_members), on="atopid", how="left")
    events["capability_share_a"] = events["cinc_a"] / (events["cinc_a"] + events["cinc_b"])
    events = one_row_per_pact(events)
    for outcome in OUTCOMES:
        events[f"sample_{outcome}"] = events[[outcome, *MODEL_PREDICTORS]].notna().all(axis=1)
    columns = ["atopid", "ccode_a", "ccode_b", "stateabb_a", "stateabb_b", "year", *OUTCOMES, *PREDICTORS]
    return events[[c for c in columns if c in events] + [f"sample_{o}" for o in OUTCOMES]].sort_values(
        ["year", "ccode_a", "ccode_b"]).reset_index(drop=True)


def one_row_per_pact(events: pd.DataFrame) -> pd.DataFrame:
    """Keep one direction of each pact (the same two states, the same year): the one whose State A has the lower
    capability share (the client of an unequal alliance; a missing share last, then the lower ccode_a). The dyad
    panel has both directions of a pact between two nondemocracies, one where only State A is one."""
    key = pact_key(events)
    order = events.assign(_low=key["low"], _high=key["high"]).sort_values(
        ["_low", "_high", "year", "capability_share_a", "ccode_a"], na_position="last")
    kept = order.drop_duplicates(["_low", "_high", "year"]).drop(columns=["_low", "_high"])
    return kept.sort_index()


def pact_key(frame: pd.DataFrame) -> pd.DataFrame:
    """Each row's pact as the two states in code order and the year (the same for both directions)."""
    return pd.DataFrame({"low": np.minimum(frame["ccode_a"], frame["ccode_b"]),
                         "high": np.maximum(frame["ccode_a"], frame["ccode_b"]), "year": frame["year"]},
                        index=frame.index)


def check_one_row_per_pact(frame: pd.DataFrame) -> None:
    """Raise DataError naming a pact that enters the pact panel twice (the same alliance, or the same two states
    in the same year)."""
    twice = pact_key(frame).duplicated(keep=False) | (frame["atopid"].notna() & frame["atopid"].duplicated(keep=False))
    if twice.any():
        first = frame[twice].iloc[0]
        raise DataError(f"pact panel: the pact of {int(first['ccode_a'])} and {int(first['ccode_b'])} in "
                        f"{int(first['year'])} (atopid {first['atopid']}) has {int(twice.sum())} rows; each pact "
                        "must enter once")


def pact_dataset(frame: pd.DataFrame, dyad_panel: xr.Dataset) -> xr.Dataset:
    """The pact frame as a Dataset with one dim (pact); codes, names and year as coordinates along it."""
    attrs_of = {name: dict(dyad_panel[name].attrs) for name in PREDICTORS if name in dyad_panel}
    attrs_of["capability_share_a"] = {"long_name": "Capability share, A", "source": "COW NMC v6", "lag": 1,
                                      "description": "cinc_a / (cinc_a + cinc_b) at t-1"}
    attrs_of["milinst"] = {"long_name": "Military institutionalization", "source": "ATOP 5.1 atopinst", "lag": 0,
                           "description": "0/1/2, founding phase of the pact"}
    attrs_of["formal"] = {"long_name": "Formality", "source": "ATOP 5.1 atopinst", "lag": 0,
                          "description": "0/1/2, founding phase of the pact"}
    data_vars = {"in_panel": ("pact", np.ones(len(frame), bool))}
    for name in (*OUTCOMES, *PREDICTORS):
        data_vars[name] = ("pact", frame[name].to_numpy(dtype=float), attrs_of.get(name, {}))
    for outcome in OUTCOMES:
        data_vars[f"sample_{outcome}"] = ("pact", frame[f"sample_{outcome}"].to_numpy(),
                                          {"description": f"pacts with {outcome} and every predictor present"})
    coords = {"pact": np.arange(len(frame)), "year": ("pact", frame["year"].to_numpy()),
              "atopid": ("pact", frame["atopid"].to_numpy()),
              **{c: ("pact", frame[c].to_numpy()) for c in ("ccode_a", "ccode_b")},
              **{c: ("pact", frame[c].astype(str).to_numpy()) for c in ("stateabb_a", "stateabb_b")}}
    return xr.Dataset(data_vars, coords=coords)


def build_pact_panel(raw: RawData, dyad_panel: xr.Dataset | None = None) -> xr.Dataset:
    """The pact panel from the raw files (the dyad panel built with default options unless given); the
    institutionalization file is checked (with the ATOP ids it shares) before the dyad panel is built."""
    raw.validate_all(("atop_inst", "atop_alliances", "atop_members"))
    dyad_panel = build_panel(raw) if dyad_panel is None else dyad_panel
    frame = pact_frame(panel_to_frame(dyad_panel), raw.load("atop_alliances"), raw.load("atop_members"),
                       raw.load("atop_inst"))
    check_one_row_per_pact(frame)
    ds = pact_dataset(frame, dyad_panel)
    ds.attrs = {
        "title": "New bilateral defense pacts and their institutionalization, Kim & Woods (2022) extension",
        "design": DESIGN, "schema_version": SCHEMA_VERSION, "package_version": __version__,
        "dyad_panel_checksum": dyad_panel.attrs.get("panel_checksum", ""),
        "options": dyad_panel.attrs.get("options", ""),
        "raw_file_sha256": json.dumps(dict(sorted(raw.checksums.items()))),
        "substitutes": dyad_panel.attrs.get("substitutes", "") + " Institutionalization codes are ATOP 5.1's "
        "(atopinst) for the pact's founding phase; a missing code leaves the pact out of that outcome's sample.",
    }
    ds.attrs["panel_checksum"] = content_checksum(ds)
    return ds
