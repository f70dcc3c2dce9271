"""Your own table as a model's data: a pandas DataFrame, an xarray Dataset of any dims, or a file (.csv, .parquet,
.dta, .rds/.rda, .nc) becomes a dataset with one row per observation (dim `row`, every row in the sample), the
shape the model layer reads, so a dyad-year table from peacesciencer, a replication archive or a spreadsheet fits
like the project's own panels. A panel written by `coupproof data` is read as it is."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .schemas import DataError

TABLE_DESIGN = "table"  # the design attr of a dataset made from a user table
FORMATS = (".csv", ".parquet", ".dta", ".rds", ".rda", ".rdata", ".nc")
LIMIT_ENV = "COUPPROOF_TABLE_LIMIT_MB"  # a table larger than this (file or frame in memory) is refused; unset: none


def check_size(size_bytes: int, what: str) -> None:
    """Refuse a table over the size limit the user set in $COUPPROOF_TABLE_LIMIT_MB (one line naming it)."""
    limit = os.environ.get(LIMIT_ENV, "").strip()
    if not limit:
        return
    try:
        megabytes = float(limit)
    except ValueError:
        raise DataError(f"{LIMIT_ENV}={limit!r} is not a number of megabytes") from None
    if size_bytes > megabytes * 1e6:
        raise DataError(f"{what}: {size_bytes / 1e6:,.3g} MB, over the {megabytes:,g} MB limit set in {LIMIT_ENV}")


def read_r(path: Path, name: str | None = None) -> pd.DataFrame:
    """The data frame `name` of an R file (.rds, .rda), or its only one when no name is given (the raw sources
    name theirs)."""
    import pyreadr

    objects = pyreadr.read_r(str(path))
    if name is not None:
        if name not in objects:
            raise DataError(f"{path}: R object '{name}' not found (found: {', '.join(objects) or 'none'})")
        return objects[name]
    frames = {key: frame for key, frame in objects.items() if isinstance(frame, pd.DataFrame)}
    if len(frames) != 1:
        raise DataError(f"{path}: holds {len(frames)} data frames ({', '.join(frames) or 'none'}); save one")
    return next(iter(frames.values()))


def read_stata(path: Path) -> pd.DataFrame:
    """A Stata .dta file's data."""
    import pyreadstat

    return pyreadstat.read_dta(str(path))[0]


def _read_netcdf(path: Path) -> pd.DataFrame:
    try:
        return dataset_frame(xr.load_dataset(path, engine="h5netcdf"))
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None


READERS = {".csv": lambda p: pd.read_csv(p, low_memory=False), ".parquet": pd.read_parquet, ".dta": read_stata,
           ".rds": read_r, ".rda": read_r, ".rdata": read_r, ".nc": _read_netcdf}


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A table file as a DataFrame, by its extension; a missing, empty, unreadable or unknown file is one DataError
    naming it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise DataError(f"{path}: unknown table format {suffix or '(no extension)'}; use {', '.join(FORMATS)}")
    if not path.is_file():
        raise DataError(f"{path}: table file not found")
    check_size(path.stat().st_size, str(path))
    try:
        frame = READERS[suffix](path)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - each reader fails its own way on a damaged file
        raise DataError(f"{path}: cannot be read as a {suffix} table ({type(exc).__name__}: "
                        f"{' '.join(str(exc).split())[:300]})") from None
    if frame.empty:
        raise DataError(f"{path}: the table has no rows")
    return frame


def is_project_panel(ds: xr.Dataset) -> bool:
    """Whether a dataset is a panel written by `coupproof data` (its rows marked by `in_panel`, a schema version)."""
    return "in_panel" in ds and "schema_version" in ds.attrs


def dataset_frame(ds: xr.Dataset) -> pd.DataFrame:
    """A dataset of any dims as a long frame, its coordinates as columns (a project panel: its rows in the panel)."""
    if is_project_panel(ds):
        from .panel import panel_to_frame

        return panel_to_frame(ds)
    if not ds.data_vars:
        raise DataError("the dataset has no variables")
    return ds.to_dataframe().reset_index()


def table_dataset(frame: pd.DataFrame, source: str = "") -> xr.Dataset:
    """A long frame as a dataset with one row per observation (dim `row`), every row in the sample; `source` is the
    file it was read from, recorded in `encoding` as xarray records the files it reads."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"a table is a pandas DataFrame, got {type(frame).__name__}")
    if frame.empty:
        raise DataError("the table has no rows")
    if not source:
        check_size(int(frame.memory_usage(deep=True).sum()), "the table in memory")
    if any(name is not None for name in frame.index.names):  # e.g. indexed by (ccode1, ccode2, year): keep them
        frame = frame.reset_index()
    named = [str(c) for c in frame.columns]
    if len(set(named)) != len(named):
        repeated = sorted({c for c in named if named.count(c) > 1})
        raise DataError(f"the table has repeated column names: {', '.join(repeated)}")
    frame = frame.set_axis(named, axis=1).reset_index(drop=True).rename_axis("row")
    ds = xr.Dataset.from_dataframe(frame)
    ds["in_panel"] = ("row", np.ones(len(frame), dtype=bool))
    ds.attrs["design"] = TABLE_DESIGN
    if source:  # the file's content as read, so that a copy changed in memory no longer names the file
        from .panel import content_checksum

        ds.encoding["source"] = str(Path(source).resolve())
        ds.attrs["panel_checksum"] = content_checksum(ds)
    return ds


def as_dataset(data) -> xr.Dataset:
    """A model's data as a dataset: a project panel as it is; a DataFrame, another dataset or a table file made into
    one (table_dataset)."""
    if isinstance(data, xr.Dataset):
        if is_project_panel(data):
            return data
        return table_dataset(dataset_frame(data), data.encoding.get("source", ""))
    if isinstance(data, pd.DataFrame):
        return table_dataset(data)
    if isinstance(data, (str, os.PathLike)):
        return load_data(data)
    raise DataError(f"data are a pandas DataFrame, an xarray Dataset or a table file, got {type(data).__name__}")


def load_data(path: str | os.PathLike) -> xr.Dataset:
    """A panel written by `coupproof data` (checked by read_panel) or any other table file, as a dataset."""
    path = Path(path)
    if path.suffix.lower() == ".nc" and path.is_file():
        try:
            with xr.open_dataset(path, engine="h5netcdf") as probe:
                ours = "schema_version" in probe.attrs
        except Exception:  # noqa: BLE001 - read_table names the problem
            ours = False
        if ours:
            from .panel import read_panel

            return read_panel(path)
    return table_dataset(read_table(path), str(path))
