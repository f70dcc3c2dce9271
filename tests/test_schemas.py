"""The declared raw-file schemas (data_prep.schemas), the years each file must cover and the check on the built
panel's variables (data_prep.validate): the real files pass, and known bad frames give the exact message."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_prep.panel import PanelOptions, panel_sources
from data_prep.schemas import (
    COVERAGE,
    SCHEMAS,
    SHARED_KEYS,
    STATE_CODES,
    check_coverage,
    check_raw_frame,
    check_shared_keys,
    check_state_codes,
    provision_code,
)
from data_prep.sources import RAW_FILES, DataError, RawData
from data_prep.validate import VARIABLE_FILES, check_derived_variables
from data_prep.variables import COUNTRY_YEAR_VARIABLES, VARIABLES

CSV_PATH = Path("/data/coups_pt/ptcoups.csv")
RDA_PATH = Path("/data/peacesciencer/cow_nmc.rda")


def _refused(key: str, frame: pd.DataFrame, path: Path, expected: str) -> None:
    """check_raw_frame raises exactly `expected`."""
    with pytest.raises(DataError, match=f"^{re.escape(expected)}$"):
        check_raw_frame(key, frame, path)


def _coups(**columns) -> pd.DataFrame:
    base = {"ccode": [2, 40, 40, 90], "year": [1960, 1961, 1961, 1962], "coup": [1, 2, 1, 2]}
    return pd.DataFrame({**base, **columns})


def _nmc(**columns) -> pd.DataFrame:
    base = {"ccode": [2.0, 2.0, 20.0], "year": [1960.0, 1961.0, 1960.0], "milex": [1.0, np.nan, 3.0],
            "milper": [5.0, 6.0, np.nan], "tpop": [180000.0, np.nan, 17000.0], "cinc": [0.2, 0.21, 0.01]}
    return pd.DataFrame({**base, **columns})


# ------------------------------------------------------------------------------------------------ declarations

def test_one_schema_per_raw_file_over_exactly_its_used_columns():
    assert set(SCHEMAS) == set(RAW_FILES)
    for key, spec in RAW_FILES.items():
        assert list(SCHEMAS[key].columns) == list(spec.columns), key
        assert set(SCHEMAS[key].unique or ()) <= set(spec.columns), key


def test_every_raw_file_has_a_coverage_rule_over_its_used_columns():
    """A file cut at a line end is refused by its rows or years, whatever the file."""
    assert set(COVERAGE) == set(RAW_FILES)
    for key, rule in COVERAGE.items():
        used = {rule.year, rule.last_year or rule.year, rule.unit or rule.year} - {None}
        assert used <= set(RAW_FILES[key].columns), key
        assert rule.year is not None or rule.min_rows > 0, key
    for child, parent, column in SHARED_KEYS:
        assert column in RAW_FILES[child].columns and column in RAW_FILES[parent].columns


def test_every_panel_variable_names_its_raw_files():
    assert set(VARIABLE_FILES) == set(VARIABLES) | set(COUNTRY_YEAR_VARIABLES)
    assert all(files and set(files) <= set(RAW_FILES) for files in VARIABLE_FILES.values())


def test_panel_sources_leave_out_the_validation_file_and_unused_regional_powers():
    assert "leeds_savun" not in panel_sources(PanelOptions())
    assert "maoz_powers" not in panel_sources(PanelOptions())
    from data_prep.threat import ThreatOptions

    assert "maoz_powers" in panel_sources(PanelOptions(threat=ThreatOptions(regional_powers="maoz")))


# ------------------------------------------------------------------------------------------------ the real files

@pytest.fixture(scope="module")
def real(raw_dir) -> RawData:
    """Every real raw file, read (and so validated) once for this module."""
    raw = RawData(raw_dir)
    for key in RAW_FILES:
        raw.load(key)
    return raw


@pytest.mark.integration
@pytest.mark.parametrize("key", list(RAW_FILES))
def test_each_schema_accepts_the_real_file(real, key):
    frame = real.load(key)
    check_raw_frame(key, frame, real.path(key))  # no error
    assert len(frame) > 0


@pytest.mark.integration
def test_real_files_cover_the_widest_supported_window(real):
    real.validate_all(panel_sources(PanelOptions()), (1951, 2010))  # no error


@pytest.mark.integration
def test_rules_relaxed_for_the_real_files_still_hold_there(real):
    """The exceptions declared in schemas.py are the ones the real files need (if one disappears, tighten it)."""
    members = real.load("atop_members")
    assert members.loc[201, ["atopid", "member"]].tolist() == [1320, 8152]
    assert members.duplicated(["atopid", "member", "phase"]).sum() == 3
    assert real.load("polity")["year"].min() == 1776
    assert real.load("polity")["cown"].isna().sum() == 76
    assert real.load("td_rivalries")["styear"].min() == 1494
    assert real.load("leeds_savun")["ccode"].isna().sum() == 7
    # the validation file has state codes only to 2008: `data --check` compares over the years it has, and its
    # coverage rule is a row floor, not the panel's window (that refused it, and `make all` with it)
    real.validate_all(["leeds_savun"], (1960, 2010))
    assert real.load("coups").duplicated(["ccode", "year"]).sum() == 67
    assert (real.load("cow_contdir")["conttype"] == 0).sum() == 180


@pytest.mark.integration
def test_first_thousand_rows_of_a_state_year_file_lack_years(real):
    head = real.load("cow_nmc").head(1000)
    path = real.path("cow_nmc")
    expected = (f"{path}: lacks years 1958-2010 that the 1960-2010 panel needs "
                f"(1958-2010; fewer than 40 distinct ccode a year); the file looks cut short")
    with pytest.raises(DataError, match=f"^{re.escape(expected)}$"):
        check_coverage("cow_nmc", head, path, (1960, 2010))


# ------------------------------------------------------------------------------------------------ bad frames

def test_non_numeric_cell_names_row_line_column_and_value():
    frame = _coups(ccode=["2", "40", "4O", "90"])
    _refused("coups", frame, CSV_PATH, f"{CSV_PATH}: row 3 (line 4), column 'ccode': '4O' is not a number")


def test_rows_without_lines_for_r_and_stata_files():
    frame = _nmc(year=[1960.0, "19x1", 1960.0])
    _refused("cow_nmc", frame, RDA_PATH, f"{RDA_PATH}: row 2, column 'year': '19x1' is not a number")


def test_missing_key_value_is_refused():
    frame = _coups(year=[1960, None, 1961, 1962])
    _refused("coups", frame, CSV_PATH, f"{CSV_PATH}: row 2 (line 3), column 'year': value missing (not allowed)")


def test_missing_values_allowed_where_declared():
    check_raw_frame("cow_nmc", _nmc(), RDA_PATH)  # milex and milper may be missing


@pytest.mark.parametrize("column, value, rule", [
    ("ccode", 1200, "a COW country code (whole number 2-999)"),
    ("ccode", 2.5, "a COW country code (whole number 2-999)"),
    ("year", 1700, "a year in 1800-2030"),
    ("coup", 3, "1 (failed) or 2 (successful)"),
])
def test_out_of_range_values_name_the_rule(column, value, rule):
    frame = _coups()
    frame[column] = frame[column].astype(float)
    frame.loc[1, column] = value
    shown = str(int(value)) if float(value).is_integer() else str(value)
    _refused("coups", frame, CSV_PATH, f"{CSV_PATH}: row 2 (line 3), column '{column}': {shown} is not {rule}")


def test_cinc_above_one_and_negative_spending():
    frame = _nmc(cinc=[0.2, 1.5, 0.01], milex=[1.0, np.nan, -9.0])
    _refused("cow_nmc", frame, RDA_PATH, f"{RDA_PATH}: row 2, column 'cinc': 1.5 is not a CINC share in 0-1; "
                                         f"row 3, column 'milex': -9 is not a non-negative spending")


def test_polity_special_codes_only_in_polity():
    frame = pd.DataFrame({"polity_annual_ccode": [2.0, 20.0], "cown": [2.0, 20.0], "year": [1990.0, 1990.0],
                          "polity": [-88.0, 10.0], "polity2": [0.0, -66.0], "byear": [np.nan, 1990.0]})
    _refused("polity", frame, RDA_PATH, f"{RDA_PATH}: row 2, column 'polity2': -66 is not a Polity2 score -10..10")


def test_atop_in_force_code_and_the_one_odd_member_code_pass():
    frame = pd.DataFrame({"atopid": [1320, 3015], "member": [8152, 651], "yrent": [1874, 1945], "moent": [1, 3],
                          "dayent": [1.0, np.nan], "yrexit": [1883, 0], "phase": [0, 0], "bilat": [0, 0],
                          "defense": [0, 1]})
    check_raw_frame("atop_members", frame, Path("/data/atop/atop5_1m.csv"))  # no error
    frame.loc[1, "member"] = 8153
    path = Path("/data/atop/atop5_1m.csv")
    _refused("atop_members", frame, path,
             f"{path}: row 2 (line 3), column 'member': 8153 is not a COW country code (whole number 2-999)")


def test_repeated_key_names_the_key_and_the_repeating_row():
    frame = pd.concat([_nmc(), _nmc().iloc[[1]]], ignore_index=True)
    _refused("cow_nmc", frame, RDA_PATH, f"{RDA_PATH}: row 4, columns ccode, year: (2, 1961) repeat an earlier row "
                                         f"(one row per ccode-year expected)")


def test_repeated_single_key():
    path = Path("/data/atop/atop5_1a.csv")
    frame = pd.DataFrame({"atopid": [1005, 1005], "begyr": [1815, 1815], "endyr": [0, 1820], "bilat": [1, 1],
                          "defense": [1, 0], "version": [5.1, 5.1]})
    _refused("atop_alliances", frame, path,
             f"{path}: row 2 (line 3), column 'atopid': 1005 repeats an earlier row (one row per atopid expected)")


def test_text_and_date_columns():
    path = Path("/data/gwf/GWF_AllPoliticalRegimes.dta")
    frame = pd.DataFrame({"cowcode": [2, 20], "year": [1990, 1990], "gwf_regimetype": ["party", "junta"]})
    _refused("gwf", frame, path,
             f"{path}: row 2, column 'gwf_regimetype': 'junta' is not a GWF regime type (or 'NA' for non-autocracies)")
    path = Path("/data/peacesciencer/maoz_powers.rda")
    frame = pd.DataFrame({"ccode": [2.0, 200.0], "regstdate": ["1824-01-01", "soon"], "regenddate": [None, None]})
    _refused("maoz_powers", frame, path,
             f"{path}: row 2, column 'regstdate': 'soon' is not a date (YYYY-MM-DD) in 1816-2030")


def test_first_three_problems_by_row_then_a_count():
    frame = _coups(ccode=[1, 1, 1, 1], coup=[0, 1, 1, 1])
    rule = "a COW country code (whole number 2-999)"
    _refused("coups", frame, CSV_PATH,
             f"{CSV_PATH}: row 1 (line 2), column 'ccode': 1 is not {rule}; row 1 (line 2), column 'coup': 0 is not "
             f"1 (failed) or 2 (successful); row 2 (line 3), column 'ccode': 1 is not {rule}; and 2 more problems")


def test_no_rows():
    _refused("coups", _coups().iloc[:0], CSV_PATH, f"{CSV_PATH}: no data rows")


def test_extra_columns_are_not_checked():
    check_raw_frame("coups", _coups(version=["x", None, "y", "z"]), CSV_PATH)  # no error


def test_columns_a_step_declares_are_checked_like_the_schema():
    """The concession items' columns (declared by the concession config, not the schema): text is refused with its
    row, not read as a missing provision counted as 0."""
    frame = pd.DataFrame({"atopid": [3015, 3015], "member": [651, 2], "yrent": [1945, 1945], "moent": [3, 3],
                          "dayent": [22.0, 22.0], "yrexit": [0, 0], "phase": [0, 0], "bilat": [1, 1],
                          "defense": [1, 1], "noothall": [1.0, np.nan]})
    path = Path("/data/atop/atop5_1m.csv")
    check_raw_frame("atop_members", frame, path, {"noothall": provision_code()})  # no error
    frame["noothall"] = ["1", "yes"]
    _refused_with = f"{path}: row 2 (line 3), column 'noothall': 'yes' is not a number"
    with pytest.raises(DataError, match=f"^{re.escape(_refused_with)}$"):
        check_raw_frame("atop_members", frame, path, {"noothall": provision_code()})
    frame["noothall"] = [1, 12]
    with pytest.raises(DataError, match="column 'noothall': 12 is not an ATOP provision code"):
        check_raw_frame("atop_members", frame, path, {"noothall": provision_code()})


# ------------------------------------------------------------------------------------------------ coverage

def test_span_rule_names_the_years_outside_the_file():
    path = Path("/data/atop/atop5_1a.csv")
    frame = pd.DataFrame({"begyr": [1975, 1980, 1990, 2000]})
    expected = (f"{path}: lacks years 1960-1974, 2001-2010 that the 1960-2010 panel needs "
                f"(1960-2010; column begyr runs 1975-2000); the file looks cut short")
    with pytest.raises(DataError, match=f"^{re.escape(expected)}$"):
        check_coverage("atop_alliances", frame, path, (1960, 2010))
    check_coverage("atop_alliances", frame, path, (1975, 2000))  # no error


def test_short_event_list_needs_its_rows():
    frame = pd.DataFrame({"ccode": [40] * 449, "year": np.linspace(1950, 2022, 449).round()})
    expected = (f"{CSV_PATH}: 449 data rows where at least 450 are expected (Powell & Thyne list 473 attempts in "
                f"the 2015 release, 488 in 2022); the file looks cut short")
    with pytest.raises(DataError, match=f"^{re.escape(expected)}$"):
        check_coverage("coups", frame, CSV_PATH, (1960, 2010))
    check_coverage("coups", pd.concat([frame, frame.head(1)]), CSV_PATH, (1960, 2010))  # no error


def test_a_spell_list_cut_in_half_is_refused_by_its_rows_without_a_window():
    path = Path("/data/atop/atopinst5_1.csv")
    frame = pd.DataFrame({"atopid": np.arange(1000, 1425)})
    with pytest.raises(DataError, match=re.escape(f"{path}: 425 data rows where at least 820 are expected (ATOP "
                                                  "5.1's atopinst lists 849 alliance phases); the file looks cut")):
        check_coverage("atop_inst", frame, path, None)


def test_state_year_rule_counts_states_each_year():
    years = np.repeat(np.arange(1957, 1963), 40)
    full = pd.DataFrame({"ccode": np.tile(np.arange(2, 42), 6), "year": years})
    short = full[~((full["year"] == 1960) & (full["ccode"] == 2))]  # one state short in 1960
    expected = (f"{RDA_PATH}: lacks years 1960 that the 1960-1962 panel needs (1958-1962; fewer than 40 distinct "
                f"ccode a year); the file looks cut short")
    with pytest.raises(DataError, match=f"^{re.escape(expected)}$"):
        check_coverage("cow_nmc", short, RDA_PATH, (1960, 1962))
    check_coverage("cow_nmc", full, RDA_PATH, (1960, 1962))  # 40 states in every year 1958-1962


def test_shared_ids_of_the_two_atop_tables():
    alliances = pd.DataFrame({"atopid": [1005, 1010]})
    members = pd.DataFrame({"atopid": [1005, 1005, 1010, 1010, 2000]})
    paths = {"atop_alliances": Path("/d/a.csv"), "atop_members": Path("/d/m.csv")}
    check_shared_keys({"atop_alliances": alliances, "atop_members": members.iloc[:4]}, paths)  # agree
    with pytest.raises(DataError, match=re.escape("/d/m.csv: column 'atopid': 2000 not in /d/a.csv; one of the two "
                                                  "files looks cut short")):
        check_shared_keys({"atop_alliances": alliances, "atop_members": members}, paths)
    with pytest.raises(DataError, match=re.escape("/d/a.csv: column 'atopid': 1010 not in /d/m.csv")):
        check_shared_keys({"atop_alliances": alliances, "atop_members": members.iloc[:2]}, paths)
    paths["atop_inst"] = Path("/d/i.csv")  # the institutionalization file lists every alliance too
    with pytest.raises(DataError, match=re.escape("/d/a.csv: column 'atopid': 1010 not in /d/i.csv")):
        check_shared_keys({"atop_alliances": alliances, "atop_inst": alliances.head(1)}, paths)


# ------------------------------------------------------------------------------------------------ derived variables

@pytest.mark.integration
def test_real_short_panel_passes_the_derived_variable_check(short_panel):
    check_derived_variables(short_panel)  # no error


def _zeroed(ds, name):
    """A copy of the panel with variable `name` 0 in every in-panel cell (NaN elsewhere, as built)."""
    broken = ds.copy(deep=True)
    broken[name] = broken[name].where(~broken["in_panel"], 0.0)
    return broken


@pytest.mark.integration
def test_all_zero_outcome_names_variable_and_files(short_panel, tmp_path):
    broken = _zeroed(short_panel, "new_defense_pact")
    expected = (f"new_defense_pact (New bilateral defense pact) is zero in every in-panel dyad-year of the 1960-1966 "
                f"panel; it is built from {tmp_path / 'atop/atop5_1a.csv'}, {tmp_path / 'atop/atop5_1m.csv'} "
                f"(ATOP 5.1 (Leeds et al. 2002))")
    with pytest.raises(DataError, match=f"^{re.escape(expected)}$"):
        check_derived_variables(broken, tmp_path)


@pytest.mark.integration
def test_all_missing_variable_is_refused(short_panel):
    broken = short_panel.copy(deep=True)
    broken["cinc_b"] = broken["cinc_b"] * np.nan
    with pytest.raises(DataError, match=re.escape("cinc_b (CINC, B) is missing in every in-panel dyad-year of the "
                                                  "1960-1966 panel; it is built from peacesciencer/cow_nmc.rda")):
        check_derived_variables(broken)


@pytest.mark.integration
def test_zero_coup_control_is_refused(short_panel):
    broken = _zeroed(short_panel, "recent_coup_a")
    with pytest.raises(DataError, match="^recent_coup_a .* built from coups_pt/ptcoups.csv"):
        check_derived_variables(broken)


@pytest.mark.integration
def test_rare_events_may_be_all_zero_in_a_short_window(short_panel):
    """No bilateral defense pact began in 2006-2009: a window of up to 6 years may have none."""
    short = _zeroed(short_panel.isel(year=slice(0, 6)), "new_defense_pact")
    for name in ("concessions_a", "concessions_b", "concessions_a_missing", "concessions_b_missing"):
        short[name] = short[name] * np.nan
    check_derived_variables(short)  # no error
    with pytest.raises(DataError, match="^new_defense_pact .* 1960-1966 panel"):
        check_derived_variables(_zeroed(short_panel, "new_defense_pact"))


@pytest.mark.integration
def test_missing_item_counts_may_be_all_zero(short_panel):
    check_derived_variables(_zeroed(short_panel, "concessions_a_missing"))  # no error


@pytest.mark.integration
def test_empty_estimation_sample(short_panel):
    broken = short_panel.copy(deep=True)
    broken["sample_controls"] = broken["sample_controls"] & False
    with pytest.raises(DataError, match="^sample_controls: no dyad-year of the 1960-1966 panel has all of "
                                        "new_defense_pact, .*; the estimation sample is empty$"):
        check_derived_variables(broken)


def test_state_codes_are_checked_against_the_cow_state_list():
    states = pd.DataFrame({"ccode": [2, 20, 200]})
    paths = {"cow_states": Path("/d/states.rda"), "coups": Path("/d/coups.csv"), "atop_members": Path("/d/m.csv")}
    check_state_codes({"cow_states": states, "coups": pd.DataFrame({"ccode": [2, 200]}),
                       "atop_members": pd.DataFrame({"member": [20, 8152]})}, paths)  # 8152: ATOP's own, allowed
    with pytest.raises(DataError, match=re.escape("/d/coups.csv: column 'ccode': 7, 9 not in the COW state list "
                                                  "/d/states.rda; one of the two files looks damaged")):
        check_state_codes({"cow_states": states, "coups": pd.DataFrame({"ccode": [2, 7, 9]})}, paths)


def test_every_state_code_column_is_a_declared_column():
    for key, columns in STATE_CODES.items():
        assert set(columns) <= set(RAW_FILES[key].columns), key
