"""Declared schemas of the raw files, and the years each file must cover.

One pandera schema per key of ``RAW_FILES`` declares, for the columns the pipeline uses, their type (numeric codes
must be numbers), which of them may be missing, their ranges and codes, and the keys that identify a row where the
source promises one row per key. ``check_raw_frame`` runs a schema lazily (every problem is collected) and raises
one ``DataError`` naming the file, the row, the column and the bad value. Rows are 1-based data rows (the header is
not counted); for CSV files the message also gives the line of the file (data row + 1, which holds for files
without blank lines or quoted line breaks, as all the CSV sources here are).

``COVERAGE`` declares, per file, the column giving the year and the years before the panel window that the build
reads (lags, five-year "recent" windows); ``check_coverage`` refuses a file that lacks any of them, so that a copy
cut short gives an error naming the years it lacks instead of a panel with zeros. Short event and spell lists
sorted by country keep their full span when cut, so for them the rule also sets a floor on the number of rows.
``SHARED_KEYS`` ties the two ATOP tables together: a copy of one of them cut at a line end loses alliances that
the other still lists.

Rules relaxed because the real files break the obvious ones (each is repeated where it is declared):
- atop5_1m.csv: member 8152 in data row 202, line 203 (atopid 1320, 1874-1883) is not a COW code; it is allowed by name.
- atop5_1m.csv: (atopid, member, phase) repeats when a member leaves and rejoins (Egypt 651 in atopid 3015 and
  3205, Yugoslavia 345 in 3740); the key is (atopid, member, phase, yrent).
- polity5.rda: years start in 1776 (the revised release extends the USA back); cown is missing in 76 rows (Polity
  units with no COW code: 89, 99, 564 in the 19th century); polity2 is missing in 267 rows (special codes Polity
  leaves unconverted); byear is filled only in a polity's first year.
- td_rivalries.rda: rivalries begin as early as 1494 (Thompson & Dreyer date them before the state system).
- leeds-savun-threat.csv: ccode is missing in its last 7 rows (data rows 14394-14400, 2009-2015, lsthreat 0).
- ptcoups.csv: no key is unique: a country can have several coup attempts in one year (67 repeated ccode-years).
- cow_contdir.rda: conttype takes 0 as well as the codebook's 1-5 (180 rows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandas.api.types import is_numeric_dtype
from pandera.errors import SchemaErrors

from .sources import RAW_FILES, DataError

YEARS = (1800, 2030)  # plausible calendar years of any source; files that start earlier say so
MAX_SHOWN = 3  # problems spelled out in one error message; the rest are counted
MIN_STATES_A_YEAR = 40  # every state-year file has >= 50 states in each year 1947-2010; fewer means a cut copy


# ------------------------------------------------------------------------------------------------ column rules

def _numbers(values: pd.Series) -> pd.Series:
    """The values as float64; a cell that is not a number becomes NaN here (the type rule reports it)."""
    numbers = values if is_numeric_dtype(values) else pd.to_numeric(values.astype(object), errors="coerce")
    return numbers.astype("float64")


def _range_check(low: float, high: float, what: str, whole: bool, also: tuple[float, ...]) -> pa.Check:
    """Values lie in [low, high] (and are whole numbers if `whole`), or are one of the extra codes `also`."""
    def passes(values: pd.Series) -> pd.Series:
        numbers = _numbers(values)
        good = numbers.between(low, high)
        if whole:
            good &= numbers % 1 == 0
        return good | numbers.isin(also) | numbers.isna()
    return pa.Check(passes, error=what)


def number(low: float, high: float, what: str, *, whole: bool = False, nullable: bool = False,
           also: tuple[float, ...] = ()) -> pa.Column:
    """A numeric column whose values are `what`: within [low, high], optionally whole, or one of `also`."""
    return pa.Column("float64", _range_check(low, high, what, whole, also), coerce=True, nullable=nullable)


def cow_code(*, nullable: bool = False, also: tuple[int, ...] = ()) -> pa.Column:
    """A Correlates of War country code: a whole number 2-999."""
    return number(2, 999, "a COW country code (whole number 2-999)", whole=True, nullable=nullable, also=also)


def year(low: int = YEARS[0], high: int = YEARS[1], *, nullable: bool = False, also: tuple[int, ...] = (),
         what: str = "") -> pa.Column:
    """A calendar year in [low, high] (or one of the codes in `also`, e.g. 0 for 'still in force')."""
    label = what or f"a year in {low}-{high}"
    return number(low, high, label, whole=True, nullable=nullable, also=also)


def flag(values: tuple[int, ...] = (0, 1), what: str = "0 or 1") -> pa.Column:
    """A coded column taking only the given values."""
    def passes(column: pd.Series) -> pd.Series:
        numbers = _numbers(column)
        return numbers.isin(values) | numbers.isna()
    return pa.Column("float64", pa.Check(passes, error=what), coerce=True, nullable=False)


def text(values: tuple[str, ...] | None = None, what: str = "a non-empty text", pattern: str | None = None
         ) -> pa.Column:
    """A text column: never missing nor blank, one of `values` when they are given, matching the regular expression
    `pattern` when it is given."""
    def passes(column: pd.Series) -> pd.Series:
        strings = column.astype("string").str.strip()
        good = (strings.str.len() > 0).fillna(False).astype(bool)
        if pattern is not None:
            good &= strings.str.fullmatch(pattern).fillna(False).astype(bool)
        return good & strings.isin(values).fillna(False).astype(bool) if values is not None else good
    return pa.Column(None, pa.Check(passes, error=what), nullable=False)


def date(low: int = 1816, high: int = YEARS[1], *, nullable: bool = False) -> pa.Column:
    """A date (a date object or 'YYYY-MM-DD' text, as threat.py reads it) whose year lies in [low, high]."""
    def passes(column: pd.Series) -> pd.Series:
        years = _numbers(column.astype("string").str.slice(0, 4))
        return years.between(low, high) | column.isna()
    return pa.Column(None, pa.Check(passes, error=f"a date (YYYY-MM-DD) in {low}-{high}"), nullable=nullable)


def table(columns: dict[str, pa.Column], unique: list[str] | None = None) -> pa.DataFrameSchema:
    """A schema over the used columns; `unique` names the columns that identify a row (later repeats reported)."""
    return pa.DataFrameSchema(columns, unique=unique, report_duplicates="exclude_first", strict=False)


MONTH = number(1, 12, "a month 1-12", whole=True)
DAY = number(1, 31, "a day 1-31", whole=True)
ATOPID = number(1000, 9999, "an ATOP alliance id (whole number 1000-9999)", whole=True)
STILL_IN_FORCE = (0,)  # ATOP's end year / exit year 0: still in force at the end of coverage

# ------------------------------------------------------------------------------------------------ the schemas

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "cow_states": table({
        "ccode": cow_code(), "stateabb": text(), "statenme": text(),
        "styear": year(), "stmonth": MONTH, "stday": DAY, "endyear": year(), "endmonth": MONTH, "endday": DAY,
    }, unique=["ccode", "styear"]),
    "cow_ddy": table({"ccode1": cow_code(), "ccode2": cow_code(), "year": year()},
                     unique=["ccode1", "ccode2", "year"]),
    "cow_majors": table({"ccode": cow_code(), "styear": year(), "endyear": year()}, unique=["ccode", "styear"]),
    # conttype 0 occurs in 180 rows besides the codebook's 1 (land) ... 5 (water up to 400 miles)
    "cow_contdir": table({
        "ccode1": cow_code(), "ccode2": cow_code(),
        "conttype": number(0, 5, "a contiguity type 0-5", whole=True), "stdate": date(), "enddate": date(),
    }, unique=["ccode1", "ccode2", "stdate"]),
    "cow_nmc": table({
        "ccode": cow_code(), "year": year(),
        "milex": number(0, math.inf, "a non-negative spending", nullable=True),
        "milper": number(0, math.inf, "a non-negative number of personnel", nullable=True),
        "tpop": number(0, math.inf, "a non-negative population (thousands)", nullable=True),
        "cinc": number(0, 1, "a CINC share in 0-1"),
    }, unique=["ccode", "year"]),
    "atop_ddy": table({
        "ccode1": cow_code(), "ccode2": cow_code(), "year": year(),
        **{name: flag() for name in ("atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul")},
    }, unique=["ccode1", "ccode2", "year"]),
    "gml_mids": table({
        "dispnum": number(1, math.inf, "a dispute number (whole number >= 1)", whole=True),
        "ccode1": cow_code(), "ccode2": cow_code(), "year": year(), "gmlmidongoing": flag(),
    }, unique=["dispnum", "ccode1", "ccode2", "year"]),
    # Thompson & Dreyer date some rivalries from 1494
    "td_rivalries": table({
        "rivalryno": number(1, math.inf, "a rivalry number (whole number >= 1)", whole=True),
        "ccode1": cow_code(), "ccode2": cow_code(), "styear": year(1494), "endyear": year(1494),
    }, unique=["rivalryno"]),
    # regional dates are missing for the states that were only ever global powers (200; 220 before 1944)
    "maoz_powers": table({"ccode": cow_code(), "regstdate": date(nullable=True), "regenddate": date(nullable=True)}),
    "atop_alliances": table({
        "atopid": ATOPID, "begyr": year(1815),
        "endyr": year(1815, also=STILL_IN_FORCE, what="a year in 1815-2030 or 0 (in force)"),
        "bilat": flag(), "defense": flag(), "version": number(0, 100, "a release number"),
    }, unique=["atopid"]),
    # member 8152 (data row 202, atopid 1320, 1874-1883) is not a COW code but is in the file; a member that leaves
    # and rejoins repeats (atopid, member, phase), so the entry year is part of the key
    "atop_members": table({
        "atopid": ATOPID, "member": cow_code(also=(8152,)), "yrent": year(1815), "moent": MONTH,
        "dayent": number(1, 31, "a day 1-31", whole=True, nullable=True),  # missing in 5 rows
        "yrexit": year(1815, also=STILL_IN_FORCE, what="a year in 1815-2030 or 0 (in force)"),
        "phase": number(0, 9, "a phase 0-9", whole=True), "bilat": flag(), "defense": flag(),
    }, unique=["atopid", "member", "phase", "yrent"]),
    # revised release: the USA runs from 1776; cown missing for Polity units without a COW code (76 rows);
    # polity2 missing where Polity leaves a special code unconverted (267 rows); byear only in a polity's first year
    "polity": table({
        "polity_annual_ccode": cow_code(), "cown": cow_code(nullable=True), "year": year(1776),
        "polity": number(-10, 10, "a Polity score -10..10 or -66/-77/-88", whole=True, also=(-66, -77, -88)),
        "polity2": number(-10, 10, "a Polity2 score -10..10", whole=True, nullable=True),
        "byear": year(1776, nullable=True),
    }, unique=["polity_annual_ccode", "year"]),
    # cbcount exists only for SSF's 108 countries in 1960-2010
    "ssf": table({
        "ccode": cow_code(), "year": year(),
        "cbcount": number(0, 99, "a count of counterweights (whole number 0-99)", whole=True, nullable=True),
    }, unique=["ccode", "year"]),
    # event file: several coup attempts can fall in one country-year, so no key is unique
    "coups": table({"ccode": cow_code(), "year": year(), "coup": flag((1, 2), "1 (failed) or 2 (successful)")}),
    "gwf": table({
        "cowcode": cow_code(), "year": year(),
        "gwf_regimetype": text(("NA", "party", "personal", "monarchy", "party-personal", "military",
                                "military-personal", "party-military-personal", "party-military", "oligarchy",
                                "indirect military"), "a GWF regime type (or 'NA' for non-autocracies)"),
    }, unique=["cowcode", "year"]),
    "atop_inst": table({
        "atopid": ATOPID, "atopidphase": number(1000, 10000, "an ATOP alliance-phase id (atopid or atopid.k)"),
        **{code: number(0, 2, "a code 0, 1 or 2", whole=True, nullable=True) for code in ("milinst", "formal")},
    }, unique=["atopidphase"]),
    "dcad": table({
        "DCAid": text(what="a DCAD id (DCADv1.0-NNNN)", pattern=r"DCADv1\.0-\d{4}"),
        "ccode1": cow_code(), "ccode2": cow_code(), "type": text(("general", "sector"), "general or sector"),
        "signYear": year(), "EIFYear": year(nullable=True), "terminated": flag((1, 0, -88, -99), "1, 0, -88 or -99"),
        "durationActual": number(0, 100, "a duration in years (0-100)", nullable=True), "endYearEstimate": year(),
    }, unique=["DCAid"]),
    # the last 7 rows (2009-2015) carry no country code
    "leeds_savun": table({
        "ccode": cow_code(nullable=True), "year": year(), "lsthreat": number(0, 1, "a threat score in 0-1"),
    }, unique=["ccode", "year"]),
}


# ------------------------------------------------------------------------------------------------ messages

def _show(value, quote: bool = True) -> str:
    """A cell value as the message shows it: whole floats without '.0', text quoted (unless `quote` is False)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) and quote else str(value)


def _where(row: int, csv: bool) -> str:
    """'row N' (1-based data row), with the file's line for a CSV file."""
    return f"row {row} (line {row + 1})" if csv else f"row {row}"


def _problem(case: pd.Series, frame: pd.DataFrame, schema: pa.DataFrameSchema) -> str:
    """One failure of pandera's failure-case table, as 'column 'x': value is not ...'."""
    check, value = str(case["check"]), case["failure_case"]
    if check == "multiple_fields_uniqueness":
        keys = list(schema.unique)
        values = [_show(v, quote=False) for v in frame.loc[case["index"], keys]]
        if len(keys) == 1:
            return f"column '{keys[0]}': {values[0]} repeats an earlier row (one row per {keys[0]} expected)"
        return (f"columns {', '.join(keys)}: ({', '.join(values)}) repeat an earlier row "
                f"(one row per {'-'.join(keys)} expected)")
    if check.startswith(("coerce_dtype", "dtype")):
        return f"column '{case['column']}': {_show(value)} is not a number"
    if check == "not_nullable":
        return f"column '{case['column']}': value missing (not allowed)"
    return f"column '{case['column']}': {_show(value)} is not {check}"


def describe_failures(path: Path, failures: pd.DataFrame, frame: pd.DataFrame, schema: pa.DataFrameSchema,
                      csv: bool) -> str:
    """One line: the file, then the first problems by row (row, column, value, rule), then how many more."""
    failures = failures.dropna(subset=["index"]).copy()
    failures["row"] = failures["index"].astype("int64") + 1
    # a cell that is not a number fails both the coercion and the dtype rule: keep one line per cell and rule kind
    failures["kind"] = failures["check"].astype(str).str.replace(r"^(coerce_dtype|dtype)\(.*$", "type", regex=True)
    # a repeated key is reported once per key column: keep one line per row
    failures.loc[failures["check"] == "multiple_fields_uniqueness", "column"] = "key"
    failures = failures.drop_duplicates(["row", "column", "kind"]).sort_values("row", kind="stable")
    shown = [f"{_where(int(case['row']), csv)}, {_problem(case, frame, schema)}"
             for _, case in failures.head(MAX_SHOWN).iterrows()]
    rest = len(failures) - len(shown)
    more = f"; and {rest} more problem{'s' if rest > 1 else ''}" if rest > 0 else ""
    return f"{path}: {'; '.join(shown)}{more}"


def provision_code() -> pa.Column:
    """An ATOP provision code (atop5_1m.csv: 0 for absent, 1-9 for kinds of the provision; missing where the treaty
    text was not found), as the concession items read them."""
    return number(0, 9, "an ATOP provision code (whole number 0-9)", whole=True, nullable=True)


def check_raw_frame(key: str, frame: pd.DataFrame, path: Path, extra: dict[str, pa.Column] | None = None) -> None:
    """Refuse a raw table with no rows or with any cell that breaks its declared schema, with the columns of
    `extra` added (one DataError)."""
    if frame.empty:
        raise DataError(f"{path}: no data rows")
    schema = SCHEMAS[key]
    if extra:
        schema = schema.add_columns(extra)
    used = frame[list(schema.columns)].reset_index(drop=True)
    try:
        schema.validate(used, lazy=True, inplace=True)
    except SchemaErrors as errors:
        message = describe_failures(path, errors.failure_cases, used, schema, RAW_FILES[key].reader == "csv")
        raise DataError(message) from None


# ------------------------------------------------------------------------------------------------ coverage

@dataclass(frozen=True)
class Coverage:
    """The years (and, for short lists, the rows) a raw file must have for a panel window.

    `year` is the column giving the year (a spell's first year when `last_year` names its last; None for a list of
    dated spells, checked by its rows alone); the build reads
    `before` years ahead of the window's first year. With `unit`, every needed year must hold at least
    `min_units` distinct units (a state-year file); without, the file's years must span the needed years (an
    event or spell file, where quiet years are real). A list sorted by country keeps its full span when cut short,
    so `min_rows` (with `release`, the count it rests on) is a floor a little below the release in use."""

    year: str | None
    before: int = 0
    last_year: str | None = None
    unit: str | None = None
    min_units: int = 0
    min_rows: int = 0
    release: str = ""


COVERAGE: dict[str, Coverage] = {
    "cow_states": Coverage("styear", last_year="endyear", min_rows=240, release="COW 2016 lists 243 state spells"),
    "cow_ddy": Coverage("year", before=2, unit="ccode1", min_units=MIN_STATES_A_YEAR),
    "cow_majors": Coverage("styear", before=1, last_year="endyear", min_rows=14,
                           release="COW lists 14 major-power spells since 1816"),
    "cow_nmc": Coverage("year", before=2, unit="ccode", min_units=MIN_STATES_A_YEAR),  # change in milex at t-1
    "atop_ddy": Coverage("year", before=1, unit="ccode1", min_units=MIN_STATES_A_YEAR),
    "gml_mids": Coverage("year", before=4, unit="ccode1", min_units=5),  # >= 10 states in MIDs each year 1947-2010
    "td_rivalries": Coverage("styear", before=1, last_year="endyear", min_rows=190,
                             release="Thompson & Dreyer (2011) list 197 rivalries"),
    "atop_alliances": Coverage("begyr"),
    "atop_members": Coverage("yrent"),
    "polity": Coverage("year", before=4, unit="polity_annual_ccode", min_units=MIN_STATES_A_YEAR),
    "ssf": Coverage("year", before=1, unit="ccode", min_units=MIN_STATES_A_YEAR),
    # Powell & Thyne begin in 1950, hence the panel's first year 1951
    "coups": Coverage("year", before=1, min_rows=450,
                      release="Powell & Thyne list 473 attempts in the 2015 release, 488 in 2022"),
    "gwf": Coverage("year", before=1, unit="cowcode", min_units=MIN_STATES_A_YEAR),
    "dcad": Coverage("signYear", last_year="endYearEstimate", min_rows=1800,
                     release="DCAD v1.0 lists 1,871 agreements"),
    # lists of dated spells (no year column): their rows alone
    "cow_contdir": Coverage(None, min_rows=1800, release="COW Direct Contiguity v3.2 lists 1,874 spells"),
    "maoz_powers": Coverage(None, min_rows=20, release="Maoz lists 20 regional and global powers"),
    "atop_inst": Coverage(None, min_rows=820, release="ATOP 5.1's atopinst lists 849 alliance phases"),
    # the validation file, never a panel input: compared over the state-years it has (state codes 1816-2008; its
    # 2009-2015 rows have none), so only a floor on its rows, not the panel's window
    "leeds_savun": Coverage(None, min_rows=14_000, release="the Leeds & Savun file has 14,400 rows"),
}

# (file, file it shares ids with, id column): each must list every id of the other
SHARED_KEYS: tuple[tuple[str, str, str], ...] = (("atop_members", "atop_alliances", "atopid"),
                                                 ("atop_inst", "atop_alliances", "atopid"))


def _year_ranges(years: list[int]) -> str:
    """1960, 1962-1965, 1970: consecutive years joined into ranges."""
    parts, start = [], None
    for i, y in enumerate(years):
        start = y if start is None else start
        if i + 1 == len(years) or years[i + 1] != y + 1:
            parts.append(str(y) if y == start else f"{start}-{y}")
            start = None
    return ", ".join(parts)


def _lacking_years(rule: Coverage, frame: pd.DataFrame, needed: range) -> list[int]:
    """The needed years the file does not cover under its rule."""
    years = pd.to_numeric(frame[rule.year], errors="coerce")
    if rule.unit is None:
        last = pd.to_numeric(frame[rule.last_year or rule.year], errors="coerce")
        return [y for y in needed if not years.min() <= y <= last.max()]
    units = frame.loc[years.isin(needed), rule.unit].groupby(years[years.isin(needed)]).nunique()
    return [y for y in needed if units.get(y, 0) < rule.min_units]


def check_coverage(key: str, frame: pd.DataFrame, path: Path, window: tuple[int, int] | None) -> None:
    """Refuse a raw file with fewer rows than its release's floor, or (given a panel `window`: first, last year)
    that lacks any year a panel for that window reads from it."""
    rule = COVERAGE.get(key)
    if rule is None:
        return
    if len(frame) < rule.min_rows:
        raise DataError(f"{path}: {len(frame)} data rows where at least {rule.min_rows} are expected "
                        f"({rule.release}); the file looks cut short")
    if rule.year is None or window is None:
        return
    needed = range(window[0] - rule.before, window[1] + 1)
    lacking = _lacking_years(rule, frame, needed)
    if not lacking:
        return
    span = f"{needed.start}-{needed.stop - 1}"
    if rule.unit is None:
        first, last = frame[rule.year].min(), frame[rule.last_year or rule.year].max()
        found = f"column {rule.year} runs {_show(first)}-{_show(last)}"
    else:
        found = f"fewer than {rule.min_units} distinct {rule.unit} a year"
    raise DataError(f"{path}: lacks years {_year_ranges(lacking)} that the {window[0]}-{window[1]} panel needs "
                    f"({span}; {found}); the file looks cut short")


def _listed(values: list) -> str:
    """The first MAX_SHOWN of sorted ids, then how many more: '1010, 2000, 2010 and 4 more'."""
    more = f" and {len(values) - MAX_SHOWN} more" if len(values) > MAX_SHOWN else ""
    return ", ".join(_show(v) for v in values[:MAX_SHOWN]) + more


# Columns of COW state codes, each checked against the COW state list (cow_states) where both are read; codes a
# source has that COW does not (each named where its schema allows it): Thompson & Dreyer's 324 (Sardinia before
# Italy's unification), ATOP's member 8152. SSF codes are its own (recoded to COW in data_prep.ssf).
STATE_CODES: dict[str, tuple[str, ...]] = {
    "cow_ddy": ("ccode1", "ccode2"), "cow_majors": ("ccode",), "cow_contdir": ("ccode1", "ccode2"),
    "cow_nmc": ("ccode",), "atop_ddy": ("ccode1", "ccode2"), "gml_mids": ("ccode1", "ccode2"),
    "td_rivalries": ("ccode1", "ccode2"), "maoz_powers": ("ccode",), "atop_members": ("member",),
    "polity": ("cown",), "coups": ("ccode",), "gwf": ("cowcode",), "dcad": ("ccode1", "ccode2"),
    "leeds_savun": ("ccode",),
}
NOT_COW_STATES = {"td_rivalries": (324,), "atop_members": (8152,)}


def check_state_codes(frames: dict[str, pd.DataFrame], paths: dict[str, Path]) -> None:
    """Refuse a file whose state codes the COW state list (read with it) lacks: one of the two is damaged."""
    if "cow_states" not in frames:
        return
    known = set(frames["cow_states"]["ccode"].dropna().astype("int64"))
    for key, columns in STATE_CODES.items():
        if key not in frames:
            continue
        for column in columns:
            codes = set(frames[key][column].dropna().astype("int64"))
            unknown = sorted(codes - known - set(NOT_COW_STATES.get(key, ())))
            if unknown:
                raise DataError(f"{paths[key]}: column '{column}': {_listed(unknown)} not in the COW state list "
                                f"{paths['cow_states']}; one of the two files looks damaged")


def check_shared_keys(frames: dict[str, pd.DataFrame], paths: dict[str, Path]) -> None:
    """Refuse two tables of one source whose ids disagree (e.g. ATOP members of alliances the alliance file lacks)."""
    for child, parent, column in SHARED_KEYS:
        if child not in frames or parent not in frames:
            continue
        for one, other in ((child, parent), (parent, child)):
            orphans = sorted(set(frames[one][column].dropna()) - set(frames[other][column].dropna()))
            if orphans:
                raise DataError(f"{paths[one]}: column '{column}': {_listed(orphans)} not in {paths[other]}; "
                                "one of the two files looks cut short")
