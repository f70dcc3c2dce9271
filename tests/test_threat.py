"""Tests for data_prep.threat: PRIE membership, threshold, alliance exclusion, threat sums, validation."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_prep.sscore import alliance_ties, s_scores
from data_prep.threat import (
    ThreatOptions,
    external_threat,
    politically_relevant_dyads,
    sscore_threshold,
    validate_against_leeds_savun,
)

FLAGS = ["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"]
RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "raw"


def _ddy(rows):
    """Symmetric rows (a, b, year, defense, offense, neutral, nonagg, consul), both directions emitted."""
    out = [r for a, b, *rest in rows for r in ((a, b, *rest), (b, a, *rest))]
    return pd.DataFrame(out, columns=["ccode1", "ccode2", "year", *FLAGS])


def _contig(rows):
    return pd.DataFrame(
        [r for a, b, t, s, e in rows for r in ((a, b, t, s, e), (b, a, t, s, e))],
        columns=["ccode1", "ccode2", "conttype", "stdate", "enddate"])


def _pairs(prd, year=1900):
    sub = prd[prd["year"] == year]
    return set(zip(sub["ccode1"], sub["ccode2"]))


# ---------------------------------------------------------------------------------------------- options

def test_options_defaults_and_validation():
    o = ThreatOptions()
    assert (o.alliance_exclusion, o.major_prie, o.sscore, o.regional_powers, o.max_contiguity_type,
            o.threshold_years, o.colonial) == ("four", "whole_system", "unweighted", "off", 5, (1816, 2010), "off")
    with pytest.raises(ValueError, match="alliance_exclusion"):
        ThreatOptions(alliance_exclusion="six")
    with pytest.raises(ValueError, match="major_prie"):
        ThreatOptions(major_prie="none")
    with pytest.raises(ValueError, match="sscore"):
        ThreatOptions(sscore="kappa")
    with pytest.raises(ValueError, match="regional_powers"):
        ThreatOptions(regional_powers="on")
    with pytest.raises(ValueError, match="max_contiguity_type"):
        ThreatOptions(max_contiguity_type=6)
    with pytest.raises(ValueError, match="threshold_years"):
        ThreatOptions(threshold_years=(2010, 1816))
    with pytest.raises(ValueError, match="colonial contiguity file is not in the raw data"):
        ThreatOptions(colonial="on_if_data")


# ---------------------------------------------------------------------------------------------- PRIE

@pytest.fixture
def prie_inputs():
    members = pd.DataFrame([(c, y) for y in (1899, 1900) for c in (2, 20, 40, 70, 90)], columns=["ccode", "year"])
    contiguity = _contig([
        (20, 40, 1, "1890-01-01", "1950-12-31"),
        (40, 70, 5, "1900-06-01", "1900-08-01"),   # water contiguity, only in 1900
        (70, 90, 1, "1880-01-01", "1899-12-31"),   # ended before 1900
    ])
    majors = pd.DataFrame({"ccode": [2], "styear": [1816], "endyear": [2016]})
    return members, contiguity, majors


def test_prie_whole_system_major(prie_inputs):
    prd = politically_relevant_dyads(*prie_inputs, ThreatOptions())
    assert list(prd.columns) == ["ccode1", "ccode2", "year"]
    expected = {(2, 20), (2, 40), (2, 70), (2, 90),            # the major's PRIE is the whole system
                (20, 2), (40, 2), (70, 2), (90, 2),            # every state has the major in its PRIE
                (20, 40), (40, 20), (40, 70), (70, 40)}        # contiguity in force in 1900
    assert _pairs(prd) == expected
    assert (70, 90) in _pairs(prd, 1899) and (40, 70) not in _pairs(prd, 1899)


def test_prie_contig_majors_and_contiguity_type(prie_inputs):
    prd = politically_relevant_dyads(*prie_inputs, ThreatOptions(major_prie="contig_majors"))
    assert not {p for p in _pairs(prd) if p[0] == 2}             # major with no neighbours: empty PRIE
    assert (20, 2) in _pairs(prd)
    prd4 = politically_relevant_dyads(*prie_inputs, ThreatOptions(max_contiguity_type=4))
    assert (40, 70) not in _pairs(prd4) and (20, 40) in _pairs(prd4)


def test_prie_maoz_regional_powers():
    members = pd.DataFrame({"ccode": [2, 20, 140, 200], "year": 1980})
    majors = pd.DataFrame({"ccode": [200], "styear": [1816], "endyear": [2016]})
    contiguity = _contig([])
    rp = pd.DataFrame({"ccode": [140, 710], "regstdate": ["1970-01-01", "1950-01-01"],
                       "regenddate": ["2019-12-31", None]})
    prd = politically_relevant_dyads(members, contiguity, majors, ThreatOptions(regional_powers="maoz"), rp)
    pairs = _pairs(prd, 1980)
    assert {(2, 140), (20, 140), (140, 2), (140, 20)} <= pairs     # Brazil is an Americas regional power
    assert (200, 140) in pairs and (140, 200) in pairs             # via the major (whole system), not the region
    assert not any(710 in p for p in pairs)                        # not a member: ignored
    base = politically_relevant_dyads(members, contiguity, majors, ThreatOptions())
    assert (2, 140) not in _pairs(base, 1980)
    with pytest.raises(ValueError, match="regional_powers"):
        politically_relevant_dyads(members, contiguity, majors, ThreatOptions(regional_powers="maoz"))


# ---------------------------------------------------------------------------------------------- threat

# Five states in 1900, 2 a major; contiguity 20-40. Ties: 2<->20 nonaggression, 40<->70 defense,
# 20<->90 consultation. Tie matrix (k = 2, 20, 40, 70, 90): 2: 3 1 0 0 0 | 20: 1 3 0 0 2 | 40: 0 0 3 3 0 |
# 70: 0 0 3 3 0 | 90: 0 2 0 0 3.  N = 5, d_max = 15.
S_HAND = {(2, 20): 1 - 2 * 6 / 15, (2, 40): 1 - 2 * 10 / 15, (2, 70): 1 - 2 * 10 / 15,
          (2, 90): 1 - 2 * 7 / 15, (20, 40): 1 - 2 * 12 / 15}
# Undirected politically relevant dyads: 2 with everyone, plus 20-40: mean S = -1/5.
THRESHOLD_HAND = sum(S_HAND.values()) / len(S_HAND)
CINC = {2: 0.5, 20: 0.1, 40: 0.2, 70: 0.15, 90: 0.05}


@pytest.fixture
def threat_inputs():
    members = pd.DataFrame({"ccode": list(CINC), "year": 1900})
    atop = _ddy([(2, 20, 1900, 0, 0, 0, 1, 0), (40, 70, 1900, 1, 0, 0, 0, 0), (20, 90, 1900, 0, 0, 0, 0, 1)])
    contiguity = _contig([(20, 40, 1, "1816-01-01", "2016-12-31")])
    majors = pd.DataFrame({"ccode": [2], "styear": [1816], "endyear": [2016]})
    cinc = pd.DataFrame({"ccode": list(CINC), "year": 1900, "cinc": list(CINC.values())})
    return members, atop, contiguity, majors, cinc


def test_threshold_pools_undirected_relevant_dyads(threat_inputs):
    members, atop, contiguity, majors, _ = threat_inputs
    ss = s_scores(alliance_ties(atop), members)
    for (a, b), s in S_HAND.items():
        assert ss.loc[(ss["ccode1"] == a) & (ss["ccode2"] == b), "s"].item() == pytest.approx(s)
    prd = politically_relevant_dyads(members, contiguity, majors, ThreatOptions())
    assert sscore_threshold(ss, prd, (1816, 2010)) == pytest.approx(THRESHOLD_HAND) == pytest.approx(-0.2)
    # Years outside the window are not pooled.
    extra = pd.DataFrame({"ccode1": [2], "ccode2": [20], "year": [1700], "s": [100.0]})
    prd_extra = pd.concat([prd, pd.DataFrame({"ccode1": [2], "ccode2": [20], "year": [1700]})])
    assert sscore_threshold(pd.concat([ss, extra]), prd_extra, (1816, 2010)) == pytest.approx(-0.2)


def test_external_threat_hand_computed(threat_inputs):
    threat, meta = external_threat(*threat_inputs)
    got = dict(zip(threat["ccode"], threat["threat"]))
    # Threshold -0.2: 2 faces 40 and 70 (S -1/3); 20 faces 40 (S -0.6); 40 faces 20 and 2; 70 faces 2
    # (its PRIE is only the major; 40 is an ally anyway); 90 faces nobody (S with 2 is 1/15) -> 0.
    assert got == pytest.approx({2: 0.35, 20: 0.2, 40: 0.6, 70: 0.5, 90: 0.0})
    assert meta["threshold"] == pytest.approx(-0.2)
    assert meta["options"]["alliance_exclusion"] == "four"
    assert list(threat.columns) == ["ccode", "year", "threat"]


def test_alliance_exclusion_and_threshold_strictness(threat_inputs):
    # With threshold 0.5, 2's candidates are 20 (S 0.2, nonaggression partner), 40, 70, 90 (S 1/15).
    four, _ = external_threat(*threat_inputs, threshold=0.5)
    five, _ = external_threat(*threat_inputs, ThreatOptions(alliance_exclusion="five"), threshold=0.5)
    assert four.set_index("ccode").loc[2, "threat"] == pytest.approx(0.1 + 0.2 + 0.15 + 0.05)
    assert five.set_index("ccode").loc[2, "threat"] == pytest.approx(0.2 + 0.15 + 0.05)
    # Defense partners 40-70 are never adversaries: 70's PRIE here is just 2.
    # "Below" is strict: at threshold exactly S(2, 20) = 0.2, 20 is not an adversary of 2.
    at, _ = external_threat(*threat_inputs, threshold=S_HAND[(2, 20)])
    assert at.set_index("ccode").loc[2, "threat"] == pytest.approx(0.2 + 0.15 + 0.05)


def test_contig_majors_option_changes_only_the_major(threat_inputs):
    threat, meta = external_threat(*threat_inputs, ThreatOptions(major_prie="contig_majors"))
    got = dict(zip(threat["ccode"], threat["threat"]))
    assert meta["threshold"] == pytest.approx(-0.2)
    assert got == pytest.approx({2: 0.0, 20: 0.2, 40: 0.6, 70: 0.5, 90: 0.0})


def test_validate_against_leeds_savun():
    ours = pd.DataFrame({"ccode": [2, 2, 20, 20, 40], "year": [1960, 1961, 1960, 1961, 1950],
                         "threat": [0.5, 0.3, 0.1, 0.2, 0.9]})
    ls = pd.DataFrame({"ccode": [2, 2, 20, 20, 40], "year": [1960, 1961, 1960, 1961, 1950],
                       "lsthreat": [0.500001, 0.304, 0.2, 0.2, 0.0]})
    v = validate_against_leeds_savun(ours, ls, years=(1960, 2000))
    assert v["n"] == 4 and v["n_exact"] == 2 and v["share_exact"] == 0.5
    assert v["share_within_0005"] == 0.75
    assert v["mean_threat"] == pytest.approx(0.275) and v["mean_lsthreat"] == pytest.approx(0.30100025)
    assert v["r"] == pytest.approx(np.corrcoef([0.5, 0.3, 0.1, 0.2], [0.500001, 0.304, 0.2, 0.2])[0, 1])


# ---------------------------------------------------------------------------------------------- real data

@pytest.mark.integration
def test_real_data_us_1960_matches_leeds_savun():
    if not RAW.is_dir():
        pytest.skip(f"{RAW} is absent")
    pyreadr = pytest.importorskip("pyreadr")
    ps = RAW / "peacesciencer"

    def rda(name):
        return pyreadr.read_r(str(ps / f"{name}.rda"))[name]

    states = rda("cow_states").dropna(subset=["ccode", "styear", "endyear"]).astype(
        {"ccode": int, "styear": int, "endyear": int})
    members = pd.DataFrame([(c, y) for c, a, b in states[["ccode", "styear", "endyear"]].itertuples(index=False)
                            for y in range(a, min(b, 2010) + 1)], columns=["ccode", "year"]).drop_duplicates()
    atop = rda("atop_alliance").astype(int)
    contiguity = rda("cow_contdir").astype({"ccode1": int, "ccode2": int, "conttype": int})
    majors = rda("cow_majors")[["ccode", "styear", "endyear"]].astype(int)
    cinc = rda("cow_nmc")[["ccode", "year", "cinc"]].astype({"ccode": int, "year": int})
    leeds_savun = pd.read_csv(RAW / "validation" / "leeds-savun-threat.csv")

    start = time.perf_counter()
    threat, meta = external_threat(members, atop, contiguity, majors, cinc)
    elapsed = time.perf_counter() - start
    assert elapsed < 30
    assert len(threat) == len(members)
    assert 0.68 < meta["threshold"] < 0.70
    us = threat.set_index(["ccode", "year"])["threat"]
    assert abs(us.loc[(2, 1960)] - 0.476339) < 1e-3

    # A short window with the full-period threshold reproduces the full run.
    window = members[members["year"].between(1960, 1965)]
    short, _ = external_threat(window, atop, contiguity, majors, cinc, threshold=meta["threshold"])
    full = threat[threat["year"].between(1960, 1965)].reset_index(drop=True)
    pd.testing.assert_frame_equal(short.reset_index(drop=True), full)

    v = validate_against_leeds_savun(threat, leeds_savun, (1960, 2000))
    assert v["n"] > 5000 and v["r"] > 0.75
