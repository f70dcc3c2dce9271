"""Concession counts (data_prep.concessions) on hand-made ATOP member rows with hand-computed answers, plus one
integration check on the real ATOP 5.1 member file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_prep.concessions import (FLAG, ConcessionOptions, concession_counts, concession_metadata,
                                   load_concession_items)

RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "raw"

# Four items: two member-level, two alliance-level; autonomy = x, y, z; broad = x, w.
CONFIG = """
[[item]]
item = "x"
variable = "xm"
level = "M"
rule = "binary"
lists = ["autonomy", "broad"]

[[item]]
item = "y"
variable = "ym"
level = "M"
rule = "ordinal_sum"
lists = ["autonomy"]

[[item]]
item = "z"
variable = "za"
level = "A"
rule = "ordinal_sum"
lists = ["autonomy"]

[[item]]
item = "w"
variable = "wa"
level = "A"
rule = "binary"
lists = ["broad"]

[[item]]
item = "unused"
variable = "ua"
level = "A"
rule = "binary"
lists = []
"""

COLUMNS = ["atopid", "member", "phase", "yrent", "moent", "dayent", "xm", "ym", "za", "wa", "ua"]
NAN = np.nan


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "items.toml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
def members() -> pd.DataFrame:
    rows = [
        # alliance 1 (no phases): A has x=1, y=3; B has x=0, y=NaN (missing); z=2 and w=1 for the alliance,
        # but B's row lacks z (NaN): alliance-level codes are credited to both members.
        (1, 100, 0, 1960, 1, 1, 1, 3, 2, 1, 1),
        (1, 200, 0, 1960, 1, 1, 0, NAN, NAN, 1, 1),
        # alliance 2 (phased): member 300 formed it in phase 1 (1970) and renewed in phase 2 (1975) with
        # different codes; the later phase is listed first. Formation row = phase 1.
        (2, 300, 2, 1975, 1, 1, 1, 2, 3, 1, 0),
        (2, 300, 1, 1970, 6, 1, 0, 1, 1, 0, 0),
        (2, 400, 1, 1970, 6, 1, 1, 0, 1, 0, 0),
        (2, 400, 2, 1975, 1, 1, 1, 2, 3, 1, 0),
        # alliance 3: everything missing for both members (treaty text not found).
        (3, 500, 0, 1980, 1, 1, NAN, NAN, NAN, NAN, NAN),
        (3, 600, 0, 1980, 1, 1, NAN, NAN, NAN, NAN, NAN),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


@pytest.fixture
def pacts() -> pd.DataFrame:
    rows = [(1, 100, 200, 1960), (1, 200, 100, 1960), (2, 300, 400, 1970), (2, 400, 300, 1970),
            (3, 500, 600, 1980)]
    return pd.DataFrame(rows, columns=["atopid", "ccode_a", "ccode_b", "year"])


def _counts(members, pacts, config, **kw) -> pd.DataFrame:
    return concession_counts(members, pacts, ConcessionOptions(config_path=config, **({"item_list": "autonomy"} | kw)))


def test_binary_scoring_autonomy(members, pacts, config):
    out = _counts(members, pacts, config)
    # member 100: x 1 + y(3>0) 1 + z(2>0) 1 = 3; member 200: x 0 + y missing 0 + z credited 1 = 1
    # member 300 phase 1: x 0 + y 1 + z 1 = 2; member 400 phase 1: x 1 + y 0 + z 1 = 2
    assert out["concessions_a"].tolist() == [3, 1, 2, 2, 0]
    assert out["concessions_b"].tolist() == [1, 3, 2, 2, 0]
    assert out["concessions_a_missing"].tolist() == [0, 1, 0, 0, 3]
    assert out["concessions_b_missing"].tolist() == [1, 0, 0, 0, 3]


def test_ordinal_sum_scoring(members, pacts, config):
    out = _counts(members, pacts, config, scoring="ordinal_sum")
    # member 100: x 1 + y 3 + z 2 = 6; member 200: 0 + 0 + 2 = 2; 300: 0 + 1 + 1 = 2; 400: 1 + 0 + 1 = 2
    assert out["concessions_a"].tolist() == [6, 2, 2, 2, 0]
    assert out["concessions_b"].tolist() == [2, 6, 2, 2, 0]


def test_broad_item_list(members, pacts, config):
    out = _counts(members, pacts, config, item_list="broad")
    # x + w: 100 -> 1 + 1, 200 -> 0 + 1, 300 (phase 1) -> 0 + 0, 400 -> 1 + 0, 500 -> missing both
    assert out["concessions_a"].tolist() == [2, 1, 0, 1, 0]
    assert out["concessions_a_missing"].tolist() == [0, 0, 0, 0, 2]


def test_alliance_level_items_credited_to_both_members(members, pacts, config):
    only_z = members.assign(xm=0, ym=0)
    out = _counts(only_z, pacts, config, scoring="ordinal_sum")
    pact1 = out[out["atopid"] == 1]
    assert pact1["concessions_a"].tolist() == [2, 2]
    assert pact1["concessions_b"].tolist() == [2, 2]
    assert pact1["concessions_a_missing"].tolist() == [0, 0]  # member 200's NaN is filled by the alliance code


def test_missing_counts_zero_and_flagged(members, pacts, config):
    out = _counts(members, pacts, config, scoring="ordinal_sum")
    row = out[out["atopid"] == 3].iloc[0]
    assert row["concessions_a"] == 0 and row["concessions_b"] == 0
    assert row["concessions_a_missing"] == 3 and row["concessions_b_missing"] == 3


def test_uses_formation_row_not_later_phase(members, pacts, config):
    out = _counts(members, pacts, config, scoring="ordinal_sum")
    first = out[(out["atopid"] == 2) & (out["ccode_a"] == 300)].iloc[0]
    assert first["concessions_a"] == 2  # phase 2 would give 1 + 2 + 3 = 6
    # entry date, not row order, decides: listing phase 1 last changes nothing
    shuffled = members.iloc[::-1].reset_index(drop=True)
    pd.testing.assert_frame_equal(_counts(shuffled, pacts, config), _counts(members, pacts, config))


def test_member_without_rows_is_all_missing(members, config):
    pacts = pd.DataFrame({"atopid": [1], "ccode_a": [100], "ccode_b": [999], "year": [1960]})
    out = _counts(members, pacts, config)
    assert out.loc[0, "concessions_b"] == 0 and out.loc[0, "concessions_b_missing"] == 3


def test_output_keeps_pacts_rows_index_and_int_dtypes(members, pacts, config):
    indexed = pacts.set_index(pd.Index([10, 11, 12, 13, 14]))
    indexed["other"] = "kept"
    pacts_float = indexed.astype({"atopid": float, "ccode_a": float})
    out = _counts(members, pacts_float, config)
    assert out.index.tolist() == [10, 11, 12, 13, 14]
    assert out["other"].eq("kept").all()
    for column in ("concessions_a", "concessions_b", "concessions_a_missing", "concessions_b_missing"):
        assert out[column].dtype == np.int64
    assert list(pacts.columns) == ["atopid", "ccode_a", "ccode_b", "year"]  # input not modified


def test_missing_variable_or_pact_column_raises(members, pacts, config):
    with pytest.raises(ValueError, match="za"):
        _counts(members.drop(columns="za"), pacts, config)
    with pytest.raises(ValueError, match="ccode_b"):
        _counts(members, pacts.drop(columns="ccode_b"), config)


# ------------------------------------------------------------------------------------------- options and config

def test_options_validation():
    with pytest.raises(ValueError, match="scoring.*binary, ordinal_sum"):
        ConcessionOptions(scoring="sum")
    with pytest.raises(ValueError, match="item_list.*autonomy, broad"):
        ConcessionOptions(item_list="johnson")


def test_load_items_selects_list(config):
    items = load_concession_items(ConcessionOptions(item_list="autonomy", config_path=config))
    assert items["item"].tolist() == ["x", "y", "z"]
    assert {"item", "variable", "level", "rule"} <= set(items.columns)
    assert load_concession_items(ConcessionOptions(item_list="broad", config_path=config))["variable"].tolist() \
        == ["xm", "wa"]


@pytest.mark.parametrize("mutate, message", [
    (lambda text: text + "\n[[item]\n", "not valid TOML"),
    (lambda text: text.replace('level = "M"', 'level = "X"', 1), "unknown level 'X'"),
    (lambda text: text.replace('rule = "binary"', 'rule = "sqrt"', 1), "unknown rule 'sqrt'"),
    (lambda text: text.replace('variable = "xm"\n', "", 1), "missing key.*variable"),
    (lambda text: text.replace('lists = ["autonomy"]', 'lists = ["johnson"]', 1), "lists must be"),
    (lambda text: text.replace('variable = "ym"', 'variable = "xm"'), "duplicated variable"),
    (lambda text: "[meta]\nflag = 'x'\n", "no \\[\\[item\\]\\] tables"),
])
def test_config_errors_name_file_and_problem(tmp_path, mutate, message):
    path = tmp_path / "broken.toml"
    path.write_text(mutate(CONFIG))
    with pytest.raises(ValueError, match=message) as err:
        load_concession_items(ConcessionOptions(config_path=path))
    assert "broken.toml" in str(err.value)


def test_an_item_naming_a_variable_atop_lacks_is_refused_naming_the_table_and_item(tmp_path, config):
    from data_prep.concessions import member_item_columns
    from data_prep.sources import RawData

    atop = tmp_path / "raw" / "atop"
    atop.mkdir(parents=True)
    (atop / "atop5_1m.csv").write_text(",".join(c for c in COLUMNS if c != "za") + "\n")
    raw = RawData(tmp_path / "raw")
    assert set(member_item_columns(raw, ConcessionOptions(item_list="broad", config_path=config))) == {"xm", "wa"}
    with pytest.raises(ValueError, match=r"items.toml: item 'z' reads ATOP variable 'za', which .*atop5_1m.csv does "
                                         r"not have"):
        member_item_columns(raw, ConcessionOptions(item_list="autonomy", config_path=config))


def test_empty_list_and_missing_file(tmp_path, config):
    path = tmp_path / "only_broad.toml"
    path.write_text(CONFIG.replace('"autonomy", ', "").replace('["autonomy"]', "[]"))
    with pytest.raises(ValueError, match="only_broad.toml.*'autonomy' has no items"):
        load_concession_items(ConcessionOptions(item_list="autonomy", config_path=path))
    with pytest.raises(ValueError, match="nowhere.toml"):
        load_concession_items(ConcessionOptions(config_path=tmp_path / "nowhere.toml"))


def test_packaged_config_lists():
    assert ConcessionOptions().item_list == "broad"  # the reading closest to Table 5 (coupproof concessions)
    autonomy = load_concession_items(ConcessionOptions(item_list="autonomy"))
    assert sorted(autonomy["variable"]) == sorted(
        ["noothall", "thirdcom", "notaiden", "seppeace", "base", "subord", "intcom", "dipaid", "terrres", "interv"])
    broad = load_concession_items(ConcessionOptions(item_list="broad"))
    assert sorted(broad["variable"]) == sorted(
        ["noothall", "thirdcom", "notaiden", "terrres", "base", "intcom", "interv", "nomicoop", "ecaid", "milaid"])
    assert set(autonomy["confidence"]) <= {"likely", "plausible", "weak guess"}
    assert (autonomy.set_index("variable")["level"][["noothall", "notaiden", "base", "interv"]]
            == ["M", "M", "A", "A"]).all()
    header = Path(__file__).resolve().parents[1].joinpath("data_prep", "concession_items.toml").read_text()
    assert "UNVERIFIED against Johnson (2015)" in header


def test_metadata(config):
    meta = concession_metadata(ConcessionOptions(scoring="ordinal_sum", item_list="autonomy", config_path=config))
    assert meta["scoring"] == "ordinal_sum" and meta["item_list"] == "autonomy"
    assert meta["flag"] == FLAG == "unverified against Johnson (2015)"
    assert meta["variables"] == "xm(M,binary), ym(M,ordinal_sum), za(A,ordinal_sum)"
    assert all(isinstance(value, str) for value in meta.values())


# ------------------------------------------------------------------------------------------------- integration

@pytest.mark.integration
def test_real_atop_bilateral_defense_pacts_1960_2010():
    if not RAW.is_dir():
        pytest.skip(f"{RAW} is absent")
    alliances = pd.read_csv(RAW / "atop" / "atop5_1a.csv")
    members = pd.read_csv(RAW / "atop" / "atop5_1m.csv")
    chosen = alliances.loc[(alliances["bilat"] == 1) & (alliances["defense"] == 1)
                           & alliances["begyr"].between(1960, 2010), ["atopid", "begyr"]]
    founders = members[["atopid", "member", "yrent"]].merge(chosen, on="atopid")
    founders = founders.loc[founders["yrent"] == founders["begyr"], ["atopid", "member", "begyr"]].drop_duplicates()
    pairs = founders.merge(founders, on=["atopid", "begyr"], suffixes=("_a", "_b"))
    pacts = pairs[pairs["member_a"] != pairs["member_b"]].rename(
        columns={"member_a": "ccode_a", "member_b": "ccode_b", "begyr": "year"})[["atopid", "ccode_a", "ccode_b",
                                                                                  "year"]]
    assert chosen["atopid"].nunique() == 83

    out = concession_counts(members, pacts, ConcessionOptions(item_list="autonomy"))
    both = pd.concat([out["concessions_a"], out["concessions_b"]])
    assert both.max() == 6  # the note: the autonomy/binary count is at most 6, short of MY's 9
    assert both.min() == 0
    assert (out["concessions_a"].to_numpy() == out.set_index(["atopid", "ccode_b", "ccode_a"])
            .loc[list(zip(out["atopid"], out["ccode_a"], out["ccode_b"])), "concessions_b"].to_numpy()).all()
    # dipaid and seppeace never occur in these pacts
    never = members[members["atopid"].isin(chosen["atopid"])][["dipaid", "seppeace"]]
    assert not (never > 0).any().any()
    broad = concession_counts(members, pacts, ConcessionOptions(item_list="broad"))
    assert pd.concat([broad["concessions_a"], broad["concessions_b"]]).max() == 9
