"""Registry and readers for the raw source files, with checks on presence, readability, columns and values.

Every raw file the panel uses is named here once, with the columns the pipeline needs from it. Reading goes
through :class:`RawData`, which checks each file against its declared schema (data_prep.schemas) and records the
sha256 of each file it opens so that the built panel can carry its own provenance.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

DATA_DIR_ENV = "COUPPROOF_DATA_DIR"
DEFAULT_DATA_DIR = Path("../shared/data/raw")


class DataError(ValueError):
    """A raw input is missing, unreadable or not shaped as expected; the message names the file and the problem."""


@dataclass(frozen=True)
class RawFile:
    """One raw file: where it lives under the data directory, how to read it and which columns we rely on."""

    relpath: str
    reader: str  # "csv", "rda" or "dta"
    columns: tuple[str, ...]
    rda_object: str | None = None


RAW_FILES: dict[str, RawFile] = {
    "cow_states": RawFile(
        "peacesciencer/cow_states.rda", "rda",
        ("ccode", "stateabb", "statenme", "styear", "stmonth", "stday", "endyear", "endmonth", "endday"), "cow_states"),
    "cow_ddy": RawFile("peacesciencer/cow_ddy.rda", "rda", ("ccode1", "ccode2", "year"), "cow_ddy"),
    "cow_majors": RawFile("peacesciencer/cow_majors.rda", "rda", ("ccode", "styear", "endyear"), "cow_majors"),
    "cow_contdir": RawFile(
        "peacesciencer/cow_contdir.rda", "rda", ("ccode1", "ccode2", "conttype", "stdate", "enddate"), "cow_contdir"),
    "cow_nmc": RawFile(
        "peacesciencer/cow_nmc.rda", "rda", ("ccode", "year", "milex", "milper", "tpop", "cinc"), "cow_nmc"),
    "atop_ddy": RawFile(
        "peacesciencer/atop_alliance.rda", "rda",
        ("ccode1", "ccode2", "year", "atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"),
        "atop_alliance"),
    "gml_mids": RawFile(
        "peacesciencer/gml_mid_ddydisps.rda", "rda", ("dispnum", "ccode1", "ccode2", "year", "gmlmidongoing"),
        "gml_mid_ddydisps"),
    "td_rivalries": RawFile(
        "peacesciencer/td_rivalries.rda", "rda", ("rivalryno", "ccode1", "ccode2", "styear", "endyear"),
        "td_rivalries"),
    "maoz_powers": RawFile(
        "peacesciencer/maoz_powers.rda", "rda", ("ccode", "regstdate", "regenddate"), "maoz_powers"),
    "atop_alliances": RawFile(
        "atop/atop5_1a.csv", "csv", ("atopid", "begyr", "endyr", "bilat", "defense", "version")),
    "atop_members": RawFile(
        "atop/atop5_1m.csv", "csv",
        ("atopid", "member", "yrent", "moent", "dayent", "yrexit", "phase", "bilat", "defense")),
    "atop_inst": RawFile("atop/atopinst5_1.csv", "csv", ("atopid", "atopidphase", "milinst", "formal")),
    "polity": RawFile(
        "polity/polity5.rda", "rda",
        ("polity_annual_ccode", "cown", "year", "polity", "polity2", "byear"), "polity5"),
    "ssf": RawFile("ssf/secret police repression_replication data.dta", "dta", ("ccode", "year", "cbcount")),
    "coups": RawFile("coups_pt/ptcoups.csv", "csv", ("ccode", "year", "coup")),
    "gwf": RawFile("gwf/GWF_AllPoliticalRegimes.dta", "dta", ("cowcode", "year", "gwf_regimetype")),
    "dcad": RawFile(
        "dcad/DCAD-v1.0-main.csv", "csv",
        ("DCAid", "ccode1", "ccode2", "type", "signYear", "EIFYear", "terminated", "durationActual", "endYearEstimate")),
    "leeds_savun": RawFile("validation/leeds-savun-threat.csv", "csv", ("ccode", "year", "lsthreat")),
}


def resolve_data_dir(option: str | os.PathLike | None = None) -> Path:
    """The raw data directory: the CLI option if given, else $COUPPROOF_DATA_DIR, else ../shared/data/raw."""
    chosen = option if option is not None else os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    return Path(chosen).expanduser()


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_csv_ends_cleanly(path: Path, n_columns: int) -> None:
    """Refuse a CSV file cut off mid-line: its last line must end with a line break and hold every field."""
    with open(path, "rb") as handle:
        content = handle.read()
    lines = content.count(b"\n") + (not content.endswith(b"\n"))
    if not content.endswith(b"\n"):
        raise DataError(f"{path}: line {lines} ends without a line break; the file looks cut off mid-line")
    last = content.rstrip(b"\r\n").rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace")
    fields = len(next(csv.reader([last]), []))
    if fields != n_columns:
        raise DataError(f"{path}: line {lines} has {fields} of {n_columns} fields; the file looks cut off mid-line")


def _read(path: Path, spec: RawFile) -> pd.DataFrame:
    if spec.reader == "csv":
        frame = pd.read_csv(path, low_memory=False, on_bad_lines="error")
        _check_csv_ends_cleanly(path, len(frame.columns))
        return frame
    if spec.reader == "rda":
        from .user_table import read_r

        return read_r(path, spec.rda_object)
    if spec.reader == "dta":
        from .user_table import read_stata

        return read_stata(path)
    raise ValueError(f"unknown reader {spec.reader!r}")


@dataclass
class RawData:
    """Reads raw files from one data directory, checks them, caches them and records their checksums."""

    data_dir: Path
    checksums: dict[str, str] = field(default_factory=dict)
    _cache: dict[tuple, pd.DataFrame] = field(default_factory=dict, repr=False)
    _files: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        if not self.data_dir.is_dir():
            raise DataError(
                f"raw data directory {self.data_dir} does not exist; pass --data-dir or set {DATA_DIR_ENV}")

    def path(self, key: str) -> Path:
        """Absolute path of a registered raw file."""
        return self.data_dir / RAW_FILES[key].relpath

    def load(self, key: str, extra: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """The raw table `key` (see RAW_FILES) with only its declared columns, checked against its schema (types,
        missing values, ranges, keys: data_prep.schemas); `extra` declares further columns a step reads with their
        rules (e.g. the concession items a config names: schemas.provision_code()). A column not declared is not in
        the frame, so a build step cannot read a column that no schema checks. A copy-safe cached frame."""
        extra = dict(extra or {})
        cache_key = (key, tuple(sorted(extra)))
        if cache_key in self._cache:
            return self._cache[cache_key]
        spec = RAW_FILES[key]
        path = self.path(key)
        frame = self._read_checked(key, path, spec)
        missing = [c for c in (*spec.columns, *extra) if c not in frame.columns]
        if missing:
            raise DataError(f"{path}: missing required column(s) {', '.join(missing)}")
        from .schemas import check_raw_frame  # pandera is imported only when a file is read

        check_raw_frame(key, frame, path, extra)
        self.checksums[spec.relpath] = sha256_of(path)
        declared = frame[list(dict.fromkeys([*spec.columns, *extra]))].copy()
        self._cache[cache_key] = declared
        return declared

    def _read_checked(self, key: str, path: Path, spec: RawFile) -> pd.DataFrame:
        """The whole file as read, once per key; a missing, empty or unparsable file is one DataError."""
        if key in self._files:
            return self._files[key]
        if not path.is_file():
            raise DataError(f"{path}: raw file missing (needed for '{key}')")
        if path.stat().st_size == 0:
            raise DataError(f"{path}: empty file (0 bytes)")
        try:
            frame = _read(path, spec)
        except DataError:
            raise
        except Exception as exc:  # any parser failure means the file is unusable
            raise DataError(f"{path}: cannot be read as {spec.reader} ({type(exc).__name__}: {exc})") from exc
        self._files[key] = frame
        return frame

    def validate_all(self, keys: Iterable[str], window: tuple[int, int] | None = None) -> None:
        """Read and check every file in `keys` before any work: its schema, its rows against the release's floor,
        the ids it shares with another of `keys`, and, with a panel window (first, last year), the years that
        panel reads."""
        from .schemas import check_coverage, check_shared_keys, check_state_codes

        keys = list(keys)
        frames = {key: self.load(key) for key in keys}
        for key, frame in frames.items():
            check_coverage(key, frame, self.path(key), window)
        paths = {key: self.path(key) for key in keys}
        check_shared_keys(frames, paths)
        check_state_codes(frames, paths)
