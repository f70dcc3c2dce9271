"""Tests for data_prep.sources: data-directory resolution and RawData's checks, errors and checksums."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from data_prep.sources import (
    DATA_DIR_ENV,
    DEFAULT_DATA_DIR,
    RAW_FILES,
    DataError,
    RawData,
    resolve_data_dir,
    sha256_of,
)

COUPS_CSV = "country,ccode,year,month,day,coup,version\nX,100,1960,1,2,1,v\nY,101,1961,3,4,2,v\n"


def _write(root: Path, relpath: str, content: str | bytes) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


# ---------------------------------------------------------------------------------------------- resolve_data_dir

def test_resolve_data_dir_option_wins_over_env(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "from_env"))
    assert resolve_data_dir(tmp_path / "from_option") == tmp_path / "from_option"
    assert resolve_data_dir(str(tmp_path / "opt")) == tmp_path / "opt"


def test_resolve_data_dir_env_over_default(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "from_env"))
    assert resolve_data_dir() == tmp_path / "from_env"
    assert resolve_data_dir(None) == tmp_path / "from_env"


def test_resolve_data_dir_default(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert resolve_data_dir() == Path("../shared/data/raw") == DEFAULT_DATA_DIR


def test_resolve_data_dir_empty_env_falls_back_to_default(monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, "")
    assert resolve_data_dir() == DEFAULT_DATA_DIR


def test_resolve_data_dir_expands_user(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_data_dir("~/raw") == tmp_path / "raw"
    assert isinstance(resolve_data_dir("~/raw"), Path)


# ---------------------------------------------------------------------------------------------- registry

def test_registry_paths_and_readers():
    assert RAW_FILES["coups"].relpath == "coups_pt/ptcoups.csv"
    assert RAW_FILES["coups"].columns == ("ccode", "year", "coup")
    for key, spec in RAW_FILES.items():
        assert spec.reader in {"csv", "rda", "dta"}, key
        assert spec.relpath.endswith("." + spec.reader), key
        assert (spec.rda_object is not None) == (spec.reader == "rda"), key


# ---------------------------------------------------------------------------------------------- RawData errors

def test_missing_directory(tmp_path):
    missing = tmp_path / "nope"
    expected = f"raw data directory {missing} does not exist; pass --data-dir or set COUPPROOF_DATA_DIR"
    with pytest.raises(DataError, match=f"^{re.escape(expected)}$"):
        RawData(missing)


def test_a_file_is_not_a_directory(tmp_path):
    file = _write(tmp_path, "plain.txt", "x")
    with pytest.raises(DataError, match="does not exist"):
        RawData(file)


def test_missing_file_names_the_path(tmp_path):
    raw = RawData(tmp_path)
    expected = f"{tmp_path / 'coups_pt' / 'ptcoups.csv'}: raw file missing (needed for 'coups')"
    with pytest.raises(DataError, match=f"^{re.escape(expected)}$"):
        raw.load("coups")
    assert raw.checksums == {}


def test_renamed_required_column_names_column_and_file(tmp_path):
    path = _write(tmp_path, "coups_pt/ptcoups.csv", COUPS_CSV.replace(",coup,", ",coup_type,"))
    raw = RawData(tmp_path)
    expected = f"{path}: missing required column(s) coup"
    with pytest.raises(DataError, match=f"^{re.escape(expected)}$"):
        raw.load("coups")
    assert raw.checksums == {}


def test_several_missing_columns_are_all_named(tmp_path):
    path = _write(tmp_path, "validation/leeds-savun-threat.csv", "country,yr,lsthreat\n2,1990,0.1\n")
    with pytest.raises(DataError, match=re.escape(f"{path}: missing required column(s) ccode, year")):
        RawData(tmp_path).load("leeds_savun")


def test_garbage_dta_is_unreadable(tmp_path):
    path = _write(tmp_path, RAW_FILES["gwf"].relpath, b"\x00\x01 this is not a stata file \xff\xfe" * 10)
    with pytest.raises(DataError, match=f"^{re.escape(f'{path}: cannot be read as dta (')}"):
        RawData(tmp_path).load("gwf")


def test_garbage_rda_is_unreadable(tmp_path):
    path = _write(tmp_path, RAW_FILES["polity"].relpath, b"RDX3\nnot really R data\x00\x17" * 5)
    with pytest.raises(DataError, match=f"^{re.escape(f'{path}: cannot be read as rda (')}"):
        RawData(tmp_path).load("polity")


def test_rda_without_the_expected_object(tmp_path):
    pyreadr = pytest.importorskip("pyreadr")
    path = tmp_path / RAW_FILES["cow_majors"].relpath
    path.parent.mkdir(parents=True)
    pyreadr.write_rdata(str(path), pd.DataFrame({"ccode": [2.0], "styear": [1898.0], "endyear": [2016.0]}),
                        df_name="something_else")
    expected = f"{path}: R object 'cow_majors' not found (found: something_else)"
    with pytest.raises(DataError, match=f"^{re.escape(expected)}$"):
        RawData(tmp_path).load("cow_majors")


def test_rda_with_the_expected_object_loads(tmp_path):
    pyreadr = pytest.importorskip("pyreadr")
    path = tmp_path / RAW_FILES["cow_majors"].relpath
    path.parent.mkdir(parents=True)
    pyreadr.write_rdata(str(path), pd.DataFrame({"ccode": [2.0, 200.0], "styear": [1898.0, 1816.0],
                                                 "endyear": [2016.0, 2016.0]}), df_name="cow_majors")
    frame = RawData(tmp_path).load("cow_majors")
    assert frame["ccode"].tolist() == [2.0, 200.0]


# ---------------------------------------------------------------------------------------------- RawData success

def test_load_csv_records_checksum_and_caches(tmp_path):
    path = _write(tmp_path, "coups_pt/ptcoups.csv", COUPS_CSV)
    raw = RawData(str(tmp_path))  # a string directory is accepted and turned into a Path
    assert isinstance(raw.data_dir, Path)
    assert raw.path("coups") == tmp_path / "coups_pt" / "ptcoups.csv"
    assert raw.checksums == {}
    frame = raw.load("coups")
    assert frame["ccode"].tolist() == [100, 101]
    assert frame["coup"].tolist() == [1, 2]
    assert raw.checksums == {"coups_pt/ptcoups.csv": hashlib.sha256(path.read_bytes()).hexdigest()}
    # cached: a second load returns the same object even after the file is gone
    path.unlink()
    assert raw.load("coups") is frame


def test_load_gives_only_the_declared_columns_so_no_step_reads_an_unchecked_one(tmp_path):
    """A column the schema does not declare is not in the loaded frame: a build step that read one would fail in
    the tests that build panels from the raw files, instead of reading a column no schema checks."""
    _write(tmp_path, "coups_pt/ptcoups.csv", "ccode,year,coup,note\n100,1960,1,x\n101,1961,2,y\n")
    raw = RawData(tmp_path)
    assert list(raw.load("coups").columns) == ["ccode", "year", "coup"]
    with pytest.raises(DataError, match=r"ptcoups.csv: missing required column\(s\) version$"):
        raw.load("coups", extra={"version": None})


def test_checksums_for_several_files(tmp_path):
    coups = _write(tmp_path, "coups_pt/ptcoups.csv", COUPS_CSV)
    ls = _write(tmp_path, "validation/leeds-savun-threat.csv", "ccode,year,lsthreat\n2,1990,0.25\n")
    raw = RawData(tmp_path)
    raw.load("coups")
    raw.load("leeds_savun")
    assert raw.checksums == {
        "coups_pt/ptcoups.csv": hashlib.sha256(coups.read_bytes()).hexdigest(),
        "validation/leeds-savun-threat.csv": hashlib.sha256(ls.read_bytes()).hexdigest(),
    }


def test_sha256_of_matches_hashlib_on_large_file(tmp_path):
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 9000  # > 2 MiB read in 1 MiB chunks
    path.write_bytes(data)
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    assert sha256_of(empty) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
