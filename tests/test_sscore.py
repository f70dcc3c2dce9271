"""Tests for data_prep.sscore: tie ranking and hand-computed Signorino-Ritter S-scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data_prep.sscore import alliance_ties, s_scores

FLAGS = ["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"]


def _ddy(rows):
    """rows: (ccode1, ccode2, year, defense, offense, neutral, nonagg, consul)."""
    return pd.DataFrame(rows, columns=["ccode1", "ccode2", "year", *FLAGS])


def _members(codes, years=(2000,)):
    return pd.DataFrame([(c, y) for y in years for c in codes], columns=["ccode", "year"])


def test_alliance_ties_ranks_strongest_obligation():
    ddy = _ddy([
        (1, 2, 2000, 1, 0, 0, 1, 1),  # defense + others -> 3
        (1, 3, 2000, 0, 1, 0, 0, 0),  # offense -> 3
        (1, 4, 2000, 0, 0, 1, 1, 0),  # neutrality + nonagg -> 2
        (1, 5, 2000, 0, 0, 0, 1, 1),  # consultation + nonagg -> 2 (consultation outranks nonaggression)
        (1, 6, 2000, 0, 0, 0, 1, 0),  # nonaggression only -> 1
        (1, 7, 2000, 0, 0, 0, 0, 0),  # nothing -> dropped
    ])
    got = alliance_ties(ddy)
    assert list(got.columns) == ["ccode1", "ccode2", "year", "tie"]
    assert dict(zip(got["ccode2"], got["tie"])) == {2: 3, 3: 3, 4: 2, 5: 2, 6: 1}


# Four states in 2000; ties (directed): 2<->20 defense, 2<->200 nonaggression, 200->365 consultation only.
# Tie matrix (rows i, columns k = 2, 20, 200, 365; self-ties 3):
#   2:   3 3 1 0
#   20:  3 3 0 0
#   200: 1 0 3 2
#   365: 0 0 0 3
# N = 4, Delta = 3, d_max = 12, S = 1 - 2 d / 12.
HAND_UNWEIGHTED = {
    (2, 20): 1 - 2 * 1 / 12,      # d = 0+0+1+0
    (2, 200): 1 - 2 * 9 / 12,     # d = 2+3+2+2
    (2, 365): 1 - 2 * 10 / 12,    # d = 3+3+1+3
    (20, 200): 1 - 2 * 10 / 12,   # d = 2+3+3+2
    (20, 365): 1 - 2 * 9 / 12,    # d = 3+3+0+3
    (200, 365): 1 - 2 * 5 / 12,   # d = 1+0+3+1
}
# CINC weights 0.4, 0.1, 0.2, 0.3 (sum 1): d_max = 3, S = 1 - 2 d_w / 3.
HAND_WEIGHTED = {
    (2, 20): 1 - 2 * (0.2 * 1) / 3,
    (2, 200): 1 - 2 * (0.4 * 2 + 0.1 * 3 + 0.2 * 2 + 0.3 * 2) / 3,
    (200, 365): 1 - 2 * (0.4 * 1 + 0.2 * 3 + 0.3 * 1) / 3,
}


@pytest.fixture
def four_state():
    ddy = _ddy([
        (2, 20, 2000, 1, 0, 0, 0, 0), (20, 2, 2000, 1, 0, 0, 0, 0),
        (2, 200, 2000, 0, 0, 0, 1, 0), (200, 2, 2000, 0, 0, 0, 1, 0),
        (200, 365, 2000, 0, 0, 0, 0, 1),
        (2, 999, 2000, 1, 0, 0, 0, 0),  # tie to a non-member: ignored
        (2, 20, 1999, 1, 0, 0, 0, 0),   # other year, no members listed: ignored
    ])
    return alliance_ties(ddy), _members([2, 20, 200, 365])


def test_s_scores_unweighted_hand_computed(four_state):
    ties, members = four_state
    got = s_scores(ties, members)
    assert list(got.columns) == ["ccode1", "ccode2", "year", "s"]
    assert len(got) == 6 and (got["ccode1"] < got["ccode2"]).all() and (got["year"] == 2000).all()
    for (a, b), expected in HAND_UNWEIGHTED.items():
        value = got.loc[(got["ccode1"] == a) & (got["ccode2"] == b), "s"].item()
        assert value == pytest.approx(expected, abs=1e-12), (a, b)


def test_s_scores_weighted_hand_computed(four_state):
    ties, members = four_state
    cinc = pd.DataFrame({"ccode": [2, 20, 200, 365], "year": 2000, "cinc": [0.4, 0.1, 0.2, 0.3]})
    got = s_scores(ties, members, weights=cinc)
    for (a, b), expected in HAND_WEIGHTED.items():
        value = got.loc[(got["ccode1"] == a) & (got["ccode2"] == b), "s"].item()
        assert value == pytest.approx(expected, abs=1e-12), (a, b)


def test_s_scores_years_window_and_identical_portfolios():
    members = _members([1, 2, 3], years=(1990, 1991, 1992))
    got = s_scores(alliance_ties(_ddy([])), members, years=(1991, 1992))
    assert sorted(got["year"].unique()) == [1991, 1992]
    # No alliances: each pair differs only in the two self-ties: d = 6, S = 1 - 12/9.
    assert np.allclose(got["s"], 1 - 2 * 6 / 9)


def test_s_scores_matches_bruteforce_reference():
    rng = np.random.default_rng(7)
    codes = np.array([2, 20, 40, 70, 90, 200, 220, 255])
    rows = []
    for i in codes:
        for k in codes:
            if i != k and rng.random() < 0.5:
                flags = (rng.random(5) < 0.3).astype(int)
                rows.append((i, k, 1950, *flags))
    ties = alliance_ties(_ddy(rows))
    got = s_scores(ties, _members(codes, years=(1950,)))
    a = pd.DataFrame(0, index=codes, columns=codes)
    for r in ties.itertuples():
        a.loc[r.ccode1, r.ccode2] = r.tie
    for c in codes:
        a.loc[c, c] = 3
    for r in got.itertuples():
        d = np.abs(a.loc[r.ccode1] - a.loc[r.ccode2]).sum()
        assert r.s == pytest.approx(1 - 2 * d / (len(codes) * 3))
