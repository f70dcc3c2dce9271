"""Checks on the built panel: no variable may come out degenerate (all missing or all zero) in the panel's window.

Damaged raw values used to pass silently as a variable of zeros; the raw schemas now stop most of them, and this
check is the backstop after the build. The rules, tuned to what the real sources allow:

- Every variable must have a value somewhere in the panel (``in_panel`` cells), except the concession variables,
  which exist only on dyad-years with a new pact and follow the rare-event rule below.
- Every variable must be non-zero somewhere in the panel, except the counts of missing concession items (zero is
  their normal value: every item coded) and the rare events.
- Rare events (a new pact, a new counterweight, joint democracy with a nondemocratic A, concessions in a new pact)
  are checked only over windows longer than ``LONGEST_QUIET_RUN`` years: in the real data no bilateral defense pact
  began in 1987-1990 or 2006-2009, and no pact carried a concession in 1985-1990, so a short window can be all zero.
- Each estimation sample (with and without controls) must be non-empty, and the model variables (``CORE`` over both
  samples, ``CONTROLS`` over the sample with controls) non-zero in it, under the same rare-event rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from .sources import RAW_FILES, DataError
from .variables import (
    CONTROLS, CORE, COUNTRY_YEAR_CONTROLS, COUNTRY_YEAR_CORE, VARIABLES, Variable)

THREAT_FILES = ("cow_ddy", "atop_ddy", "cow_contdir", "cow_majors", "cow_nmc")
POLITY_FILES = ("polity",)
PACT_FILES = ("atop_alliances", "atop_members")

# the raw files (keys of RAW_FILES) each panel variable is built from
VARIABLE_FILES: dict[str, tuple[str, ...]] = {
    "new_defense_pact": PACT_FILES,
    "counterweights_a": ("ssf",), "counterbalancing_a": ("ssf",), "new_counterweight_a": ("ssf",),
    "threat_a": THREAT_FILES, "threat_b": THREAT_FILES,
    "shared_defense_pact": ("atop_ddy",),
    "regime_difference": POLITY_FILES, "polity2_a": POLITY_FILES, "polity2_b": POLITY_FILES,
    "joint_democracy": POLITY_FILES, "new_regime_a": POLITY_FILES,
    "recent_coup_a": ("coups",),
    "military_regime_a": ("gwf",),
    "concessions_a": PACT_FILES, "concessions_b": PACT_FILES,
    "concessions_a_missing": PACT_FILES, "concessions_b_missing": PACT_FILES,
    "cinc_a": ("cow_nmc",), "cinc_b": ("cow_nmc",), "milex_change_a": ("cow_nmc",), "milper_change_a": ("cow_nmc",),
    "recent_mid_a": ("gml_mids",), "recent_mid_b": ("gml_mids",),
    "rivalries_a": ("td_rivalries",), "rivalries_b": ("td_rivalries",),
    # the country-year design
    "coup_attempt": ("coups",), "coup_success": ("coups",), "years_since_coup": ("coups",),
    "any_dca": ("dcad",), "dca_count": ("dcad",), "dca_general": ("dcad",), "dca_sector": ("dcad",),
    "polity2": POLITY_FILES, "counterbalancing": ("ssf",), "cinc": ("cow_nmc",), "military_personnel_pc": ("cow_nmc",),
    **{name: ("gwf",) for name in ("military_regime", "personalist_regime", "party_regime", "monarchy")},
    "mid_last_year": ("gml_mids",), "defense_pact": ("atop_ddy",),
}

RARE_EVENTS = ("new_defense_pact", "new_counterweight_a", "joint_democracy", "concessions_a", "concessions_b",
               "coup_success", "military_regime")
ONLY_WITH_A_PACT = ("concessions_a", "concessions_b", "concessions_a_missing", "concessions_b_missing")
ZERO_IS_NORMAL = ("concessions_a_missing", "concessions_b_missing")
LONGEST_QUIET_RUN = 6  # years: the longest run without any of the rare events in the real 1960-2010 panel
SAMPLES = {"sample_no_controls": CORE, "sample_controls": CORE + CONTROLS}
COUNTRY_YEAR_SAMPLES = {"sample_no_controls": COUNTRY_YEAR_CORE,
                        "sample_controls": COUNTRY_YEAR_CORE + COUNTRY_YEAR_CONTROLS}


def _origin(name: str, data_dir: Path | None, variables: dict[str, Variable] = VARIABLES) -> str:
    """'built from <files> (<source>)' for a variable, with full paths when the data directory is known."""
    files = [str(data_dir / RAW_FILES[key].relpath) if data_dir else RAW_FILES[key].relpath
             for key in VARIABLE_FILES[name]]
    return f"built from {', '.join(files)} ({variables[name].source})"


def _zero_may_be_real(name: str, n_years: int) -> bool:
    """True where an all-zero variable is a fact of the data, not a fault: see the module's rules."""
    return name in ZERO_IS_NORMAL or (name in RARE_EVENTS and n_years <= LONGEST_QUIET_RUN)


def _degenerate(values: np.ndarray, name: str, n_years: int) -> str | None:
    """'missing' or 'zero' when the values are all missing or all zero (and that is not allowed), else None."""
    present = values[~np.isnan(values)]
    if present.size == 0:
        if name in ONLY_WITH_A_PACT and n_years <= LONGEST_QUIET_RUN:
            return None
        return "missing"
    if not present.any() and not _zero_may_be_real(name, n_years):
        return "zero"
    return None


def check_derived_variables(ds: xr.Dataset, data_dir: Path | None = None, variables: dict[str, Variable] = VARIABLES,
                            samples: dict[str, tuple[str, ...]] = SAMPLES, unit: str = "dyad-year") -> None:
    """Refuse a built panel in which a variable is all missing or all zero over the panel or an estimation
    sample (rules in the module docstring); the message names the variable and the raw files it comes from.
    `variables`, `samples` and `unit` describe the design (the dyad panel's by default)."""
    years = ds["year"].to_numpy()
    window, n_years = f"{years[0]}-{years[-1]}", len(years)
    for mask_name, names in (("in_panel", tuple(variables)), *samples.items()):
        mask = ds[mask_name].to_numpy()
        where = f"in-panel {unit}" if mask_name == "in_panel" else f"{unit} of {mask_name}"
        if not mask.any():
            raise DataError(f"the {window} panel has no {unit}s" if mask_name == "in_panel" else
                            f"{mask_name}: no {unit} of the {window} panel has all of {', '.join(names)}; "
                            "the estimation sample is empty")
        for name in names:
            problem = _degenerate(ds[name].to_numpy()[mask], name, n_years)
            if problem:
                raise DataError(f"{name} ({variables[name].long_name}) is {problem} in every {where} of the "
                                f"{window} panel; it is {_origin(name, data_dir, variables)}")
