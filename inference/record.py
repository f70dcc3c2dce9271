"""The typed record of a saved fit: how, from what and how well it was made.

How it was made (spec, priors, method, sampler and quadrature settings, the standardisers), from which panel, with
which packages, how long it took and whether it passed its diagnostics.

A fit's netCDF attrs are written by `FitRecord.to_attrs` and read by `FitRecord.from_attrs` (or `fit_record(tree)`)
and nowhere else, in the manner of PyMC-Marketing's `create_idata_attrs` / `attrs_to_init_kwargs`. The attrs carry
a format version: a file of another version is refused with one line saying how to refit it, never half-read.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
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
    """Which panel a fit (or any output) was made from: its file, content checksum and substituted sources.

    Parameters
    ----------
    path : str, optional
        The panel's file ("" for a panel held in memory without one).
    checksum : str, optional
        The checksum of the panel's contents.
    substitutes : str, optional
        The panel's note, in words, of the sources it uses in place of ones not available ("" for none).
    absolute : str, optional
        The file's absolute path when the fit was made: where `path` is relative and not found from the current
        folder (a fit loaded from another folder), the data are read from there.
    """

    path: str = ""
    checksum: str = ""
    substitutes: str = ""
    absolute: str = ""

    @classmethod
    def of(cls, panel: xr.Dataset, path: str = "", checksum: str | None = None) -> "PanelRef":
        """Refer to a panel read or built in this process, by the checksum of its current content.

        An edited copy keeps the recorded `panel_checksum` attr, so that is not trusted; the substitutes come from
        the attrs.

        Parameters
        ----------
        panel : xarray.Dataset
            The panel.
        path : str, optional
            Its file ("" for none).
        checksum : str, optional
            Its content checksum where the caller has computed it (hashing a dyad panel takes seconds).

        Returns
        -------
        PanelRef
            The reference.
        """
        from data_prep.panel import content_checksum

        return cls(str(path or ""), checksum or content_checksum(panel), str(panel.attrs.get("substitutes", "")),
                   str(Path(path).resolve()) if path else "")

    def file_to_read(self, what: str, remedy: str) -> str:
        """Find the data file to rebuild a fit's model from.

        The recorded path (a relative one from the current folder), else the absolute path it had when the fit was
        made.

        Parameters
        ----------
        what : str
            What needs the file, to begin the error message with (e.g. "model m4").
        remedy : str
            How to give the data instead, to end it with (e.g. "pass panel=").

        Returns
        -------
        str
            The file's path.

        Raises
        ------
        ValueError
            If the fit records no file (its data were held in memory) or neither path is a file.
        """
        if not self.path:
            raise ValueError(f"{what}: the fit records no data file (it was fitted on data held in memory); {remedy}")
        for candidate in (self.path, self.absolute):
            if candidate and Path(candidate).is_file():
                return candidate
        moved = f" nor at {self.absolute}" if self.absolute and self.absolute != self.path else ""
        raise ValueError(f"{what}: the data file the fit records, {self.path}, is not found from {Path.cwd()}{moved}; "
                         f"run from the folder the fit was made in or {remedy}")


def _legacy_priors(config: dict) -> dict:
    """Read a recorded prior config as the current parser does.

    Fits made before the count intercept took `applies_to` had it at the positive rows' covariate means.
    """
    count = config.get("count_intercept")
    if isinstance(count, dict) and "applies_to" not in count:
        config = {**config, "count_intercept": {**count, "applies_to": "at_means"}}
    return config


@dataclass(frozen=True)
class FitRecord:
    """Everything a saved fit records about itself.

    Parameters
    ----------
    spec : models.specs.ModelSpec
        The model's spec (formula, family, sample, ...).
    priors : dict of str to models.priors.Prior
        The priors by group.
    method : str
        "marginal" or "plain".
    sampler : inference.settings.SamplerSettings
        The sampler settings (sampler, draws, tune, chains, seed, target_accept, adaptation, ess_min).
    quadrature : models.quadrature.QuadratureOptions
        The marginal method's quadrature settings.
    standardiser : models.builders.Standardiser
        How the covariates were standardised for sampling (each term's mean and sd).
    count_standardiser : models.builders.Standardiser or None
        The same for a hurdle's count part (None for other families).
    panel : PanelRef
        The panel the fit was made from.
    n_rows : int
        Estimation rows.
    n_groups : int
        Groups of the group intercept (0 without one).
    n_events : int
        Rows with a positive outcome.
    diagnostics_passed : bool
        Whether the fit passed its diagnostics gate.
    diagnostics_problems : tuple of str, optional
        What failed the gate (empty when it passed).
    sampling_seconds : float, optional
        Time spent sampling.
    wall_seconds : float, optional
        Time spent in all, post-processing included.
    versions : dict of str to str, optional
        The versions of the packages that made the fit.
    numerics : str, optional
        How the log density was computed (strict IEEE float64, so that the draws depend only on the seed).
    prior_set : str, optional
        The prior set of a refit ("" for a fit of its own).

    Examples
    --------
    >>> from inference.store import load_fit_with_record
    >>> tree, record = load_fit_with_record("build/fits/m4_marginal.nc")
    >>> record.sampler.draws, record.wall_seconds, record.diagnostics_passed
    """

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

    def describe_priors(self) -> list[str]:
        """Say in words which priors the fit used: one sentence per prior group of its family.

        Returns
        -------
        list of str
            E.g. "Group sd: HalfNormal(sigma=1.5) on the sd of the dyad intercepts."
        """
        from models.priors import describe_priors

        spec = self.spec
        names = [spec.group] if spec.group else []
        names += [g.name for g in spec.parsed.sampled]  # (their slopes' sds, if any, take the same prior)
        grouping = " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]
        return describe_priors(self.priors, self.family.priors, grouping or None, spec.year_effects)

    def to_attrs(self) -> dict[str, Any]:
        """Write the record as netCDF attrs: plain strings and numbers, structured values as JSON.

        The model's name, label, formula and family are also written out plainly for people reading the file with
        other tools; the format version goes with them.

        Returns
        -------
        dict of str to Any
            The attrs.
        """
        return {
            FORMAT_KEY: FORMAT_VERSION, "model": self.spec.name, "model_label": self.spec.label,
            "formula": self.spec.formula, "family": self.spec.family, "spec": json.dumps(asdict(self.spec)),
            "priors": json.dumps(priors_config(self.priors)), "method": self.method,
            "sampler": json.dumps(asdict(self.sampler)), "quadrature": json.dumps(asdict(self.quadrature)),
            "standardiser": json.dumps(self.standardiser.to_dict()),
            "count_standardiser": json.dumps(self.count_standardiser.to_dict() if self.count_standardiser else None),
            "panel_path": self.panel.path, "panel_path_absolute": self.panel.absolute,
            "panel_checksum": self.panel.checksum, "substitutes": self.panel.substitutes,
            "n_rows": int(self.n_rows), "n_groups": int(self.n_groups),
            "n_events": int(self.n_events), "diagnostics_passed": int(self.diagnostics_passed),
            "diagnostics_problems": json.dumps(list(self.diagnostics_problems)),
            "sampling_seconds": float(self.sampling_seconds), "wall_seconds": float(self.wall_seconds),
            "versions": json.dumps(self.versions), "numerics": self.numerics, "prior_set": self.prior_set,
        }

    @classmethod
    def from_attrs(cls, attrs: dict, source: str = "the fit") -> "FitRecord":
        """Read the record from a fit's attrs.

        Parameters
        ----------
        attrs : dict
            The fit's attrs, as `to_attrs` wrote them.
        source : str, optional
            The fit's name in error messages, e.g. its file (default: "the fit").

        Returns
        -------
        FitRecord
            The record.

        Raises
        ------
        FitFileError
            If the attrs are of another format version or cannot be read, naming `source` and saying how to refit.
        """
        version = attrs.get(FORMAT_KEY)
        if version is None or int(version) != FORMAT_VERSION:
            found = "no format version" if version is None else f"fit format {int(version)}"
            raise FitFileError(f"{source}: written by another version of coupproof ({found}; this version reads "
                               f"format {FORMAT_VERSION}); {REFIT_HINT}")
        try:
            return cls(
                spec=_spec(json.loads(attrs["spec"])),
                priors=parse_priors(_legacy_priors(json.loads(attrs["priors"])), f"{source}: its priors"),
                method=str(attrs["method"]),
                sampler=SamplerSettings(**{"warm_start": "none", **json.loads(attrs["sampler"])}),  # older: cold
                quadrature=QuadratureOptions(**json.loads(attrs["quadrature"])),
                standardiser=_standardiser(json.loads(attrs["standardiser"])),
                count_standardiser=_standardiser(json.loads(attrs["count_standardiser"])),
                panel=PanelRef(str(attrs["panel_path"]), str(attrs["panel_checksum"]), str(attrs["substitutes"]),
                               str(attrs.get("panel_path_absolute", ""))),  # (fits saved before December 7: none)
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
        """Copy the record with some fields changed (e.g. the prior set of a refit).

        Parameters
        ----------
        **changes
            The fields to change and their new values.

        Returns
        -------
        FitRecord
            The copy.
        """
        return replace(self, **changes)


def _spec(values: dict) -> ModelSpec:
    return ModelSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def _standardiser(values: dict | None) -> Standardiser | None:
    if values is None:
        return None
    return Standardiser(tuple(values["terms"]), np.asarray(values["mean"], float), np.asarray(values["sd"], float))


def fit_record(tree: xr.DataTree, source: str = "the fit") -> FitRecord:
    """Read the record of a fitted DataTree (the one reader of its attrs).

    Parameters
    ----------
    tree : xarray.DataTree
        The fit.
    source : str, optional
        The fit's name in error messages, e.g. its file (default: "the fit").

    Returns
    -------
    FitRecord
        The record.

    Raises
    ------
    FitFileError
        If the fit's attrs are of another format version or cannot be read.
    """
    return FitRecord.from_attrs(tree.attrs, source)


def with_record(tree: xr.DataTree, record: FitRecord) -> xr.DataTree:
    """Write `record` into `tree`'s attrs, in place.

    Parameters
    ----------
    tree : xarray.DataTree
        The fit.
    record : FitRecord
        Its record.

    Returns
    -------
    xarray.DataTree
        `tree` itself, for chaining.
    """
    tree.attrs.update(record.to_attrs())
    return tree
