"""Tests for data_prep.frames: integer codes, lags by re-keying the year, 'in the last k years' flags, spells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data_prep.frames import any_in_last_years, as_int_codes, lag, years_in_spells


def _rows(frame: pd.DataFrame, columns) -> set[tuple]:
    return set(frame[list(columns)].itertuples(index=False, name=None))


# ---------------------------------------------------------------------------------------------- as_int_codes

def test_as_int_codes_casts_listed_columns_only_and_copies():
    frame = pd.DataFrame({"ccode": [2.0, 20.0], "year": [1960.0, 1961.0], "value": [0.5, 1.5]})
    out = as_int_codes(frame, ["ccode", "year"])
    assert out["ccode"].dtype == np.int64 and out["year"].dtype == np.int64
    assert out["ccode"].tolist() == [2, 20] and out["year"].tolist() == [1960, 1961]
    assert out["value"].dtype == np.float64 and out["value"].tolist() == [0.5, 1.5]
    # the input is left untouched
    assert frame["ccode"].dtype == np.float64


def test_as_int_codes_rejects_missing_codes():
    frame = pd.DataFrame({"ccode": [2.0, np.nan], "year": [1960, 1961]})
    with pytest.raises((ValueError, TypeError)):
        as_int_codes(frame, ["ccode"])


# ---------------------------------------------------------------------------------------------- lag

def test_lag_rekeys_year_forward():
    frame = pd.DataFrame({"ccode": [2, 2, 20], "year": [2000, 2001, 2000], "x": [1.0, 2.0, 7.0],
                          "other": ["a", "b", "c"]})
    out = lag(frame, ["ccode"], ["x"])
    assert list(out.columns) == ["ccode", "year", "x"]
    assert _rows(out, ["ccode", "year", "x"]) == {(2, 2001, 1.0), (2, 2002, 2.0), (20, 2001, 7.0)}
    # the input frame is not modified
    assert frame["year"].tolist() == [2000, 2001, 2000]


def test_lag_gaps_stay_missing_when_merged_back():
    # ccode 2 has no row for 2002: its 2003 lag must be missing, not the 2001 value (row shifting would give 2.0).
    frame = pd.DataFrame({"ccode": [2, 2, 2, 20, 20], "year": [2000, 2001, 2003, 2000, 2001],
                          "x": [1.0, 2.0, 4.0, 10.0, 11.0]})
    previous = lag(frame, ["ccode"], ["x"]).rename(columns={"x": "x_lag"})
    merged = frame.merge(previous, on=["ccode", "year"], how="left").set_index(["ccode", "year"])["x_lag"]
    assert np.isnan(merged[(2, 2000)])
    assert merged[(2, 2001)] == 1.0
    assert np.isnan(merged[(2, 2003)])
    # lags never leak across states
    assert np.isnan(merged[(20, 2000)])
    assert merged[(20, 2001)] == 10.0


def test_lag_several_years_and_columns():
    frame = pd.DataFrame({"ccode": [2, 2, 2], "year": [2000, 2001, 2002], "x": [1, 2, 3], "y": [5, 6, 7]})
    out = lag(frame, ["ccode"], ["x", "y"], years=2)
    assert _rows(out, ["ccode", "year", "x", "y"]) == {(2, 2002, 1, 5), (2, 2003, 2, 6), (2, 2004, 3, 7)}


def test_lag_with_dyad_keys():
    frame = pd.DataFrame({"a": [2, 20], "b": [20, 2], "year": [1990, 1990], "x": [1, 0]})
    out = lag(frame, ["a", "b"], ["x"])
    assert _rows(out, ["a", "b", "year", "x"]) == {(2, 20, 1991, 1), (20, 2, 1991, 0)}


# ---------------------------------------------------------------------------------------------- any_in_last_years

def test_any_in_last_years_window_covers_event_year_and_next_window_minus_one_years():
    events = pd.DataFrame({"ccode": [2], "year": [2000]})
    out = any_in_last_years(events, ["ccode"], 5, "recent")
    assert list(out.columns) == ["ccode", "year", "recent"]
    assert sorted(out["year"]) == [2000, 2001, 2002, 2003, 2004]
    assert (out["recent"] == 1).all() and (out["ccode"] == 2).all()


def test_any_in_last_years_edges():
    # Year t = 2010 with a 5-year window: an event in t-4 (2006) counts, one in t-5 (2005) does not.
    inside = any_in_last_years(pd.DataFrame({"ccode": [2], "year": [2006]}), ["ccode"], 5, "flag")
    outside = any_in_last_years(pd.DataFrame({"ccode": [2], "year": [2005]}), ["ccode"], 5, "flag")
    assert 2010 in set(inside["year"])
    assert 2010 not in set(outside["year"])
    assert 2009 in set(outside["year"])
    # nothing before the event year
    assert inside["year"].min() == 2006


def test_any_in_last_years_duplicates_and_overlaps_collapse():
    events = pd.DataFrame({"ccode": [2, 2, 2, 20], "year": [2000, 2000, 2002, 2000], "extra": [1, 2, 3, 4]})
    out = any_in_last_years(events, ["ccode"], 3, "flag")
    assert not out.duplicated(["ccode", "year"]).any()
    assert _rows(out, ["ccode", "year"]) == {
        (2, 2000), (2, 2001), (2, 2002), (2, 2003), (2, 2004),
        (20, 2000), (20, 2001), (20, 2002),
    }
    assert len(out) == 8
    assert out.index.tolist() == list(range(8))


def test_any_in_last_years_window_one_is_the_event_year_only():
    events = pd.DataFrame({"ccode": [2, 2], "year": [1990, 1995]})
    out = any_in_last_years(events, ["ccode"], 1, "flag")
    assert _rows(out, ["ccode", "year", "flag"]) == {(2, 1990, 1), (2, 1995, 1)}


def test_any_in_last_years_empty_events():
    events = pd.DataFrame({"ccode": pd.Series([], dtype="int64"), "year": pd.Series([], dtype="int64")})
    out = any_in_last_years(events, ["ccode"], 5, "flag")
    assert len(out) == 0 and "flag" in out.columns


# ---------------------------------------------------------------------------------------------- years_in_spells

def test_years_in_spells_inclusive():
    spells = pd.DataFrame({"ccode": [2, 200], "styear": [1990, 1995], "endyear": [1992, 1996], "junk": [0, 0]})
    out = years_in_spells(spells, ["ccode"], "styear", "endyear")
    assert list(out.columns) == ["ccode", "year"]
    assert out["year"].dtype == np.int64
    assert list(out.itertuples(index=False, name=None)) == [
        (2, 1990), (2, 1991), (2, 1992), (200, 1995), (200, 1996)]


def test_years_in_spells_single_year_and_zero_length():
    spells = pd.DataFrame({"ccode": [2, 20, 200], "s": [1990, 2000, 1980], "e": [1990, 1999, 1981]})
    out = years_in_spells(spells, ["ccode"], "s", "e")
    # start == end gives one row; end < start (zero length) gives none
    assert list(out.itertuples(index=False, name=None)) == [(2, 1990), (200, 1980), (200, 1981)]


def test_years_in_spells_all_empty():
    spells = pd.DataFrame({"ccode": [2], "s": [2000], "e": [1990]})
    out = years_in_spells(spells, ["ccode"], "s", "e")
    assert len(out) == 0


def test_years_in_spells_multiple_keys_keep_overlapping_spells():
    spells = pd.DataFrame({"rivalryno": [1, 2], "ccode": [2, 2], "s": [1950, 1951], "e": [1951, 1951]})
    out = years_in_spells(spells, ["rivalryno", "ccode"], "s", "e")
    assert list(out.itertuples(index=False, name=None)) == [(1, 2, 1950), (1, 2, 1951), (2, 2, 1951)]
