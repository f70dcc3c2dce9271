"""Saving and loading fits (ArviZ DataTree as netCDF), atomically and with clear errors. What a fit records about
itself is read through `inference.record.FitRecord`, never by attr name."""

from __future__ import annotations

import os
from pathlib import Path

import xarray as xr

from data_prep.io import atomic_write_netcdf

from .record import FitFileError, FitRecord, fit_record

__all__ = ["FitFileError", "load_fit", "load_fit_with_record", "save_fit"]


def save_fit(idata: xr.DataTree, path: str | os.PathLike) -> Path:
    """Write a fit to netCDF via a temporary file, then rename."""
    return atomic_write_netcdf(path, idata)


MODEL_FIELDS = ("name", "formula", "family", "sample", "count_formula")  # what makes a spec another model


def load_fit_with_record(path: str | os.PathLike, expect=None) -> tuple[xr.DataTree, FitRecord]:
    """Read a fit written by `save_fit` into memory, with its record; a missing or unreadable file, a file that
    is not a fit or a fit of another format version raises FitFileError naming the file, and so does a fit of
    another model than `expect` (a ModelSpec: its name, formula, family, sample and count formula), so that no
    command reports a fit under another model's name."""
    path = Path(path)
    if not path.is_file():
        raise FitFileError(f"{path}: fit file not found; run 'coupproof fit' first")
    try:
        with xr.open_datatree(path, engine="h5netcdf") as tree:
            tree = tree.load()
    except Exception as exc:  # noqa: BLE001 - any reader failure means a corrupt file
        raise FitFileError(f"{path}: not a readable fit file ({type(exc).__name__}: {' '.join(str(exc).split())})"
                           ) from exc
    if "posterior" not in tree.children or "model" not in tree.attrs:
        raise FitFileError(f"{path}: not a fit written by 'coupproof fit' (no posterior or no record)")
    record = fit_record(tree, str(path))
    if expect is not None:
        differ = [f for f in MODEL_FIELDS if getattr(record.spec, f) != getattr(expect, f)]
        if differ:
            field = differ[0]
            what = (f"a fit of model {record.spec.name}, not of {expect.name} as asked" if field == "name" else
                    f"a fit of {expect.name} with {field} {getattr(record.spec, field)!r}, not the specs' "
                    f"{getattr(expect, field)!r}")
            raise FitFileError(f"{path}: {what}; refit it ('coupproof fit --model {expect.name}')")
    return tree, record


def load_fit(path: str | os.PathLike, expect=None) -> xr.DataTree:
    """Read a fit written by `save_fit` into memory (its record checked; see `load_fit_with_record`)."""
    return load_fit_with_record(path, expect)[0]
