"""The panel stage: a study's panel built from the raw files.

The directed dyad-years of McWard & Yoon, the country-years of Rahman or the new pacts of Kim & Woods; a dyad panel
can be compared with the paper's sample sizes and summary statistics.
"""

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
    """A panel design: where its panel goes by default, its first year, and how its built panel is described.

    Parameters
    ----------
    out : pathlib.Path
        Where the design's panel is written by default.
    start : int or None
        The design's first year (None: the design has no year window).
    describe : collections.abc.Callable
        Turns the built panel (an xarray.Dataset) into one line saying what it holds.
    """

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


MIN_WINDOW = 2  # years of the shortest panel window
DYAD_OPTIONS = ("max_polity_a", "alliance_exclusion", "major_prie", "sscore", "regional_powers", "concession_scoring",
                "concession_items", "concession_config", "check")  # the dyad design's own options

DESIGNS: dict[str, Design] = {
    "dyad": Design(PANEL, 1960, _dyad),
    "country_year": Design(COUNTRY_YEAR_PANEL, 1981, _country_year),
    "pact": Design(PACT_PANEL, None, _pact),
}


@dataclass(frozen=True)
class PanelSettings:
    """How to build a panel: the options of `coupproof data`, checked on creation.

    The threat, concession and State A options are the dyad design's, `dca_start` the country-year design's.

    Parameters
    ----------
    design : str, optional
        "dyad" (McWard & Yoon: directed dyad-years; the default), "country_year" (Rahman 2026: defense cooperation
        agreements and coups) or "pact" (Kim & Woods 2022: new pacts and their institutionalization).
    data_dir : pathlib.Path, optional
        The raw data directory (one folder per source); default: $COUPPROOF_DATA_DIR or ../shared/data/raw.
    start : int, optional
        The panel's first year; default: the design's (1960 for dyad, 1981 for country_year).
    end : int, optional
        The panel's last year (default: 2010).
    max_polity_a : int, optional
        State A is a nondemocracy: its Polity2 score is at most this (default: 6; 10 or above keeps every state).
    alliance_exclusion : str, optional
        Threat: the alliance types that make a state a non-adversary, "four" (default) or "five" (adds
        nonaggression pacts).
    major_prie : str, optional
        Threat: a major power's politically relevant environment, "whole_system" (default) or "contig_majors".
    sscore : str, optional
        Threat: the S-score variant, "unweighted" (default) or "weighted" (by CINC).
    regional_powers : str, optional
        Threat: "off" (default) or "maoz" (Maoz's regional powers join the environment of states in their region).
    concession_scoring : str, optional
        Concessions: "binary" (default) or "ordinal_sum".
    concession_items : str, optional
        Concessions: the item list, "broad" (default: the reading closest to Table 5), "autonomy" or "alley".
    concession_config : pathlib.Path, optional
        Concessions: your own item table (TOML) instead of a packaged list.
    dca_start : str, optional
        Country-years: a defense cooperation agreement is in force from its "signature" (default) or its
        "entry_into_force" year (where the DCAD has one).
    check : bool, optional
        Whether to compare a dyad panel with the paper's sample sizes and summary statistics (default: False).

    Raises
    ------
    ValueError
        If `design` is unknown, `max_polity_a` is below -10, an option of another design is given, or the year
        window spans fewer than MIN_WINDOW years, naming the option.

    Examples
    --------
    >>> import coupproof as cp
    >>> settings = cp.PanelSettings(design="dyad", max_polity_a=5, check=True)
    >>> settings = cp.PanelSettings(design="country_year", dca_start="entry_into_force")
    """

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
    concession_items: str = "broad"
    concession_config: Path | None = None
    dca_start: str = "signature"
    check: bool = False

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise ValueError(f"--design must be one of {', '.join(DESIGNS)}, got {self.design!r}")
        if self.max_polity_a < -10:
            raise ValueError(f"--max-polity-a must be -10 or above (10 and above keep every state), got "
                             f"{self.max_polity_a}")
        self._refuse_options_of_other_designs()
        first = self.first_year
        if first is not None and self.end - first < MIN_WINDOW - 1:
            raise ValueError(f"the year window {first}-{self.end} must span at least {MIN_WINDOW} years (lags and "
                             "changes read the year before)")

    def _refuse_options_of_other_designs(self) -> None:
        """Refuse, not ignore, an option of another design.

        The dyad design's threat, concession, State A and check options, the country-year design's dca_start, and
        the year window for the pact design (its pacts come from the default dyad panel).
        """
        defaults = PanelSettings.__dataclass_fields__
        own = {"dyad": DYAD_OPTIONS + ("start", "end"), "country_year": ("dca_start", "start", "end"), "pact": ()}
        for name in DYAD_OPTIONS + ("dca_start", "start", "end"):
            if name not in own[self.design] and getattr(self, name) != defaults[name].default:
                raise ValueError(f"--{name.replace('_', '-')} does not apply to --design {self.design}; leave it out")

    @property
    def default_out(self) -> Path:
        """Where the design's panel goes by default (build/panel.nc for the dyad design)."""
        return DESIGNS[self.design].out

    @property
    def first_year(self) -> int | None:
        """The panel's first year: `start`, or the design's first year where it is not given."""
        return DESIGNS[self.design].start if self.start is None else self.start

    def dyad_options(self):
        """Turn the settings into the dyad design's panel options.

        The concession item table is read here, so that one that cannot be read fails before any work.

        Returns
        -------
        data_prep.panel.PanelOptions
            The options `data_prep.panel.build_panel` takes.

        Raises
        ------
        ValueError
            If a threat or concession option is not one of its choices, the year window lies outside the sources'
            coverage, or the concession item table cannot be read (naming the file).
        """
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
    """A built panel, its design and, with `check`, its comparison with the paper (a Markdown page and a table).

    Attributes
    ----------
    panel : xarray.Dataset
        The panel.
    design : str
        "dyad", "country_year" or "pact".
    check : str or None
        The comparison with the paper as a Markdown page (None without `check`).
    comparison : pandas.DataFrame or None
        The comparison as a table: per variable and statistic, the paper's value and ours.
    seconds : float
        How long the build took.

    Examples
    --------
    >>> import coupproof as cp
    >>> result = cp.PanelResult.read("build/panel.nc")
    >>> print(result.summary())
    """

    panel: object  # xarray.Dataset
    design: str = "dyad"
    check: str | None = None
    comparison: pd.DataFrame | None = None
    seconds: float = 0.0

    @staticmethod
    def check_paths(out: str | os.PathLike) -> tuple[Path, Path]:
        """Say where the comparison goes: beside the panel, as <stem>_check.md and <stem>_check.csv.

        Parameters
        ----------
        out : str or os.PathLike
            The panel's file.

        Returns
        -------
        tuple of pathlib.Path
            The Markdown page's path and the table's.
        """
        out = Path(out)
        return out.with_name(out.stem + "_check.md"), out.with_name(out.stem + "_check.csv")

    def write(self, out: str | os.PathLike) -> Path:
        """Write the panel as netCDF at `out`, and the comparison beside it where there is one.

        Parameters
        ----------
        out : str or os.PathLike
            The panel's file, e.g. build/panel.nc.

        Returns
        -------
        pathlib.Path
            The panel's file.
        """
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
        """Read the panel at `out`, and its comparison where one was written.

        Parameters
        ----------
        out : str or os.PathLike
            The panel's file.

        Returns
        -------
        PanelResult
            The panel, its design and its comparison (None where none was written).

        Raises
        ------
        data_prep.sources.DataError
            If the panel file is missing or is not a readable panel.
        """
        from data_prep.panel import read_panel

        ds = read_panel(out)
        markdown, table = cls.check_paths(out)
        return cls(ds, str(ds.attrs.get("design", "dyad")), markdown.read_text() if markdown.is_file() else None,
                   pd.read_csv(table) if table.is_file() else None)

    def summary(self) -> str:
        """Say in one line what the panel holds (e.g. dyad-years, dyads and new pacts).

        Returns
        -------
        str
            The line.
        """
        return DESIGNS[self.design].describe(self.panel)


def build_panel(settings: PanelSettings, progress: Progress | None = None) -> PanelResult:
    """Build the settings' panel from the raw files (every raw file checked before the build).

    With `check`, a dyad panel is also compared with the paper; `coupproof data` runs this stage.

    Parameters
    ----------
    settings : PanelSettings
        The design and its options.
    progress : Progress, optional
        Where the stage says what it is doing; default: a status line on stderr.

    Returns
    -------
    PanelResult
        The panel (and its comparison with the paper), held in memory until written.

    Raises
    ------
    data_prep.sources.DataError
        If a raw file is missing or damaged (naming it).
    ValueError
        If a dyad option or the concession item table is refused.

    Examples
    --------
    >>> import coupproof as cp
    >>> result = cp.build_panel(cp.PanelSettings(design="dyad", check=True))
    >>> result.write("build/panel.nc")  # and build/panel_check.md and .csv
    >>> print(result.summary())
    """
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
                raw.validate_all(["leeds_savun"], (options.start, options.end))  # fails now, not after the build
            ds = build_dyads(raw, options)
    result = PanelResult(ds, settings.design, seconds=time.perf_counter() - began)
    if settings.check and settings.design == "dyad":
        from data_prep.checks import compare_with_paper, format_report, sample_overview, threat_validation

        result.comparison = compare_with_paper(ds)
        result.check = format_report(sample_overview(ds), result.comparison, threat_validation(raw, options))
    return result
