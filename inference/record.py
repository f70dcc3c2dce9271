"""The typed record of a saved fit: how it was made (spec, priors, method, sampler and quadrature settings, the
standardisers), from which panel, with which packages, how long it took and whether it passed its diagnostics.

A fit's netCDF attrs are written by `FitRecord.to_attrs` and read by `FitRecord.from_attrs` (or `fit_record(tree)`)
and nowhere else, in the manner of PyMC-Marketing's `create_idata_attrs` / `attrs_to_init_kwargs`. The attrs carry
a format version: a file of another version is refused with one line saying how to refit it, never half-read.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import xarray as xr

from models.builders import Standardiser
from models.families import Family
from models.priors import Prior, parse_priors, priors_config
from models.quadrature import QuadratureOptions
from models.specs import ModelSpec

from .settings import SamplerSettings

FORMAT_KEY = "coupproof_fit_format"  # the attr holding the format version
FORMAT_VERSION = 2  # bump when an attr is added, removed or changes meaning; older files are refused
REFIT_HINT = "refit it with 'coupproof fit' (make fit), or rerun the command that made it"


class FitFileError(ValueError):
    """A fit file that is missing, cannot be read, or was written by another version of coupproof."""


@dataclass(frozen=True)
class PanelRef:
    """Which panel a fit (or any output) was made from: its file, content checksum and substituted sources."""

    path: str = ""
    checksum: str = ""
    substitutes: str = ""

    @classmethod
    def of(cls, panel: xr.Dataset, path: str = "") -> "PanelRef":
        """The reference of a panel read or built in this process (its attrs hold checksum and substitutes)."""
        return cls(str(path or ""), str(panel.attrs.get("panel_checksum", "")), str(panel.attrs.get("substitutes", "")))


@dataclass(frozen=True)
class FitRecord:
    """Everything a saved fit records about itself. `prior_set` names the prior set of a refit ("" for a fit of its
    own); `diagnostics_problems` lists what failed the gate (empty when it passed)."""

    spec: ModelSpec
    priors: dict[str, Prior]
    method: str
    sampler: SamplerSettings
    quadrature: QuadratureOptions
    standardiser: Standardiser
    count_standardiser: Standardiser | None
    panel: PanelRef
    n_rows: int
    n_groups: int
    n_events: int
    diagnostics_passed: bool
    diagnostics_problems: tuple[str, ...] = ()
    sampling_seconds: float = 0.0
    wall_seconds: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    numerics: str = ""
    prior_set: str = ""

    @property
    def model(self) -> str:
        """The model's name."""
        return self.spec.name

    @property
    def family(self) -> Family:
        """The model's family (models.families)."""
        return self.spec.family_info

    def to_attrs(self) -> dict[str, Any]:
        """The record as netCDF attrs: plain strings and numbers, structured values as JSON. The model's name,
        label, formula and family are also written out plainly for people reading the file with other tools."""
        return {
            FORMAT_KEY: FORMAT_VERSION, "model": self.spec.name, "model_label": self.spec.label,
            "formula": self.spec.formula, "family": self.spec.family, "spec": json.dumps(asdict(self.spec)),
            "priors": json.dumps(priors_config(self.priors)), "method": self.method,
            "sampler": json.dumps(asdict(self.sampler)), "quadrature": json.dumps(asdict(self.quadrature)),
            "standardiser": json.dumps(self.standardiser.to_dict()),
            "count_standardiser": json.dumps(self.count_standardiser.to_dict() if self.count_standardiser else None),
            "panel_path": self.panel.path, "panel_checksum": self.panel.checksum,
            "substitutes": self.panel.substitutes, "n_rows": int(self.n_rows), "n_groups": int(self.n_groups),
            "n_events": int(self.n_events), "diagnostics_passed": int(self.diagnostics_passed),
            "diagnostics_problems": json.dumps(list(self.diagnostics_problems)),
            "sampling_seconds": float(self.sampling_seconds), "wall_seconds": float(self.wall_seconds),
            "versions": json.dumps(self.versions), "numerics": self.numerics, "prior_set": self.prior_set,
        }

    @classmethod
    def from_attrs(cls, attrs: dict, source: str = "the fit") -> "FitRecord":
        """The record of a fit's attrs; a file of another format version, or attrs that cannot be read, raise
        FitFileError naming `source` and saying how to refit."""
        version = attrs.get(FORMAT_KEY)
        if version is None or int(version) != FORMAT_VERSION:
            found = "no format version" if version is None else f"fit format {int(version)}"
            raise FitFileError(f"{source}: written by another version of coupproof ({found}; this version reads "
                               f"format {FORMAT_VERSION}); {REFIT_HINT}")
        try:
            return cls(
                spec=_spec(json.loads(attrs["spec"])),
                priors=parse_priors(json.loads(attrs["priors"]), f"{source}: its priors"),
                method=str(attrs["method"]), sampler=SamplerSettings(**json.loads(attrs["sampler"])),
                quadrature=QuadratureOptions(**json.loads(attrs["quadrature"])),
                standardiser=_standardiser(json.loads(attrs["standardiser"])),
                count_standardiser=_standardiser(json.loads(attrs["count_standardiser"])),
                panel=PanelRef(str(attrs["panel_path"]), str(attrs["panel_checksum"]), str(attrs["substitutes"])),
                n_rows=int(attrs["n_rows"]), n_groups=int(attrs["n_groups"]), n_events=int(attrs["n_events"]),
                diagnostics_passed=bool(int(attrs["diagnostics_passed"])),
                diagnostics_problems=tuple(json.loads(attrs["diagnostics_problems"])),
                sampling_seconds=float(attrs["sampling_seconds"]), wall_seconds=float(attrs["wall_seconds"]),
                versions=dict(json.loads(attrs["versions"])), numerics=str(attrs["numerics"]),
                prior_set=str(attrs["prior_set"]))
        except KeyError as exc:
            raise FitFileError(f"{source}: its record has no {exc.args[0]}; {REFIT_HINT}") from None
        except (ValueError, TypeError) as exc:
            raise FitFileError(f"{source}: its record cannot be used ({' '.join(str(exc).split())}); "
                               f"{REFIT_HINT}") from None

    def replace(self, **changes) -> "FitRecord":
        """A copy with some fields changed (e.g. the prior set of a refit)."""
        return replace(self, **changes)


def _spec(values: dict) -> ModelSpec:
    return ModelSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def _standardiser(values: dict | None) -> Standardiser | None:
    if values is None:
        return None
    return Standardiser(tuple(values["terms"]), np.asarray(values["mean"], float), np.asarray(values["sd"], float))


def fit_record(tree: xr.DataTree, source: str = "the fit") -> FitRecord:
    """The record of a fitted DataTree (the one reader of its attrs)."""
    return FitRecord.from_attrs(tree.attrs, source)


def with_record(tree: xr.DataTree, record: FitRecord) -> xr.DataTree:
    """`tree` with `record` written into its attrs (in place; returned for chaining)."""
    tree.attrs.update(record.to_attrs())
    return tree
