"""Tests for the per-source steps (states, polity, ssf, coups, gwf, capabilities, conflict, atop) and io.atomic_write,
on hand-made fixtures with hand-computed answers, plus one integration check against the real raw files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_prep import atop, capabilities, conflict, coups, gwf, polity, ssf, states
from data_prep.frames import years_in_spells
from data_prep.io import atomic_write, atomic_write_text

NAN = float("nan")
RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "raw"


def _records(frame: pd.DataFrame, columns) -> list[tuple]:
    return list(frame[list(columns)].itertuples(index=False, name=None))


def _as_dict(frame: pd.DataFrame, value: str, keys=("ccode", "year")) -> dict:
    return {tuple(k): v for *k, v in frame[[*keys, value]].itertuples(index=False, name=None)}


def _same(a, b) -> bool:
    """Equality that treats NaN == NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _assert_mapping(actual: dict, expected: dict) -> None:
    assert set(actual) == set(expected)
    bad = {k: (actual[k], expected[k]) for k in expected if not _same(float(actual[k]), float(expected[k]))}
    assert not bad, bad


# ================================================================================================ states

def test_directed_dyad_years_renames_casts_and_filters():
    ddy = pd.DataFrame({"ccode1": [2.0, 20.0, 2.0, 20.0], "ccode2": [20.0, 2.0, 20.0, 2.0],
                        "year": [1954.0, 1954.0, 1955.0, 1955.0]})
    out = states.directed_dyad_years(ddy, 1955, 2010)
    assert list(out.columns) == ["ccode_a", "ccode_b", "year"]
    assert _records(out, out.columns) == [(2, 20, 1955), (20, 2, 1955)]
    assert out["ccode_a"].dtype == np.int64


def test_system_members_and_major_power_years():
    ddy = pd.DataFrame({"ccode1": [20.0, 2.0, 2.0, 20.0], "ccode2": [2.0, 20.0, 20.0, 2.0],
                        "year": [1990.0, 1990.0, 1991.0, 1991.0]})
    assert _records(states.system_members(ddy), ["ccode", "year"]) == [(2, 1990), (20, 1990), (2, 1991), (20, 1991)]
    majors = pd.DataFrame({"ccode": [2.0, 255.0, 255.0], "styear": [1898.0, 1925.0, 1991.0],
                           "endyear": [1900.0, 1925.0, 1991.0], "stmonth": [1, 1, 1]})
    out = years_in_spells(states.major_powers(majors), ["ccode"], "styear", "endyear")
    assert _records(out, ["ccode", "year"]) == [(2, 1898), (2, 1899), (2, 1900), (255, 1925), (255, 1991)]


def test_state_abbreviations_latest_for_reused_code():
    cow = pd.DataFrame({"ccode": [2.0, 255.0, 255.0, 260.0], "stateabb": ["USA", "GMY", "GER", "GFR"]})
    out = states.state_abbreviations(cow)
    assert out.to_dict() == {2: "USA", 255: "GER", 260: "GFR"}


# ================================================================================================ polity

def _polity5(rows):
    return pd.DataFrame(rows, columns=["polity_annual_ccode", "cown", "year", "polity", "polity2", "byear"])


def test_polity_country_years_maps_to_cow_and_resolves_transition_duplicates():
    raw = _polity5([
        (2.0, 2.0, 2000.0, 10.0, 10.0, NAN),
        # Ethiopia 1993: Polity 529 (new unit, listed first) and 530 both map to COW 530 -> keep 530 (own code),
        # even though 529 is the lower Polity code.
        (529.0, 530.0, 1993.0, -88.0, 0.0, 1993.0),
        (530.0, 530.0, 1993.0, -88.0, 0.0, NAN),
        (529.0, 530.0, 1994.0, -88.0, 1.0, NAN),
        # Serbia 2006: Polity 347 and 342 both map to COW 345, neither equals it -> keep the lower Polity code 342.
        (347.0, 345.0, 2006.0, 6.0, 6.0, NAN),
        (342.0, 345.0, 2006.0, 8.0, 8.0, 2006.0),
        # Sudan 2011: own code 625 kept over Sudan-North 626.
        (626.0, 625.0, 2011.0, -4.0, -4.0, 2011.0),
        (625.0, 625.0, 2011.0, -2.0, -2.0, NAN),
        # a Polity unit with no COW code is dropped
        (999.0, NAN, 2000.0, 5.0, 5.0, NAN),
    ])
    out = polity.polity_country_years(raw)
    assert list(out.columns) == ["ccode", "year", "polity", "polity2", "byear"]
    assert out["ccode"].dtype == np.int64 and out["year"].dtype == np.int64
    assert out.index.tolist() == list(range(5))
    got = _records(out, ["ccode", "year", "polity", "polity2"])
    assert got == [(2, 2000, 10.0, 10.0), (345, 2006, 8.0, 8.0), (530, 1993, -88.0, 0.0),
                   (530, 1994, -88.0, 1.0), (625, 2011, -2.0, -2.0)]
    byear = out.set_index(["ccode", "year"])["byear"]
    # a regime start recorded by either unit of a transition year is kept (no start is lost)
    assert byear[(530, 1993)] == 1993.0 and byear[(345, 2006)] == 2006.0 and byear[(625, 2011)] == 2011.0
    assert np.isnan(byear[(530, 1994)])


def test_new_regime_window():
    years = list(range(1990, 2001))
    cy = pd.DataFrame({"ccode": [2] * len(years), "year": years, "polity": 0.0, "polity2": 0.0,
                       "byear": [1992.0 if y == 1992 else NAN for y in years]})
    # a second state with a regime start in 1999 and Polity coverage only 1997-2000
    cy = pd.concat([cy, pd.DataFrame({"ccode": 20, "year": [1997, 1998, 1999, 2000], "polity": 0.0,
                                      "polity2": 0.0, "byear": [NAN, NAN, 1999.0, NAN]})], ignore_index=True)
    out = polity.new_regime(cy)
    assert list(out.columns) == ["ccode", "year", "new_regime"]
    assert out["new_regime"].dtype == np.int64
    assert len(out) == len(cy)  # exactly the Polity country-years
    flags = _as_dict(out, "new_regime")
    # 1992 start counts in 1992..1996 (t-4..t), not in 1997 (t-5) and not before the start
    assert [flags[(2, y)] for y in years] == [0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0]
    assert [flags[(20, y)] for y in (1997, 1998, 1999, 2000)] == [0, 0, 1, 1]

    short = _as_dict(polity.new_regime(cy, window=2), "new_regime")
    assert [short[(2, y)] for y in years] == [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]


# ================================================================================================ ssf

def test_ssf_recode_to_cow():
    frame = pd.DataFrame({
        "ccode": [255, 255, 255, 255, 315, 315, 315, 679, 679, 679, 2],
        "year": [1955, 1990, 1991, 2010, 1992, 1993, 2010, 1960, 1989, 1990, 1990],
    })
    out = ssf.recode_to_cow(frame)
    assert out["ccode"].tolist() == [260, 260, 255, 255, 315, 316, 316, 678, 678, 679, 2]
    assert frame["ccode"].tolist()[0] == 255  # input untouched


def test_ssf_counterweights():
    raw = pd.DataFrame([
        (2.0, 1959.0, NAN),  # no count: dropped
        (2.0, 1960.0, 0.0), (2.0, 1961.0, 0.0), (2.0, 1962.0, 1.0), (2.0, 1963.0, 0.0), (2.0, 1965.0, 4.0),
        (255.0, 1989.0, 2.0), (255.0, 1990.0, 3.0), (255.0, 1991.0, 3.0), (255.0, 1992.0, 1.0),
        (315.0, 1992.0, 1.0), (315.0, 1993.0, 2.0),
        (679.0, 1988.0, 1.0), (679.0, 1989.0, 1.0), (679.0, 1990.0, 2.0),
    ], columns=["ccode", "year", "cbcount"])
    raw["other"] = "x"
    out = ssf.counterweights(raw)
    assert list(out.columns) == ["ccode", "year", "counterweights", "counterbalancing", "new_counterweight"]
    assert out["ccode"].dtype == np.int64 and out["year"].dtype == np.int64
    assert _records(out, ["ccode", "year"]) == [
        (2, 1960), (2, 1961), (2, 1962), (2, 1963), (2, 1965),
        (255, 1991), (255, 1992), (260, 1989), (260, 1990),
        (315, 1992), (316, 1993), (678, 1988), (678, 1989), (679, 1990)]
    expected_count = [0, 0, 1, 0, 4, 3, 1, 2, 3, 1, 2, 1, 1, 2]
    assert out["counterweights"].tolist() == expected_count
    np.testing.assert_allclose(out["counterbalancing"], np.log(1 + np.array(expected_count, dtype=float)))
    assert out.loc[out["counterweights"] == 4, "counterbalancing"].iloc[0] == pytest.approx(1.6094379124341003)
    # new_counterweight: 1 when the count rose, 0 when equal or fell, NaN in a (COW) state's first year or after a gap
    expected_new = [NAN, 0.0, 1.0, 0.0, NAN,   # 2: 1965 follows a gap (no 1964)
                    NAN, 0.0,                  # 255 (unified Germany) starts in 1991 under COW codes
                    NAN, 1.0,                  # 260: 2 -> 3
                    NAN, NAN,                  # 315 then 316 (a new COW state in 1993)
                    NAN, 0.0,                  # 678
                    NAN]                       # 679 from 1990
    got = out["new_counterweight"].tolist()
    assert all(_same(g, e) for g, e in zip(got, expected_new, strict=True)), got


# ================================================================================================ coups

def test_recent_coup_counts_failed_and_successful():
    pt = pd.DataFrame({"ccode": [100.0, 100.0, 101.0, 102.0], "year": [1960.0, 1962.0, 1970.0, 1980.0],
                       "coup": [1, 2, 2, 0]})
    out = coups.recent_coup(pt)
    assert list(out.columns) == ["ccode", "year", "recent_coup"]
    assert sorted(_records(out, ["ccode", "year"])) == (
        [(100, y) for y in range(1960, 1967)] + [(101, y) for y in range(1970, 1975)])
    assert (out["recent_coup"] == 1).all()
    # 102 had no attempt (coup 0 is not an attempt)
    assert 102 not in set(out["ccode"])


def test_recent_coup_window_and_coverage():
    pt = pd.DataFrame({"ccode": [100, 100], "year": [1960, 1966], "coup": [1, 1]})
    out = coups.recent_coup(pt, window=3)
    assert sorted(out["year"]) == [1960, 1961, 1962, 1966, 1967, 1968]
    assert coups.coverage_years(pt) == (1960, 1966)


# ================================================================================================ gwf

def _gwf():
    return pd.DataFrame([
        (255.0, 1990.0, "military"),
        (255.0, 1991.0, "NA"),
        (678.0, 1990.0, "military"),
        (678.0, 1991.0, "military"),
        (2.0, 2000.0, "NA"),
        (100.0, 1970.0, "military-personal"),
        (101.0, 1970.0, "indirect military"),
        (102.0, 1970.0, "party-military"),
        (103.0, 1970.0, "personal"),
    ], columns=["cowcode", "year", "gwf_regimetype"])


def test_military_regime_pure_military_only_and_code_recoding():
    out = gwf.military_regime(_gwf())
    assert list(out.columns) == ["ccode", "year", "military_regime"]
    assert out["military_regime"].dtype == np.int64
    assert _records(out, out.columns) == [
        (260, 1990, 1), (255, 1991, 0), (678, 1990, 1), (679, 1991, 1), (2, 2000, 0),
        (100, 1970, 0), (101, 1970, 0), (102, 1970, 0), (103, 1970, 0)]


def test_military_regime_include_indirect():
    out = gwf.military_regime(_gwf(), include_indirect=True)
    assert _as_dict(out, "military_regime") == {
        (260, 1990): 1, (255, 1991): 0, (678, 1990): 1, (679, 1991): 1, (2, 2000): 0,
        (100, 1970): 0, (101, 1970): 1, (102, 1970): 0, (103, 1970): 0}


# ================================================================================================ capabilities

def test_capabilities_missing_codes_and_changes():
    nmc = pd.DataFrame([
        (2.0, 1990.0, 100.0, 10.0, 0.20),
        (2.0, 1991.0, -9.0, 12.0, 0.21),
        (2.0, 1992.0, 130.0, 11.0, -9.0),
        (2.0, 1994.0, 150.0, 11.0, 0.19),
        (2.0, 1995.0, 145.0, 15.0, 0.18),
        (20.0, 1990.0, 5.0, 1.0, 0.01),
    ], columns=["ccode", "year", "milex", "milper", "cinc"])
    out = capabilities.capabilities(nmc)
    assert list(out.columns) == ["ccode", "year", "cinc", "milex_change", "milper_change"]
    assert _records(out, ["ccode", "year"]) == [(2, 1990), (2, 1991), (2, 1992), (2, 1994), (2, 1995), (20, 1990)]
    _assert_mapping(_as_dict(out, "cinc"), {
        (2, 1990): 0.20, (2, 1991): 0.21, (2, 1992): NAN, (2, 1994): 0.19, (2, 1995): 0.18, (20, 1990): 0.01})
    _assert_mapping(_as_dict(out, "milex_change"), {
        (2, 1990): NAN,   # first year
        (2, 1991): NAN,   # -9 is missing, not a value
        (2, 1992): NAN,   # previous year missing
        (2, 1994): NAN,   # no 1993 row
        (2, 1995): -5.0,
        (20, 1990): NAN})
    _assert_mapping(_as_dict(out, "milper_change"), {
        (2, 1990): NAN, (2, 1991): 2.0, (2, 1992): -1.0, (2, 1994): NAN, (2, 1995): 4.0, (20, 1990): NAN})


# ================================================================================================ conflict

def test_recent_mid():
    gml = pd.DataFrame([
        (1, 2.0, 365.0, 1950.0, 1), (1, 365.0, 2.0, 1950.0, 1),
        (1, 2.0, 365.0, 1951.0, 1), (1, 365.0, 2.0, 1951.0, 1),
        (2, 100.0, 101.0, 1960.0, 0), (2, 101.0, 100.0, 1960.0, 0),
    ], columns=["dispnum", "ccode1", "ccode2", "year", "gmlmidongoing"])
    out = conflict.recent_mid(gml)
    assert list(out.columns) == ["ccode", "year", "recent_mid"]
    assert sorted(_records(out, ["ccode", "year"])) == (
        [(2, y) for y in range(1950, 1956)] + [(365, y) for y in range(1950, 1956)])
    assert (out["recent_mid"] == 1).all()
    short = conflict.recent_mid(gml, window=2)
    assert sorted(_records(short, ["ccode", "year"])) == [
        (2, 1950), (2, 1951), (2, 1952), (365, 1950), (365, 1951), (365, 1952)]


def test_rivalry_counts_overlap_and_open_end():
    td = pd.DataFrame([
        (1, "USA-USSR", 2.0, 365.0, 1947.0, 1950.0),
        (2, "USA-China", 2.0, 710.0, 1949.0, NAN),  # still running: runs to last_year
    ], columns=["rivalryno", "rivalryname", "ccode1", "ccode2", "styear", "endyear"])
    out = conflict.rivalry_counts(td, last_year=1952)
    assert list(out.columns) == ["ccode", "year", "rivalries"]
    assert _as_dict(out, "rivalries") == {
        (2, 1947): 1, (2, 1948): 1, (2, 1949): 2, (2, 1950): 2, (2, 1951): 1, (2, 1952): 1,
        (365, 1947): 1, (365, 1948): 1, (365, 1949): 1, (365, 1950): 1,
        (710, 1949): 1, (710, 1950): 1, (710, 1951): 1, (710, 1952): 1}


# ================================================================================================ atop

def _atop_fixture():
    alliances = pd.DataFrame([
        (1001, 1960, 0, 1, 1, 5.1),   # bilateral defense pact
        (1002, 1960, 0, 1, 0, 5.1),   # bilateral, not defense
        (1003, 1965, 0, 0, 1, 5.1),   # multilateral defense
        (1004, 1970, 0, 1, 1, 5.1),   # bilateral defense; successor states enter in 1993
        (1005, 1980, 0, 1, 1, 5.1),   # bilateral defense; member 2 has two phase rows
    ], columns=["atopid", "begyr", "endyr", "bilat", "defense", "version"])
    members = pd.DataFrame([
        (1001, 2.0, 1960.0, 0.0, 1), (1001, 20.0, 1960.0, 0.0, 1),
        (1002, 2.0, 1960.0, 0.0, 1), (1002, 365.0, 1960.0, 0.0, 1),
        (1003, 2.0, 1965.0, 0.0, 1), (1003, 20.0, 1965.0, 0.0, 1), (1003, 200.0, 1965.0, 0.0, 1),
        (1004, 315.0, 1970.0, 1992.0, 1), (1004, 2.0, 1970.0, 0.0, 1),
        (1004, 316.0, 1993.0, 0.0, 2), (1004, 317.0, 1993.0, 0.0, 2),
        (1005, 2.0, 1980.0, 0.0, 1), (1005, 2.0, 1980.0, 0.0, 2), (1005, 700.0, 1980.0, 0.0, 1),
    ], columns=["atopid", "member", "yrent", "yrexit", "phase"])
    return alliances, members


def test_new_bilateral_defense_pacts():
    alliances, members = _atop_fixture()
    out = atop.new_bilateral_defense_pacts(alliances, members)
    assert list(out.columns) == ["atopid", "ccode_a", "ccode_b", "year"]
    assert out["ccode_a"].dtype == np.int64 and out["year"].dtype == np.int64
    assert _records(out, out.columns) == [
        (1001, 2, 20, 1960), (1001, 20, 2, 1960),
        (1004, 2, 315, 1970), (1004, 315, 2, 1970),
        (1005, 2, 700, 1980), (1005, 700, 2, 1980)]
    # no row for the 1993 successor entries, the non-defense pact or the multilateral pact
    assert 1993 not in set(out["year"]) and not {1002, 1003} & set(out["atopid"])
    assert not {316, 317} & (set(out["ccode_a"]) | set(out["ccode_b"]))


def test_new_bilateral_defense_pacts_none():
    alliances, members = _atop_fixture()
    out = atop.new_bilateral_defense_pacts(alliances[alliances["defense"] == 0], members)
    assert len(out) == 0


def test_alliance_flags_and_shared_defense_pacts_symmetric():
    ddy = pd.DataFrame([
        (2.0, 20.0, 1990.0, 1.0, 0.0, 0.0, 0.0, 0.0),          # only one direction given
        (2.0, 20.0, 1991.0, 1.0, 0.0, 0.0, 0.0, NAN),          # both directions given
        (20.0, 2.0, 1991.0, 1.0, 0.0, 0.0, 0.0, 0.0),
        (2.0, 200.0, 1990.0, 0.0, 1.0, NAN, 0.0, 0.0),         # offense only: not a defense pact
        (2.0, 365.0, 1990.0, NAN, 0.0, 0.0, 1.0, 0.0),         # missing defense flag -> 0
    ], columns=["ccode1", "ccode2", "year", "atop_defense", "atop_offense", "atop_neutral", "atop_nonagg",
                "atop_consul"])
    flags = atop.alliance_flags(ddy)
    assert (flags.dtypes == np.int64).all()
    assert flags["atop_defense"].tolist() == [1, 1, 1, 0, 0]
    assert flags["atop_consul"].tolist() == [0, 0, 0, 0, 0]
    out = atop.shared_defense_pacts(flags)
    assert list(out.columns) == ["ccode_a", "ccode_b", "year", "shared_defense_pact"]
    assert not out.duplicated(["ccode_a", "ccode_b", "year"]).any()
    triples = set(_records(out, ["ccode_a", "ccode_b", "year"]))
    assert triples == {(2, 20, 1990), (20, 2, 1990), (2, 20, 1991), (20, 2, 1991)}
    assert triples == {(b, a, y) for a, b, y in triples}
    assert (out["shared_defense_pact"] == 1).all()


# ================================================================================================ io

def test_atomic_write_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out" / "panel.csv"

    def bad_writer(tmp: Path) -> None:
        tmp.write_text("half written")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        atomic_write(target, bad_writer)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # no temporary file left


def test_atomic_write_failure_keeps_previous_content(tmp_path):
    target = tmp_path / "panel.csv"
    target.write_text("old")

    def bad_writer(tmp: Path) -> None:
        tmp.write_text("new but broken")
        raise ValueError("nope")

    with pytest.raises(ValueError):
        atomic_write(target, bad_writer)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["panel.csv"]


def test_atomic_write_success(tmp_path):
    target = tmp_path / "nested" / "dir" / "panel.csv"
    seen = []

    def writer(tmp: Path) -> None:
        seen.append(tmp)
        assert tmp.parent == target.parent and tmp != target
        tmp.write_text("a,b\n1,2\n")

    assert atomic_write(str(target), writer) == target
    assert target.read_text() == "a,b\n1,2\n"
    assert not seen[0].exists()
    assert sorted(p.name for p in target.parent.iterdir()) == ["panel.csv"]
    assert atomic_write_text(target, "replaced") == target
    assert target.read_text() == "replaced"


# ================================================================================================ integration

@pytest.mark.integration
def test_real_raw_files_match_source_notes():
    if not RAW.is_dir():
        pytest.skip(f"{RAW} not available")
    from data_prep.sources import RawData

    raw = RawData(RAW)

    # ssf/SOURCE.md: cbcount non-missing 1960-2010, values 0-9 with the stated distribution
    cw = ssf.counterweights(raw.load("ssf"))
    assert (cw["year"].min(), cw["year"].max()) == (1960, 2010)
    assert len(cw) == 5042
    assert cw["counterweights"].value_counts().sort_index().to_dict() == {
        0: 1695, 1: 1619, 2: 1103, 3: 438, 4: 130, 5: 18, 6: 24, 7: 11, 8: 2, 9: 2}
    assert not cw.duplicated(["ccode", "year"]).any()
    spans = cw.groupby("ccode")["year"].agg(["min", "max"])
    assert tuple(spans.loc[260]) == (1960, 1990) and tuple(spans.loc[255]) == (1991, 2010)
    assert tuple(spans.loc[315]) == (1960, 1992) and tuple(spans.loc[316]) == (1993, 2010)
    assert cw.loc[cw["ccode"] == 365, "counterweights"].max() == 9

    # atop/SOURCE.md: 83 ATOP 5.1 bilateral defense alliances begin 1960-2010 -> 166 directed rows
    alliances = raw.load("atop_alliances")
    assert ((alliances["bilat"] == 1) & (alliances["defense"] == 1) & alliances["begyr"].between(1960, 2010)).sum() == 83
    pacts = atop.new_bilateral_defense_pacts(alliances, raw.load("atop_members"))
    window = pacts[pacts["year"].between(1960, 2010)]
    assert len(window) == 166 and window["atopid"].nunique() == 83
    pairs = set(_records(window, ["atopid", "ccode_a", "ccode_b", "year"]))
    assert pairs == {(i, b, a, y) for i, a, b, y in pairs}

    # coups_pt/SOURCE.md: 488 events (243 successful, 245 failed), 435 of them in 1955-2010
    pt = raw.load("coups")
    assert len(pt) == 488 and pt["coup"].value_counts().to_dict() == {1: 245, 2: 243}
    assert pt["year"].between(1955, 2010).sum() == 435
    assert coups.coverage_years(pt) == (1950, 2022)

    # gwf/SOURCE.md: 288 "military" and 37 "indirect military" country-years
    regimes = raw.load("gwf")
    assert gwf.military_regime(regimes)["military_regime"].sum() == 288
    assert gwf.military_regime(regimes, include_indirect=True)["military_regime"].sum() == 288 + 37

    # checksums recorded by RawData equal those in the SOURCE.md files
    assert raw.checksums["ssf/secret police repression_replication data.dta"] == (
        "c4e828e685a52583d6dc40f36a4f98b839c31c0993db376b01256b59807f087a")
    assert raw.checksums["atop/atop5_1a.csv"] == "eafd146fa5c5bc2737ae829288c87d01c990a55fbc82dcc2dc08b94c0d7b5b7d"
    assert raw.checksums["coups_pt/ptcoups.csv"] == "eef151f4878dc4059f7ba8054d61c946a26887f0a60adec655f2d169a8c70de0"
    assert raw.checksums["gwf/GWF_AllPoliticalRegimes.dta"] == (
        "3bb3978e8eda1d0b6e96dde050383486f4cd760a5715942beb0b46d97855f86c")
