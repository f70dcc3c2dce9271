"""A stage result read from a folder, written to another and read again is the same result: every table, figure
and text it holds (the check the stage tests share)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr


def same(a, b, where: str = "result") -> None:
    """Assert that two stage results (or parts of them) hold the same values, recursively."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for field in dataclasses.fields(a):
            same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(a, pd.DataFrame):
        a, b = (t.reset_index(drop=True).astype(object).where(t.reset_index(drop=True).notna(), np.nan)
                for t in (a, b))
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=where)
    elif isinstance(a, xr.Dataset):
        xr.testing.assert_equal(a, b[list(a.data_vars)])
    elif isinstance(a, dict):
        assert set(a) == set(b), (where, set(a) ^ set(b))
        for key in a:
            same(a[key], b[key], f"{where}[{key!r}]")
    else:
        assert a == b, where


def assert_round_trip(result_class, folder: Path, copy: Path):
    """Read a stage's result from `folder`, write it to `copy`, read it back: the two are the same. Returns the
    result read."""
    first = result_class.read(folder)
    first.write(copy)
    same(first, result_class.read(copy), result_class.__name__)
    return first
