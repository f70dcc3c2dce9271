"""The panel stage: a study's panel built from the raw files (the directed dyad-years of McWard & Yoon, the
country-years of Rahman, the new pacts of Kim & Woods), optionally compared with the paper's sample sizes and
summary statistics."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..defaults import COUNTRY_YEAR_PANEL, PACT_PANEL, PANEL
from .base import Progress


@dataclass(frozen=True)
class Design:
    """A panel design: where its panel goes by default, its first year, and how its built panel is described."""

    out: Path
    start: int | None
    describe: Callable[[object], str]  # the built panel (an xarray.Dataset) -> one line


def _dyad(ds) -> str:
    return (f"{int(ds['in_panel'].sum()):,} directed dyad-years, {ds.sizes['dyad']:,} dyads, "
            f"{int(ds['new_defense_pact'].sum())} new pacts")


def _country_year(ds) -> str:
    return (f"{int(ds['in_panel'].sum()):,} country-years, {ds.sizes['country']} countries, "
            f"{int(ds['coup_attempt'].sum())} coup attempts")


def _pact(ds) -> str:
    return (f"{ds.sizes['pact']} new pacts, {int(ds['sample_milinst'].sum())} with military institutionalization and "
            "every predictor")


DESIGNS: dict[str, Design] = {
    "dyad": Design(PANEL, 1960, _dyad),
    "country_year": Design(COUNTRY_YEAR_PANEL, 1981, _country_year),
    "pact": Design(PACT_PANEL, None, _pact),
}


@dataclass(frozen=True)
class PanelSettings:
    """How to build a panel. `design` is dyad (McWard & Yoon: directed dyad-years), country_year (Rahman 2026) or
    pact (Kim & Woods 2022); the threat, concession and State A options are the dyad design's, `dca_start` the
    country-year design's. `data_dir` defaults to $COUPPROOF_DATA_DIR or ../shared/data/raw; `start` to the
    design's first year. `check` compares a dyad panel with the paper."""

    design: str = "dyad"
    data_dir: Path | None = None
    start: int | None = None
    end: int = 2010
    max_polity_a: int = 6
    alliance_exclusion: str = "four"
    major_prie: str = "whole_system"
    sscore: str = "unweighted"
    regional_powers: str = "off"
    concession_scoring: str = "binary"
    concession_items: str = "autonomy"
    concession_config: Path | None = None
    dca_start: str = "signature"
    check: bool = False

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise ValueError(f"--design must be one of {', '.join(DESIGNS)}, got {self.design!r}")
        if not -10 <= self.max_polity_a <= 99:
            raise ValueError(f"--max-polity-a must lie between -10 and 10 (or 10 and above for every state), got "
                             f"{self.max_polity_a}")

    @property
    def default_out(self) -> Path:
        return DESIGNS[self.design].out

    @property
    def first_year(self) -> int | None:
        return DESIGNS[self.design].start if self.start is None else self.start

    def dyad_options(self):
        """The dyad design's data_prep.panel.PanelOptions (an item table that cannot be read fails here)."""
        from data_prep.concessions import ConcessionOptions, load_concession_items
        from data_prep.panel import PanelOptions, polity_limit
        from data_prep.threat import ThreatOptions

        options = PanelOptions(
            start=self.first_year, end=self.end, max_polity_a=polity_limit(self.max_polity_a),
            threat=ThreatOptions(alliance_exclusion=self.alliance_exclusion, major_prie=self.major_prie,
                                 sscore=self.sscore, regional_powers=self.regional_powers),
            concessions=ConcessionOptions(scoring=self.concession_scoring, item_list=self.concession_items,
                                          config_path=self.concession_config))
        load_concession_items(options.concessions)
        return options


@dataclass
class PanelResult:
    """A built panel, its design and, with `check`, its comparison with the paper (a Markdown page and a table)."""

    panel: object  # xarray.Dataset
    design: str = "dyad"
    check: str | None = None
    comparison: pd.DataFrame | None = None
    seconds: float = 0.0

    @staticmethod
    def check_paths(out: str | os.PathLike) -> tuple[Path, Path]:
        """Where the comparison goes: beside the panel, as <stem>_check.md and .csv."""
        out = Path(out)
        return out.with_name(out.stem + "_check.md"), out.with_name(out.stem + "_check.csv")

    def write(self, out: str | os.PathLike) -> Path:
        """The panel as netCDF at `out` (and the comparison beside it); returns the panel's path."""
        from data_prep.io import atomic_write_text
        from data_prep.panel import write_panel

        path = write_panel(self.panel, out)
        if self.check is not None:
            markdown, table = self.check_paths(out)
            atomic_write_text(markdown, self.check)
            atomic_write_text(table, self.comparison.to_csv(index=False))
        return path

    @classmethod
    def read(cls, out: str | os.PathLike) -> "PanelResult":
        """The panel at `out` (and its comparison, where written)."""
        from data_prep.panel import read_panel

        ds = read_panel(out)
        markdown, table = cls.check_paths(out)
        return cls(ds, str(ds.attrs.get("design", "dyad")), markdown.read_text() if markdown.is_file() else None,
                   pd.read_csv(table) if table.is_file() else None)

    def summary(self) -> str:
        """One line: what the panel holds."""
        return DESIGNS[self.design].describe(self.panel)


def build_panel(settings: PanelSettings, progress: Progress | None = None) -> PanelResult:
    """Build the settings' panel from the raw files (every raw file checked before the build)."""
    from data_prep.sources import RawData, resolve_data_dir

    progress = progress or Progress()
    data_dir = resolve_data_dir(settings.data_dir)
    options = settings.dyad_options() if settings.design == "dyad" else None  # a broken item table fails first
    began = time.perf_counter()
    with progress.status(f"Building the {settings.design} panel from {data_dir} ..."):
        raw = RawData(data_dir)
        if settings.design == "country_year":
            from data_prep.country_year import CountryYearOptions, build_country_year_panel

            ds = build_country_year_panel(raw, CountryYearOptions(start=settings.first_year, end=settings.end,
                                                                  dca_start=settings.dca_start))
        elif settings.design == "pact":
            from data_prep.institutions import build_pact_panel

            ds = build_pact_panel(raw)
        else:
            from data_prep.panel import build_panel as build_dyads

            if settings.check:
                raw.load("leeds_savun")  # the check's validation file fails now, not after the build
            ds = build_dyads(raw, options)
    result = PanelResult(ds, settings.design, seconds=time.perf_counter() - began)
    if settings.check and settings.design == "dyad":
        from data_prep.checks import compare_with_paper, format_report, sample_overview, threat_validation

        result.comparison = compare_with_paper(ds)
        result.check = format_report(sample_overview(ds), result.comparison, threat_validation(raw, options))
    return result
