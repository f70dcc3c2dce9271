"""Fault injection on the raw files: for every file in RAW_FILES, a damaged copy (a non-numeric cell in each key
column, a file cut off mid-line or mid-file, a header and no rows, 0 bytes, another file type, a repeated key, the
first rows only) makes `coupproof data` exit 2 with one line naming the file and the problem, and write no panel.

Speed: the data directory is a mirror of symlinks to the real files, and only the damaged file is a real copy.
Symlinked (untouched) files are served from a per-module cache of frames already read and validated once (their
reader and schema check are skipped), so each case costs the damaged file alone; every fault is found when the
files are validated, before the panel build. R files with a damaged cell or a repeated row are written back with
pyreadr.write_rdata, keeping their first 2,000 rows (the damage is found at load, before any coverage check);
Stata files with pyreadstat.write_dta, keeping the used columns. leeds_savun is read only by `data --check`, which
loads it before the build: its faults are tested through RawData.load and once through the command.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from coupproof.cli import app
from raw_mirror import symlink_mirror
from data_prep import schemas, sources
from data_prep.schemas import COVERAGE, SCHEMAS
from data_prep.sources import RAW_FILES, DataError, RawData

runner = CliRunner()
KEPT_ROWS = 2000  # rows kept when an R file is written back with a damaged cell or a repeated row
BAD_ROW = 5  # the 1-based data row that gets the damaged cell
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
TEXT = b"ccode,year\n2,1990\n"
CLI_KEYS = [key for key in RAW_FILES if key != "leeds_savun"]


def _key_columns(key: str) -> list[str]:
    """Columns that identify a row: the schema's unique key, else the file's country code and year columns."""
    unique = SCHEMAS[key].unique
    return list(unique) if unique else [c for c in RAW_FILES[key].columns if c in ("ccode", "year")]


def _shown(value) -> str:
    """A key value as the message shows it."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


# ------------------------------------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def real_frames(raw_dir) -> dict[str, pd.DataFrame]:
    """Every real raw file, validated and read whole once for this module, by relative path."""
    raw = RawData(raw_dir)
    for key in RAW_FILES:
        raw.load(key)
    return {spec.relpath: sources._read(raw.path(key), spec) for key, spec in RAW_FILES.items()}


@pytest.fixture
def mirror(raw_dir, tmp_path, real_frames, monkeypatch) -> Path:
    """A raw-data folder of symlinks to the real files; symlinked files come from the cache, unchecked again."""
    root = symlink_mirror(raw_dir, tmp_path / "raw")
    read, check = sources._read, schemas.check_raw_frame
    monkeypatch.setattr(sources, "_read",
                        lambda path, spec: real_frames[spec.relpath] if path.is_symlink() else read(path, spec))
    monkeypatch.setattr(schemas, "check_raw_frame",
                        lambda key, frame, path, extra=None: None if path.is_symlink() else check(key, frame, path, extra))
    return root


def _replace(mirror: Path, key: str) -> Path:
    """The path of raw file `key` in the mirror, with its symlink removed so that a damaged copy can go there."""
    path = mirror / RAW_FILES[key].relpath
    path.unlink()
    return path


# ------------------------------------------------------------------------------------------------ damage

def _write_frame(path: Path, key: str, frame: pd.DataFrame) -> None:
    """Write a frame in the file's own format (R object name kept)."""
    spec = RAW_FILES[key]
    if spec.reader == "csv":
        frame.to_csv(path, index=False)
    elif spec.reader == "rda":
        import pyreadr

        pyreadr.write_rdata(str(path), frame, df_name=spec.rda_object)
    else:
        import pyreadstat

        pyreadstat.write_dta(frame, str(path))


def _table(raw_dir: Path, key: str, real_frames) -> pd.DataFrame:
    """The file's rows as they will be written back: CSV as text cells, R kept to its first rows, Stata to its
    used columns."""
    spec = RAW_FILES[key]
    if spec.reader == "csv":
        return pd.read_csv(raw_dir / spec.relpath, dtype=str, keep_default_na=False)
    frame = real_frames[spec.relpath]
    return frame.head(KEPT_ROWS).copy() if spec.reader == "rda" else frame[list(spec.columns)].copy()


def _where(key: str, row: int) -> str:
    """How the message locates a data row (with its line in a CSV file)."""
    return f"row {row} (line {row + 1})" if RAW_FILES[key].reader == "csv" else f"row {row}"


def bad_cell(key: str, column: str):
    """Damage: the text 'x7' in data row BAD_ROW of `column`."""
    def damage(path: Path, raw_dir: Path, real_frames) -> str:
        table = _table(raw_dir, key, real_frames)
        table[column] = table[column].astype(str)
        table.loc[BAD_ROW - 1, column] = "x7"
        _write_frame(path, key, table)
        rule = {"DCAid": "a DCAD id (DCADv1.0-NNNN)"}.get(column, "a date (YYYY-MM-DD) in 1816-2030"
                                                           if column.endswith("date") else "a number")
        return f"{path}: {_where(key, BAD_ROW)}, column '{column}': 'x7' is not {rule}"
    return damage


def cut_mid_line(path: Path, raw_dir: Path, real_frames) -> str:
    """Damage (CSV): the file stops three characters into a line."""
    content = (raw_dir / RAW_FILES[_key_of(path)].relpath).read_bytes()
    end = content.index(b"\n", len(content) // 2) + 4  # three characters into a line
    path.write_bytes(content[:end])
    return f"{path}: line {content[:end].count(b'\n') + 1} ends without a line break; the file looks cut off mid-line"


def cut_mid_line_then_newline(path: Path, raw_dir: Path, real_frames) -> str:
    """Damage (CSV): the file stops inside a line that still ends with a line break (fields missing)."""
    content = (raw_dir / RAW_FILES[_key_of(path)].relpath).read_bytes()
    end = content.index(b"\n", len(content) // 2) + 4
    path.write_bytes(content[:end] + b"\n")
    header = next(csv.reader(io.StringIO(content.split(b"\n", 1)[0].decode())))
    fields = len(next(csv.reader([content[:end].rsplit(b"\n", 1)[1].decode()])))
    return (f"{path}: line {content[:end].count(b'\n') + 1} has {fields} of {len(header)} fields; "
            "the file looks cut off mid-line")


def cut_mid_file(path: Path, raw_dir: Path, real_frames) -> str:
    """Damage (R, Stata): the first half of the file's bytes."""
    spec = RAW_FILES[_key_of(path)]
    content = (raw_dir / spec.relpath).read_bytes()
    path.write_bytes(content[: len(content) // 2])
    error = {"rda": "LibrdataError", "dta": "ReadstatError"}[spec.reader]
    return f"{path}: cannot be read as {spec.reader} ({error}: Unable to read from file)"


def no_rows(path: Path, raw_dir: Path, real_frames) -> str:
    """Damage: the header only (CSV), or the used columns with zero rows (R, Stata)."""
    key = _key_of(path)
    spec = RAW_FILES[key]
    if spec.reader == "csv":
        path.write_bytes((raw_dir / spec.relpath).read_bytes().split(b"\n", 1)[0] + b"\n")
    else:
        _write_frame(path, key, real_frames[spec.relpath][list(spec.columns)].iloc[:0])
    return f"{path}: no data rows"


def empty(path: Path, raw_dir: Path, real_frames) -> str:
    """Damage: a 0-byte file."""
    path.write_bytes(b"")
    return f"{path}: empty file (0 bytes)"


def png(path: Path, raw_dir: Path, real_frames) -> str:
    """Damage: a PNG image under the file's name (regular expression: the reader's error varies)."""
    path.write_bytes(PNG)
    return re.escape(f"{path}: cannot be read as {RAW_FILES[_key_of(path)].reader} (") + r"\w+: .+\)"


def text(path: Path, raw_dir: Path, real_frames) -> str:
    """Damage (R, Stata): a small CSV text under the file's name (regular expression)."""
    path.write_bytes(TEXT)
    return re.escape(f"{path}: cannot be read as {RAW_FILES[_key_of(path)].reader} (") + r"\w+: .+\)"


def repeated_row(path: Path, raw_dir: Path, real_frames) -> str:
    """Damage: data row 3 appended again at the end, repeating its key."""
    key = _key_of(path)
    table = _table(raw_dir, key, real_frames)
    table = pd.concat([table, table.iloc[[2]]], ignore_index=True)
    _write_frame(path, key, table)
    keys = list(SCHEMAS[key].unique)
    real_row = real_frames[RAW_FILES[key].relpath].iloc[2]
    values = [_shown(real_row[c]) for c in keys]
    where = _where(key, len(table))
    if len(keys) == 1:
        return (f"{path}: {where}, column '{keys[0]}': {values[0]} repeats an earlier row "
                f"(one row per {keys[0]} expected)")
    return (f"{path}: {where}, columns {', '.join(keys)}: ({', '.join(values)}) repeat an earlier row "
            f"(one row per {'-'.join(keys)} expected)")


def first_rows(path: Path, raw_dir: Path, real_frames) -> str:
    """The first 1,000 rows (or the first half of a smaller file), cut at a line end: a valid but short file.
    A regular expression: the years it lacks, its row count, or (ATOP) the alliance ids the other table lacks."""
    key = _key_of(path)
    spec = RAW_FILES[key]
    frame = real_frames[spec.relpath]
    keep = 1000 if len(frame) > 2000 else len(frame) // 2
    if spec.reader == "csv":
        lines = (raw_dir / spec.relpath).read_bytes().split(b"\n")
        path.write_bytes(b"\n".join(lines[: keep + 1]) + b"\n")
    else:
        _write_frame(path, key, frame[list(spec.columns)].head(keep))
    if keep < COVERAGE[key].min_rows:
        return re.escape(f"{path}: {keep} data rows where at least {COVERAGE[key].min_rows} are expected (") \
            + r".+\); the file looks cut short"
    if key == "atop_members":  # its years still span the window, but alliances lose their members
        alliances = path.parents[1] / RAW_FILES["atop_alliances"].relpath
        return re.escape(f"{alliances}: column 'atopid': ") + r"[\d, ]+ and \d+ more not in " \
            + re.escape(f"{path}; one of the two files looks cut short")
    return re.escape(f"{path}: lacks years ") + r"[\d, -]+ that the 1960-2010 panel needs \(.+\); " \
        + "the file looks cut short"


def _key_of(path: Path) -> str:
    """The RAW_FILES key of a file in the mirror."""
    return next(key for key, spec in RAW_FILES.items() if path.as_posix().endswith(spec.relpath))


def _cases(keys) -> list:
    """(key, damage name, damage function, exact?) for every applicable damage of every file; a damage returns the
    exact message, or a regular expression for the whole message when `exact` is False."""
    cases = []
    for key in keys:
        reader = RAW_FILES[key].reader
        cases += [(key, f"bad_cell_{c}", bad_cell(key, c), True) for c in _key_columns(key)]
        if reader == "csv":
            cases += [(key, "cut_mid_line", cut_mid_line, True),
                      (key, "cut_mid_line_then_newline", cut_mid_line_then_newline, True)]
        else:
            cases += [(key, "cut_mid_file", cut_mid_file, True), (key, "text_renamed", text, False)]
        cases += [(key, "no_rows", no_rows, True), (key, "empty", empty, True), (key, "png_renamed", png, False)]
        if SCHEMAS[key].unique:
            cases.append((key, "repeated_row", repeated_row, True))
        if key in COVERAGE:
            cases.append((key, "first_rows", first_rows, False))
    return [pytest.param(*case, id=f"{case[0]}-{case[1]}",
                         marks=() if _quick(case[0], case[1]) else pytest.mark.slow) for case in cases]


def _quick(key: str, name: str) -> bool:
    """Whether `make test` runs this case: every file's first bad cell, and every damage of the first file of each
    format (CSV, R, Stata); `make test-slow` runs the rest."""
    reader = RAW_FILES[key].reader
    first = next(k for k in RAW_FILES if RAW_FILES[k].reader == reader)
    return key == first or name == f"bad_cell_{_key_columns(key)[0]}"


# ------------------------------------------------------------------------------------------------ tests

@pytest.mark.integration
@pytest.mark.parametrize("key, name, damage, exact", _cases(CLI_KEYS))
def test_damaged_raw_file_stops_data_with_one_line_and_no_panel(key, name, damage, exact, mirror, raw_dir,
                                                                 real_frames, tmp_path):
    expected = damage(_replace(mirror, key), raw_dir, real_frames)
    out = tmp_path / "build" / "panel.nc"
    extra = {"maoz_powers": ["--regional-powers", "maoz"], "dcad": ["--design", "country_year"],
             "atop_inst": ["--design", "pact"]}.get(key, [])
    result = runner.invoke(app, ["data", "--data-dir", str(mirror), "--out", str(out), *extra])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    message = " ".join(result.output.split()).removeprefix("error: ")
    assert message == expected if exact else re.fullmatch(expected, message), (message, expected)
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())  # no temporary file left either


def _read_columns() -> list:
    """(file, column, the rules it is read with) for every column a build step reads: each schema's and the
    concession items' of the ATOP member file (declared by the concession config)."""
    from data_prep.concessions import concession_columns

    cases = []
    for key, spec in RAW_FILES.items():
        extra = concession_columns() if key == "atop_members" else {}
        cases += [pytest.param(key, column, extra, id=f"{key}-{column}") for column in (*spec.columns, *extra)
                  if column not in ("stateabb", "statenme")]  # free text: any non-blank cell is valid
    return cases


@pytest.mark.integration
@pytest.mark.parametrize("key, column, extra", _read_columns())
def test_text_in_any_column_a_build_reads_is_refused_with_its_row(key, column, extra, real_frames):
    """Text where a number or a code is expected, in every column any build step reads (the real file's first rows
    with one cell replaced, checked as RawData.load checks it): one error naming the file, the row, the column and
    the value, never a missing value counted as 0. The file round trip of such a cell: the bad_cell cases."""
    path = Path("/data") / RAW_FILES[key].relpath
    table = real_frames[RAW_FILES[key].relpath].head(KEPT_ROWS).astype({column: object})
    table.loc[BAD_ROW - 1, column] = "x7"
    with pytest.raises(DataError, match=f"^{re.escape(f'{path}: {_where(key, BAD_ROW)}, column {column!r}: ')}"
                                        r"'x7' is not "):
        schemas.check_raw_frame(key, table, path, extra)


@pytest.mark.integration
@pytest.mark.parametrize("key, name, damage, exact", _cases(["leeds_savun"]))
def test_damaged_validation_file_is_refused_on_load(key, name, damage, exact, mirror, raw_dir, real_frames):
    """leeds_savun is read only by `data --check`, which checks it (schema and years) before the build."""
    expected = damage(_replace(mirror, key), raw_dir, real_frames)
    with pytest.raises(DataError) as caught:
        RawData(mirror).validate_all([key], (1960, 2010))
    message = str(caught.value)
    assert message == expected if exact else re.fullmatch(expected, message), (message, expected)


@pytest.mark.integration
def test_damaged_validation_file_with_check_leaves_no_panel(mirror, raw_dir, real_frames, tmp_path):
    path = _replace(mirror, "leeds_savun")
    empty(path, raw_dir, real_frames)
    out = tmp_path / "panel.nc"
    result = runner.invoke(app, ["data", "--data-dir", str(mirror), "--out", str(out), "--start", "1960",
                                 "--end", "1961", "--check"])
    assert result.exit_code == 2 and f"{path}: empty file (0 bytes)" in " ".join(result.output.split())
    assert not out.exists()


@pytest.mark.integration
def test_undamaged_mirror_passes_validation(mirror):
    """The mirror itself is sound: validation of every file over the default window raises nothing."""
    from data_prep.panel import PanelOptions, panel_sources

    RawData(mirror).validate_all(panel_sources(PanelOptions()), (1960, 2010))


def test_every_raw_file_gets_every_applicable_damage():
    names = {(p.values[0], p.values[1]) for p in _cases(list(RAW_FILES))}
    for key, spec in RAW_FILES.items():
        expected = {"no_rows", "empty", "png_renamed"} | {f"bad_cell_{c}" for c in _key_columns(key)}
        expected |= {"cut_mid_line", "cut_mid_line_then_newline"} if spec.reader == "csv" else {"cut_mid_file",
                                                                                              "text_renamed"}
        expected |= {"repeated_row"} if SCHEMAS[key].unique else set()
        expected |= {"first_rows"} if key in COVERAGE else set()
        assert {n for k, n in names if k == key} == expected, key
