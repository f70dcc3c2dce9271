"""Integration tests: the real panel for a short window, checked against the raw files computed independently."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import pyreadstat

from data_prep.panel import PanelOptions, build_panel, panel_to_frame, read_panel, recorded_checksum, write_panel
from data_prep.sources import DataError, RawData

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def frame(short_panel) -> pd.DataFrame:
    return panel_to_frame(short_panel)


def test_state_a_is_a_nondemocracy_and_years_in_window(frame):
    assert frame["polity2_a"].max() <= 6
    assert frame["year"].min() == 1960 and frame["year"].max() == 1966
    assert not frame.duplicated(["ccode_a", "ccode_b", "year"]).any()


def test_new_pacts_match_atop_alliance_file(raw_dir, frame):
    """Every bilateral defense pact founded 1960-66 appears in both directions where A is in the panel."""
    alliances = pd.read_csv(raw_dir / "atop/atop5_1a.csv")
    pacts = alliances[(alliances.bilat == 1) & (alliances.defense == 1) & alliances.begyr.between(1960, 1966)]
    expected = set()
    for row in pacts.itertuples():
        a, b = int(row.mem1), int(row.mem2)
        expected |= {(a, b, int(row.begyr)), (b, a, int(row.begyr))}
    in_panel = set(map(tuple, frame[["ccode_a", "ccode_b", "year"]].to_numpy()))
    got = set(map(tuple, frame.loc[frame.new_defense_pact == 1, ["ccode_a", "ccode_b", "year"]].to_numpy()))
    assert got == expected & in_panel
    assert len(got) > 0


def test_counterbalancing_is_last_years_ssf_count(raw_dir, frame):
    ssf, _ = pyreadstat.read_dta(str(raw_dir / "ssf/secret police repression_replication data.dta"))
    counts = ssf.dropna(subset=["cbcount"]).set_index(["ccode", "year"])["cbcount"]
    rows = frame.dropna(subset=["counterweights_a"])
    rows = rows[~rows.ccode_a.isin([260, 316, 678])].sample(200, random_state=1)  # codes the SSF file recodes
    expected = [counts[(a, y - 1)] for a, y in zip(rows.ccode_a, rows.year)]
    np.testing.assert_array_equal(rows["counterweights_a"], expected)
    np.testing.assert_allclose(rows["counterbalancing_a"], np.log1p(expected))
    assert frame.loc[frame.year == 1960, "counterbalancing_a"].isna().all()  # SSF starts in 1960: no lag yet


def test_threat_is_lagged_one_year(raw_dir, frame):
    from data_prep.atop import alliance_flags
    from data_prep.capabilities import capabilities
    from data_prep.states import major_powers, system_members
    from data_prep.frames import as_int_codes
    from data_prep.threat import external_threat

    raw = RawData(raw_dir)
    threat, _ = external_threat(system_members(raw.load("cow_ddy")), alliance_flags(raw.load("atop_ddy")),
                                as_int_codes(raw.load("cow_contdir"), ["ccode1", "ccode2", "conttype"]),
                                major_powers(raw.load("cow_majors")),
                                capabilities(raw.load("cow_nmc"))[["ccode", "year", "cinc"]])
    lookup = threat.set_index(["ccode", "year"])["threat"]
    rows = frame.dropna(subset=["threat_b"]).sample(200, random_state=2)
    expected = [lookup[(b, y - 1)] for b, y in zip(rows.ccode_b, rows.year)]
    np.testing.assert_allclose(rows["threat_b"], expected)


def test_estimation_masks(frame):
    core = frame[["new_defense_pact", "counterbalancing_a", "threat_a", "threat_b"]].notna().all(axis=1)
    pd.testing.assert_series_equal(frame["sample_no_controls"], core, check_names=False)
    assert (frame["sample_controls"] <= frame["sample_no_controls"]).all()
    controls = frame.loc[frame.sample_controls, ["shared_defense_pact", "regime_difference", "recent_coup_a",
                                                 "new_regime_a", "military_regime_a"]]
    assert controls.notna().all().all()


def test_concessions_only_on_new_pacts(frame):
    pact = frame["new_defense_pact"] == 1
    assert frame.loc[~pact, ["concessions_a", "concessions_b"]].isna().all().all()
    assert frame.loc[pact, ["concessions_a", "concessions_b"]].notna().all().all()


def test_variable_attrs_and_provenance(short_panel, raw_dir):
    for name in ("new_defense_pact", "counterbalancing_a", "threat_a", "concessions_a"):
        assert {"long_name", "source", "lag", "description"} <= set(short_panel[name].attrs)
    checksums = json.loads(short_panel.attrs["raw_file_sha256"])
    path = "atop/atop5_1a.csv"
    assert checksums[path] == hashlib.sha256((raw_dir / path).read_bytes()).hexdigest()
    assert json.loads(short_panel.attrs["options"])["threat"]["alliance_exclusion"] == "four"


def test_write_read_round_trip_and_determinism(short_panel, raw_dir, tmp_path):
    first = write_panel(short_panel, tmp_path / "one.nc")
    again = build_panel(RawData(raw_dir), PanelOptions(start=1960, end=1966))
    second = write_panel(again, tmp_path / "two.nc")
    assert again.attrs["panel_checksum"] == short_panel.attrs["panel_checksum"]
    assert first.read_bytes() == second.read_bytes()
    loaded = read_panel(first)
    assert loaded.identical(short_panel)
    assert len(panel_to_frame(loaded)) == int(short_panel["in_panel"].sum())


def test_an_identical_panel_is_not_rewritten(short_panel, tmp_path):
    """Writing a panel with the content the file already holds leaves the file, time stamp included (so make does
    not redo the fits); another content, or a damaged file, is written."""
    import os

    path = write_panel(short_panel, tmp_path / "panel.nc")
    os.utime(path, (1_000_000_000, 1_000_000_000))
    write_panel(short_panel.copy(), path)
    assert path.stat().st_mtime == 1_000_000_000
    changed = short_panel.copy()
    changed.attrs = {**short_panel.attrs, "panel_checksum": "0" * 64}
    write_panel(changed, path)
    assert path.stat().st_mtime > 1_000_000_000 and recorded_checksum(path) == "0" * 64
    path.write_bytes(b"damaged")
    write_panel(short_panel, path)
    assert read_panel(path).identical(short_panel)


def test_read_panel_refuses_old_schema(short_panel, tmp_path):
    old = short_panel.copy()
    old.attrs = {**short_panel.attrs, "schema_version": 0}
    path = write_panel(old, tmp_path / "old.nc")
    with pytest.raises(DataError, match="schema 0 is not 1; rebuild it"):
        read_panel(path)
    with pytest.raises(DataError, match="panel file not found"):
        read_panel(tmp_path / "absent.nc")


def test_year_window_outside_coverage():
    with pytest.raises(DataError, match="outside the sources' joint coverage 1951-2010"):
        PanelOptions(start=1960, end=2015)
