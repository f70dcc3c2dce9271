"""Saving and loading fits (ArviZ DataTree as netCDF), atomically and with clear errors, and reading back the
spec, priors and quadrature settings a fit records in its attrs."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import xarray as xr

from data_prep.io import atomic_write
from models.builders import Standardiser
from models.priors import Prior, parse_priors
from models.quadrature import QuadratureOptions
from models.specs import ModelSpec


class FitFileError(ValueError):
    """A fit file that is missing or cannot be read."""


REQUIRED_ATTRS = ("model", "spec", "priors", "method", "sampler", "standardiser")  # what every reader of a fit relies on


def save_fit(idata: xr.DataTree, path: str | os.PathLike) -> Path:
    """Write a fit to netCDF via a temporary file, then rename."""
    return atomic_write(path, lambda tmp: idata.to_netcdf(tmp, engine="h5netcdf"))


def load_fit(path: str | os.PathLike) -> xr.DataTree:
    """Read a fit written by `save_fit` into memory."""
    path = Path(path)
    if not path.is_file():
        raise FitFileError(f"{path}: fit file not found; run 'coupproof fit' first")
    try:
        with xr.open_datatree(path, engine="h5netcdf") as tree:
            tree = tree.load()
    except Exception as exc:  # noqa: BLE001 - any reader failure means a corrupt file
        raise FitFileError(f"{path}: not a readable fit file ({type(exc).__name__}: {' '.join(str(exc).split())})"
                           ) from exc
    missing = [a for a in REQUIRED_ATTRS if a not in tree.attrs]
    if "posterior" not in tree.children:
        missing.append("posterior")
    if missing:
        raise FitFileError(f"{path}: not a fit written by 'coupproof fit' (no {', '.join(missing)})")
    try:
        fit_spec(tree), fit_priors(tree)
    except (ValueError, TypeError) as exc:
        raise FitFileError(f"{path}: the fit's recorded spec or priors cannot be used ({exc})") from None
    return tree


def spec_json(spec: ModelSpec) -> str:
    """A spec as a fit records it (the reader is `fit_spec`)."""
    return json.dumps(asdict(spec))


def fit_spec(tree: xr.DataTree) -> ModelSpec:
    """The model spec a fit was made from."""
    values = json.loads(tree.attrs["spec"])
    if "formula" not in values:
        raise ValueError("the fit was written by an earlier version of coupproof (its spec has no formula); refit it")
    return ModelSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def passed_diagnostics(tree: xr.DataTree) -> bool:
    """Whether a saved fit passed its diagnostics gate (a fit that does not say is taken as failed)."""
    return bool(int(tree.attrs.get("diagnostics_passed", 0)))


def fit_priors(tree: xr.DataTree) -> dict[str, Prior]:
    """The priors a fit was made with."""
    return parse_priors(json.loads(tree.attrs["priors"]), "the fit's priors")


def fit_quadrature(tree: xr.DataTree) -> QuadratureOptions:
    """The quadrature settings of a fit (the defaults where it records none)."""
    return QuadratureOptions(**json.loads(tree.attrs.get("quadrature", "{}")))


def fit_standardiser(tree: xr.DataTree, part: str = "zero") -> Standardiser:
    """The column means and sds a fit standardised its design with (`part` "count": the hurdle count part's)."""
    values = json.loads(tree.attrs["count_standardiser" if part == "count" else "standardiser"])
    return Standardiser(tuple(values["terms"]), np.asarray(values["mean"]), np.asarray(values["sd"]))
