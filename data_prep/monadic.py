"""Panel steps for robustness variants: the monadic State A-year panel aggregated from the dyad panel, and an
estimation sample narrowed to the rows where added variables are present."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .frames import unit_year_grid
from .panel import content_checksum, panel_to_frame

# State A's own variables (the same for every partner B in a year), carried into the monadic panel
STATE_A_VARIABLES = ("counterbalancing_a", "counterweights_a", "new_counterweight_a", "threat_a", "recent_coup_a",
                     "new_regime_a", "military_regime_a", "polity2_a", "cinc_a", "milex_change_a", "milper_change_a",
                     "recent_mid_a", "rivalries_a")
SAMPLES = ("sample_no_controls", "sample_controls")


def monadic_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per State A-year of the dyad frame: whether A formed any new bilateral defense pact that year, A's
    own variables, and whether the year is in each estimation sample (any of its dyad-years is)."""
    groups = frame.groupby(["ccode_a", "year"], sort=True)
    out = groups[list(STATE_A_VARIABLES)].first()
    out["new_defense_pact"] = groups["new_defense_pact"].max()
    for sample in SAMPLES:
        out[sample] = groups[sample].any()
    return out.reset_index()


def monadic_panel(ds: xr.Dataset) -> xr.Dataset:
    """The monadic panel (dims state, year) of a dyad panel, with its variables' attrs and provenance."""
    frame = monadic_frame(panel_to_frame(ds))
    states = np.sort(frame["ccode_a"].unique())
    years = ds["year"].to_numpy()
    rows = np.searchsorted(states, frame["ccode_a"].to_numpy())
    cols = np.searchsorted(years, frame["year"].to_numpy())
    grid = unit_year_grid(rows, cols, (len(states), len(years)))

    data_vars = {"in_panel": (("state", "year"), grid(True, False, bool))}
    for name in ("new_defense_pact", *STATE_A_VARIABLES):
        attrs = dict(ds[name].attrs)
        if name == "new_defense_pact":
            attrs.update(long_name="New bilateral defense pact (any)",
                         description="1 if A formed any new bilateral ATOP defense pact in year t")
        data_vars[name] = (("state", "year"), grid(frame[name].to_numpy(dtype=float), np.nan, "float64"), attrs)
    for sample in SAMPLES:
        data_vars[sample] = (("state", "year"), grid(frame[sample].to_numpy(), False, bool),
                             {"description": f"State A-years with any dyad-year in the dyad panel's {sample}"})
    abbreviations = dict(zip(ds["ccode_a"].to_numpy(), ds["stateabb_a"].to_numpy()))
    coords = {"state": np.arange(len(states)), "year": years, "ccode_a": ("state", states),
              "stateabb_a": ("state", np.array([abbreviations.get(s, "") for s in states], dtype=str))}
    out = xr.Dataset(data_vars, coords=coords, attrs={**ds.attrs, "title": "Monadic State A-year panel",
                                                      "design": "monadic", "dyad_panel_checksum":
                                                      ds.attrs.get("panel_checksum", "")})
    out.attrs["panel_checksum"] = content_checksum(out)
    return out


def narrowed_sample(ds: xr.Dataset, sample: str, variables: tuple[str, ...]) -> tuple[xr.Dataset, str]:
    """The panel with a new sample mask: `sample` where every one of `variables` is present (the estimation sample
    of a model that adds them); returns (panel, the mask's name). Without variables, the panel as it is."""
    present = [v for v in variables if v in ds]
    if not present:
        return ds, sample
    name = f"{sample}_with_{'_'.join(present)}"
    mask = ds[sample].copy()
    for variable in present:
        mask = mask & ds[variable].notnull()
    out = ds.assign({name: mask.assign_attrs(description=f"{sample} where {', '.join(present)} are present")})
    out.attrs["panel_checksum"] = content_checksum(out)
    return out, name
