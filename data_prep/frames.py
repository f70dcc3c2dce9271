"""Small pure helpers on state-year and dyad-year frames: integer codes, lags and rolling 'in the last k years' flags."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def as_int_codes(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Copy of `frame` with country-code and year columns cast to int64 (R and Stata files store them as floats)."""
    out = frame.copy()
    for column in columns:
        out[column] = out[column].astype("int64")
    return out


def lag(frame: pd.DataFrame, keys: Sequence[str], columns: Sequence[str], years: int = 1) -> pd.DataFrame:
    """Values of `columns` from `years` earlier, keyed by `keys` + year (missing where the earlier year has no row).

    Lagging by re-keying the year (not by row shifting) keeps gaps in a state's record honest.
    """
    shifted = frame[[*keys, "year", *columns]].copy()
    shifted["year"] = shifted["year"] + years
    return shifted


def any_in_last_years(events: pd.DataFrame, keys: Sequence[str], window: int, name: str) -> pd.DataFrame:
    """One row per key and year t with `name` = 1 where an event happened in years t-window+1 .. t.

    `events` has one row per event with `keys` and `year`; years without a recent event are absent (fill with 0).
    """
    base = events[[*keys, "year"]].drop_duplicates().reset_index(drop=True)
    offsets = np.arange(window)
    expanded = base.loc[base.index.repeat(window)].copy()
    expanded["year"] = expanded["year"].to_numpy() + np.tile(offsets, len(base))
    expanded = expanded.drop_duplicates()
    expanded[name] = 1
    return expanded.reset_index(drop=True)


def years_in_spells(spells: pd.DataFrame, keys: Sequence[str], start: str, end: str,
                    clip: tuple[int, int] | None = None) -> pd.DataFrame:
    """Expand spells (one row per spell with integer start and end years, inclusive) into one row per key and year,
    optionally clipped to the years `clip` = (first, last)."""
    spells = spells.reset_index(drop=True)
    starts, ends = spells[start].to_numpy(), spells[end].to_numpy()
    if clip is not None:
        starts, ends = np.maximum(starts, clip[0]), np.minimum(ends, clip[1])
    lengths = np.clip(ends - starts + 1, 0, None)
    expanded = spells.loc[spells.index.repeat(lengths), list(keys)].copy()
    within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    expanded["year"] = (np.repeat(starts, lengths) + within).astype("int64")
    return expanded.reset_index(drop=True)


def unit_year_grid(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]):
    """A function placing one value per long-frame row into a (unit, year) array at (rows, cols), every other cell
    `fill`: how each panel design reshapes its long frame into arrays."""
    def grid(values, fill, dtype) -> np.ndarray:
        out = np.full(shape, fill, dtype=dtype)
        out[rows, cols] = values
        return out
    return grid
