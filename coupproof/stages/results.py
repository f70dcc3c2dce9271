"""The results pages: Markdown pages of what the build produced (docs/results/).

The pages are generated from the build outputs so that no number in them can drift from what the code produces.
They read the outputs through the stages' result classes and never compute a result of their own; a page whose
outputs are missing says which `make` target builds them.

    from coupproof.stages.results import ResultsSettings, results_pages
    pages = results_pages(ResultsSettings(build=Path("build"), out=Path("docs/results")))
    pages.write("docs/results")
"""

from __future__ import annotations

import datetime
import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..defaults import (BUILD, COUNTRY_YEAR_PANEL, DYADIC_FITS, FITS, FREQ, PACT_PANEL, PANEL, PRIOR_CHECK,
                        REPORT, ROBUSTNESS, SENSITIVITY, VALIDATE)
from inference.diagnostics import NOT_FLAGGED
from reports.formatting import DIGITS, interval, number, present, with_interval, with_se

from .base import Progress
from .calibration import CalibrationResult
from .prior_check import PriorCheckResult
from .frequentist import FrequentistResult
from .panel import PanelResult
from .priors import PriorComparisonResult
from .report import ReportResult
from .robustness import RobustnessResult
from .sensitivity import SensitivityResult

BENCH = BUILD / "bench"
INDEX = "index.md"


@dataclass(frozen=True)
class Study:
    """A further study's outputs: its folder under the build (the Makefile's `study` template), title and target.

    Parameters
    ----------
    folder : pathlib.Path
        The study's folder, relative to the build folder (e.g. country_year).
    title : str
        The study's heading on the studies page.
    target : str
        The make target that builds its outputs (e.g. "make dca").
    """

    folder: Path  # relative to the build folder
    title: str
    target: str


STUDIES = (Study(COUNTRY_YEAR_PANEL.parent.relative_to(BUILD), "Second study: defense cooperation agreements and "
                 "coup attempts (Rahman 2026)", "make dca"),
           Study(PACT_PANEL.parent.relative_to(BUILD), "Third study: regime security and alliance "
                 "institutionalization (Kim & Woods 2022), exploratory", "make institutions"))


@dataclass(frozen=True)
class ResultsSettings:
    """Which build folder to read and where the pages go: the options of `coupproof results`.

    Parameters
    ----------
    build : pathlib.Path, optional
        The build folder to read, laid out as coupproof.defaults names it; default: build.
    out : pathlib.Path, optional
        Where the pages go; default: docs/results.
    pages : tuple of str, optional
        The pages to write, by name without ".md" (e.g. ("priors", "robustness")), so that a build holding only
        some outputs can refresh their pages and leave the others as they are; default: every page and the index.

    Raises
    ------
    ValueError
        If a page name is unknown, naming the known ones.

    Examples
    --------
    >>> from pathlib import Path
    >>> from coupproof.stages.results import ResultsSettings
    >>> settings = ResultsSettings(build=Path("build"), out=Path("docs/results"))
    >>> only = ResultsSettings(pages=("priors", "robustness"))
    """

    build: Path = BUILD
    out: Path = Path("docs/results")
    pages: tuple[str, ...] = ()

    def __post_init__(self):
        known = [name.removesuffix(".md") for name in PAGES]
        unknown = [name for name in self.pages if name not in known]
        if unknown:
            raise ValueError(f"unknown results page(s) {', '.join(map(repr, unknown))}; the pages are "
                             f"{', '.join(known)}")

    @property
    def page_files(self) -> list[str]:
        """The file names of the pages to write (every page where `pages` is empty)."""
        return [f"{name}.md" for name in self.pages] if self.pages else list(PAGES)

    def path(self, default: Path) -> Path:
        """Move a default build path (coupproof.defaults) into this build folder.

        Parameters
        ----------
        default : pathlib.Path
            A path under build/, e.g. coupproof.defaults.FITS.

        Returns
        -------
        pathlib.Path
            The same path under `build`.
        """
        return Path(self.build) / Path(default).relative_to(BUILD)

    @property
    def inputs(self) -> list[Path]:
        """What the pages read (the build folder), which an output must not overwrite."""
        return [Path(self.build)]


@dataclass
class ResultsPages:
    """The results pages by file name.

    Attributes
    ----------
    pages : dict of str to str
        Each page's Markdown text by file name (index.md, reproduction.md, bayesian.md, ...).

    Examples
    --------
    >>> from coupproof.stages.results import ResultsPages
    >>> ResultsPages.read("docs/results").pages["bayesian.md"]
    """

    pages: dict[str, str]

    def write(self, out: str | os.PathLike) -> list[Path]:
        """Write every page in `out` (atomically, one file each).

        Parameters
        ----------
        out : str or os.PathLike
            The output folder, e.g. docs/results.

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        from data_prep.io import atomic_write_text

        return [atomic_write_text(Path(out) / name, text) for name, text in self.pages.items()]

    @classmethod
    def read(cls, out: str | os.PathLike) -> "ResultsPages":
        """Read the pages in `out` (every .md file there).

        Parameters
        ----------
        out : str or os.PathLike
            The folder, e.g. docs/results.

        Returns
        -------
        ResultsPages
            The pages by file name.
        """
        return cls({p.name: p.read_text() for p in sorted(Path(out).glob("*.md"))})


# --- formatting ------------------------------------------------------------------------------------------------


Column = tuple[str, Callable[[pd.Series], str]]


def cell(name: str, digits: int = DIGITS) -> Callable[[pd.Series], str]:
    """Make a column's cells from one field of each row, formatted as the report formats numbers.

    Parameters
    ----------
    name : str
        The row's field.
    digits : int, optional
        Significant digits (default: reports.formatting.DIGITS).

    Returns
    -------
    collections.abc.Callable
        A function from a row to its cell's text.
    """
    return lambda row: number(row.get(name), digits)


def pair(estimate: str, se: str, digits: int = DIGITS) -> Callable[[pd.Series], str]:
    """Make a column's cells as 'estimate (SE)' from two fields of each row.

    Parameters
    ----------
    estimate : str
        The estimate's field.
    se : str
        The standard error's (or sd's) field.
    digits : int, optional
        Significant digits (default: reports.formatting.DIGITS).

    Returns
    -------
    collections.abc.Callable
        A function from a row to its cell's text.
    """
    return lambda row: with_se(row.get(estimate), row.get(se), digits)


def hdi(low: str, high: str, digits: int = DIGITS) -> Callable[[pd.Series], str]:
    """Make a column's cells as an interval '[low, high]' from two fields of each row.

    Parameters
    ----------
    low : str
        The lower end's field.
    high : str
        The upper end's field.
    digits : int, optional
        Significant digits (default: reports.formatting.DIGITS).

    Returns
    -------
    collections.abc.Callable
        A function from a row to its cell's text.
    """
    return lambda row: interval(row.get(low), row.get(high), digits)


def render(table: pd.DataFrame, columns: list[Column] | None = None, digits: int = DIGITS) -> str:
    """Render a table as Markdown, with the given columns or every column as the report shows it.

    Parameters
    ----------
    table : pandas.DataFrame
        The table.
    columns : list of (str, callable), optional
        (header, cell maker) pairs, e.g. ("ours (SE)", pair("ours", "our_se")); default: every column as the report
        shows it (reports.formatting.present: estimates with their intervals in one cell, headers in words).
    digits : int, optional
        Significant digits where `columns` is not given (default: reports.formatting.DIGITS).

    Returns
    -------
    str
        The Markdown table, or "(empty table)".
    """
    if table is None or table.empty:
        return "(empty table)"
    if columns is None:
        frame = present(table, digits=digits)[0]
    else:
        frame = pd.DataFrame([{title: make(row) for title, make in columns} for _, row in table.iterrows()],
                             columns=[title for title, _ in columns], dtype=object)
    return frame.to_markdown(index=False, disable_numparse=True)


def missing(what: str, path: Path, target: str) -> str:
    """Say in one line that an output is not built, and which make target builds it.

    Parameters
    ----------
    what : str
        The output, in words.
    path : pathlib.Path
        The file or folder that is missing.
    target : str
        The make target that builds it (e.g. "make fit").

    Returns
    -------
    str
        The line.
    """
    return f"{what}: not built (`{path}` is missing); run `{target}`."


def unreadable(what: str, path: Path, exc: Exception) -> str:
    """Say in one line that an output could not be read, and why.

    Parameters
    ----------
    what : str
        The output, in words.
    path : pathlib.Path
        Its file or folder.
    exc : Exception
        The error reading it gave.

    Returns
    -------
    str
        The line.
    """
    return f"{what}: `{path}` could not be read ({' '.join(str(exc).split())})."


def attempt(read: Callable[[], object]) -> tuple[object, Exception | None]:
    """Try to read an output: a page says what went wrong, it never fails.

    Parameters
    ----------
    read : collections.abc.Callable
        Reads the output (no arguments).

    Returns
    -------
    tuple
        What `read` returns and None, or None and the error it raised.
    """
    try:
        return read(), None
    except Exception as exc:  # noqa: BLE001 - any unreadable output becomes a line on its page
        return None, exc


class Build:
    """The build folder's outputs, each read through its result class (None where not built).

    Parameters
    ----------
    settings : ResultsSettings
        The build folder to read.

    Attributes
    ----------
    settings : ResultsSettings
        The build folder to read.
    problems : dict of str to str
        Each output that could not be read, with the line its page gives for it.
    """

    def __init__(self, settings: ResultsSettings):
        self.settings = settings
        self.problems: dict[str, str] = {}  # output -> why it could not be read

    def path(self, default: Path) -> Path:
        """Move a default build path (coupproof.defaults) into this build folder.

        Parameters
        ----------
        default : pathlib.Path
            A path under build/.

        Returns
        -------
        pathlib.Path
            The same path under the settings' build folder.
        """
        return self.settings.path(default)

    def read(self, key: str, what: str, path: Path, read: Callable[[], object], exists: bool | None = None):
        """Read an output where it exists; one that cannot be read is noted in `problems` and gives None.

        Parameters
        ----------
        key : str
            The output's key in `problems`.
        what : str
            The output, in words.
        path : pathlib.Path
            Its file or folder.
        read : collections.abc.Callable
            Reads it (no arguments).
        exists : bool, optional
            Whether it exists; default: whether `path` exists.

        Returns
        -------
        object or None
            What `read` returns, or None where the output does not exist or cannot be read.
        """
        if not (path.exists() if exists is None else exists):
            return None
        value, exc = attempt(read)
        if exc is not None:
            self.problems[key] = unreadable(what, path, exc)
        return value

    @functools.cached_property
    def main_panel(self) -> PanelResult | None:
        """The main study's panel and its comparison with the paper (read once; None where not built)."""
        return self.panel(self.path(PANEL))

    @functools.cached_property
    def main_freq(self) -> FrequentistResult | None:
        """The main study's frequentist results (read once; None where not built)."""
        return self.freq(self.path(FREQ))

    def panel(self, path: Path) -> PanelResult | None:
        """Read a panel and its comparison with the paper.

        Parameters
        ----------
        path : pathlib.Path
            The panel's file.

        Returns
        -------
        PanelResult or None
            The panel, or None where it is missing or cannot be read.
        """
        return self.read(str(path), "panel", path, lambda: PanelResult.read(path))

    def freq(self, folder: Path) -> FrequentistResult | None:
        """Read the frequentist results.

        Parameters
        ----------
        folder : pathlib.Path
            Their folder (e.g. build/freq).

        Returns
        -------
        FrequentistResult or None
            The results, or None where they are missing or cannot be read.
        """
        return self.read(str(folder), "frequentist results", FrequentistResult.path(folder),
                         lambda: FrequentistResult.read(folder))

    def report(self, folder: Path) -> ReportResult | None:
        """Read the report's tables and figures.

        Parameters
        ----------
        folder : pathlib.Path
            Its folder (e.g. build/report).

        Returns
        -------
        ReportResult or None
            The report, or None where it is missing or cannot be read.
        """
        return self.read(str(folder), "report", folder / ReportResult.PAGE, lambda: ReportResult.read(folder))

    def sensitivity(self, folder: Path) -> SensitivityResult | None:
        """Read the sensitivity results.

        Parameters
        ----------
        folder : pathlib.Path
            Their folder (e.g. build/sensitivity).

        Returns
        -------
        SensitivityResult or None
            The results, or None where there are none or they cannot be read.
        """
        found = self.read(str(folder), "sensitivity results", folder, lambda: SensitivityResult.read(folder))
        return None if found is None or found.empty else found


def fit_records(folder: Path) -> list[tuple[Path, object, Exception | None]]:
    """Read the record of every saved fit in `folder` from the file's attrs, without loading its draws.

    Parameters
    ----------
    folder : pathlib.Path
        The folder of saved fits.

    Returns
    -------
    list of tuple
        (file, inference.record.FitRecord or None, None or the error) per .nc file: a file that cannot be read
        gives its error instead of a record.
    """
    import xarray as xr

    from inference.record import fit_record

    found = []
    for path in sorted(Path(folder).glob("*.nc")):
        def read(path=path):
            with xr.open_datatree(path, engine="h5netcdf") as tree:
                return fit_record(tree, str(path))
        record, exc = attempt(read)
        found.append((path, record, exc))
    return found


FIT_COLUMNS = ["fit", "model", "family", "method", "sampler", "chains", "tune", "draws", "ESS target", "rows",
               "groups", "events", "wall seconds", "diagnostics"]


def fits_table(folder: Path) -> str:
    """Tabulate the saved fits in `folder`, one line each, then the files that could not be read.

    A fit's line gives its model, method, sampler settings (per chain), size, time and the diagnostics gate; a file
    that could not be read (e.g. a fit of an older format, to be refitted) gets a line of its own.

    Parameters
    ----------
    folder : pathlib.Path
        The folder of saved fits.

    Returns
    -------
    str
        Markdown ("" where the folder holds no fit).
    """
    rows, unread = [], []
    for path, record, exc in fit_records(folder):
        if record is None:
            unread.append(f"- `{path.name}`: unreadable ({' '.join(str(exc).split())})")
            continue
        sampler = record.sampler
        rows.append({"fit": path.name, "model": record.model, "family": record.spec.family, "method": record.method,
                     "sampler": sampler.sampler, "chains": sampler.chains, "tune": sampler.tune,
                     "draws": sampler.draws, "ESS target": sampler.ess_min, "rows": record.n_rows,
                     "groups": record.n_groups, "events": record.n_events, "wall seconds": record.wall_seconds,
                     "diagnostics": "passed" if record.diagnostics_passed
                     else "FAILED: " + "; ".join(record.diagnostics_problems)})
    parts = [render(pd.DataFrame(rows, columns=FIT_COLUMNS))] if rows else []
    return "\n\n".join(parts + (["\n".join(unread)] if unread else []))


def page(title: str, settings: ResultsSettings, checksum: str, today: str, *parts: str) -> str:
    """Put a page together: its title, the generated-by line and the parts, separated by blank lines.

    Parameters
    ----------
    title : str
        The page's heading.
    settings : ResultsSettings
        The build folder read (named in the generated-by line).
    checksum : str
        The panel's checksum (shortened), or "" where unknown.
    today : str
        The date of generation (UTC).
    *parts : str
        The page's parts (Markdown); empty ones are left out.

    Returns
    -------
    str
        The page's Markdown text.
    """
    head = (f"# {title}\n\nGenerated by `coupproof results` from `{settings.build}` on {today} (UTC); panel checksum "
            f"{checksum or 'unknown'}; do not edit by hand.")
    return "\n\n".join([head, *[p.strip() for p in parts if p and p.strip()]]) + "\n"


def sections(markdown: str) -> list[str]:
    """Split a Markdown text into its '## ' sections (each with its heading; the text before the first is dropped).

    Parameters
    ----------
    markdown : str
        The text.

    Returns
    -------
    list of str
        The sections.
    """
    found: list[list[str]] = []
    for line in markdown.splitlines():
        if line.startswith("## "):
            found.append([line])
        elif found:
            found[-1].append(line)
    return ["\n".join(lines).strip() for lines in found]


def shows_table(section: str, columns: list[str] | None) -> bool:
    """Tell whether a section's first table has exactly these columns (a table already shown from its CSV).

    Parameters
    ----------
    section : str
        A Markdown section.
    columns : list of str or None
        The columns of the table already shown (None: none shown).

    Returns
    -------
    bool
        Whether the section's first table has exactly these columns.
    """
    header = next((line for line in section.splitlines() if line.startswith("|")), "")
    return columns is not None and [c.strip() for c in header.strip("|").split("|")] == columns


def demote(markdown: str, levels: int = 2) -> str:
    """Move a Markdown text's headings `levels` down, to nest it in a page.

    Parameters
    ----------
    markdown : str
        The text.
    levels : int, optional
        How many levels (default: 2).

    Returns
    -------
    str
        The text with its headings moved down.
    """
    return "\n".join("#" * levels + line if line.startswith("#") else line for line in markdown.splitlines())


# --- the pages ---------------------------------------------------------------------------------------------------


def comparison_columns(digits: int = DIGITS) -> list[Column]:
    """Choose the columns of the comparison with the paper: ours and the paper's estimate (SE), and their agreement.

    Parameters
    ----------
    digits : int, optional
        Significant digits of the estimates (default: reports.formatting.DIGITS).

    Returns
    -------
    list of (str, callable)
        (header, cell maker) pairs for `render`.
    """
    return [("model", cell("model")), ("part", cell("part")), ("term", cell("term")),
            ("ours (SE)", pair("ours", "our_se", digits)),
            ("dyad-robust SE", cell("our_se_dyad_robust", digits)),
            ("paper (SE)", pair("paper", "paper_se", digits)),
            ("difference (paper SEs)", cell("diff_in_paper_se", digits)), ("sign agrees", cell("sign_agrees")),
            ("within 2 paper SEs", cell("within_2_paper_se"))]


def agreement(comparison: pd.DataFrame) -> pd.DataFrame:
    """Count, per model and part, the coefficients that agree with the paper's.

    Only coefficients with both SEs are compared.

    Parameters
    ----------
    comparison : pandas.DataFrame
        The comparison with the paper (FrequentistResult.comparison).

    Returns
    -------
    pandas.DataFrame
        Per model and part: the coefficients compared, how many agree in sign and how many lie within 2 paper SEs.
    """
    compared = comparison[comparison["our_se"].notna() & comparison["paper_se"].notna()]
    rows = []
    for (model, part), found in compared.groupby(["model", "part"], sort=False):
        rows.append({"model": model, "part": part, "coefficients": len(found),
                     "sign agrees": int(found["sign_agrees"].astype(bool).sum()),
                     "within 2 paper SEs": int(found["within_2_paper_se"].astype(bool).sum())})
    return pd.DataFrame(rows)


def concession_parts(build: Build) -> list[str]:
    """Show the concession measure's readings, Table 2 under the closest ones and the Heckman exclusion table.

    The readings are ranked against Table 5; the Heckman robustness model is fitted under each candidate exclusion
    restriction.

    Parameters
    ----------
    build : Build
        The build folder's outputs.

    Returns
    -------
    list of str
        The section's parts (Markdown; `make concessions` writes what it shows).
    """
    folder = build.path(BUILD / "concessions")
    readings, fits = folder / "readings.md", folder / "table2_readings.md"
    if not readings.is_file():
        return [missing("The concession readings", readings, "make concessions")]
    parts = [readings.read_text().strip()]
    for extra in (fits, folder / "exclusions.md"):
        if extra.is_file():
            parts.append(extra.read_text().strip())
    return parts


def reproduction_page(build: Build) -> list[str]:
    """Write the reproduction page's parts: the panel and its check against the paper, then Tables 1 and 2.

    Parameters
    ----------
    build : Build
        The build folder's outputs.

    Returns
    -------
    list of str
        The page's parts (Markdown).
    """
    panel, freq = build.main_panel, build.main_freq
    path = build.path(PANEL)
    parts = ["## The panel"]
    if panel is None:
        parts.append(build.problems.get(str(path)) or missing("The panel", path, "make data"))
    else:
        parts.append(f"`{path}`: {panel.summary()}.")
        if panel.comparison is None:
            parts.append(missing("The comparison with the paper", PanelResult.check_paths(path)[1], "make data"))
        else:
            parts.append("Our panel against the paper's sample sizes and Table 5 (`panel_check.csv`):")
            parts.append(render(panel.comparison, [
                ("variable", cell("variable")), ("statistic", cell("statistic")), ("paper's name", cell("paper_label")),
                ("paper", cell("paper_value")), ("ours", cell("ours")), ("difference", cell("difference")),
                ("relative difference", cell("relative_difference")), ("source", cell("source"))]))
        if panel.check is not None:
            shown = list(panel.comparison.columns) if panel.comparison is not None else None
            rest = [demote(text, 1) for text in sections(panel.check) if not shows_table(text, shown)]
            if rest:
                parts += ["The rest of the panel check (`panel_check.md`):", *rest]
    folder = build.path(FREQ)
    parts.append("## Tables 1 and 2")
    if freq is None:
        parts.append(build.problems.get(str(folder)) or missing("Frequentist results", folder, "make freq"))
    elif freq.comparison.empty:
        parts.append(f"`{folder}` holds no comparison with the paper (no paper model was fitted); run `make freq`.")
    else:
        parts.append("Our maximum-likelihood estimates (clustered SEs) against the paper's, by model "
                     "(`comparison.csv`):")
        parts.append(render(agreement(freq.comparison)))
        parts.append(render(freq.comparison, comparison_columns()))
        figures = ", ".join(f"`{name}.png`" for name in freq.figures)
        if figures:
            parts.append(f"Figures in `{folder}`: {figures}.")
    parts += ["## The concession measure's readings", *concession_parts(build)]
    return parts


OVERVIEW_COLUMNS: list[Column] = [
    ("model", cell("model")), ("interaction", cell("label")), ("posterior mean (sd)", pair("mean", "sd")),
    ("94% HDI", hdi("hdi_lower", "hdi_upper")), ("Pr(< 0)", cell("pr_negative")),
    ("frequentist (SE)", pair("freq", "freq_se")), ("paper (SE)", pair("paper", "paper_se"))]
LOO_COLUMNS: list[Column] = [
    ("model", cell("model")), ("left out", cell("grouping")), ("elpd LOO (SE)", pair("elpd_loo", "se")),
    ("p LOO", cell("p_loo")), ("groups", cell("groups")), ("Pareto k above threshold", cell("k_above_threshold")),
    ("threshold", cell("k_threshold")), ("largest k", cell("k_max"))]
ODDS_RATIO_COLUMNS: list[Column] = [
    ("model", cell("model")), ("variable", cell("variable")), ("contrast", cell("contrast")), ("at", cell("at")),
    ("odds ratio (mean)", cell("odds_ratio")), ("94% HDI", hdi("lower", "upper")),
    ("Pr(OR < 1)", cell("pr_below_1"))]


def report_parts(build: Build, folder: Path, target: str) -> list[str]:
    """Show the report's overview, key-effect odds ratios and LOO tables.

    Parameters
    ----------
    build : Build
        The build folder's outputs.
    folder : pathlib.Path
        The report's folder.
    target : str
        The make target that builds the report.

    Returns
    -------
    list of str
        The parts (Markdown), or one line saying what is missing.
    """
    report = build.report(folder)
    if report is None:
        return [build.problems.get(str(folder)) or missing("The report", folder / ReportResult.PAGE, target)]
    parts = []
    overview = report.tables.get("overview")
    if overview is not None and not overview.empty:
        parts += ["Each model's interaction (`tables/overview.csv`):", render(overview, OVERVIEW_COLUMNS)]
    odds = [table for name, table in report.tables.items() if name.endswith("_effect_odds_ratio")]
    if odds:
        parts += ["Each model's key effect as an odds ratio (`tables/<model>_effect_odds_ratio.csv`):",
                  render(pd.concat(odds, ignore_index=True), ODDS_RATIO_COLUMNS)]
    loo = report.tables.get("loo")
    if loo is not None and not loo.empty:
        parts += ["Leave-one-group-out PSIS-LOO (`tables/loo.csv`):", render(loo, LOO_COLUMNS)]
    return parts or [f"`{folder}` holds no overview, odds-ratio or LOO table."]


def bayesian_page(build: Build) -> list[str]:
    """Write the Bayesian page's parts: the interactions and model comparison, then every saved fit.

    Parameters
    ----------
    build : Build
        The build folder's outputs.

    Returns
    -------
    list of str
        The page's parts (Markdown).
    """
    parts = ["## The interactions and model comparison", *report_parts(build, build.path(REPORT), "make report"),
             "## Sender, receiver and dyad intercepts", *dyadic_parts(build), "## The fits"]
    for folder, what, target in ((build.path(FITS), "Bayesian fits", "make fit"),
                                 (build.path(DYADIC_FITS), "Fits with sender, receiver and dyad intercepts",
                                  "make dyadic")):
        table = fits_table(folder) if folder.is_dir() else ""
        parts.append(f"Every saved fit in `{folder}` (sampler settings per chain, wall time, diagnostics gate):\n\n"
                     + table if table else missing(what, folder, target))
    return parts


DYADIC_COLUMNS: list[Column] = [
    ("model", cell("model")), ("term", cell("term")),
    ("dyad only: mean [94% HDI]", lambda r: f"{cell('base_mean')(r)} {hdi('base_lower', 'base_upper')(r)}"),
    ("sender, receiver, dyad: mean [94% HDI]", lambda r: f"{cell('srd_mean')(r)} {hdi('srd_lower', 'srd_upper')(r)}"),
    ("Pr(< 0)", cell("srd_pr_negative")),
    ("sds: dyad / A / B", lambda r: " / ".join(cell(s)(r) for s in ("dyad_sd", "state_a_sd", "state_b_sd"))),
    ("pooled logit (clustered SE)", pair("freq_estimate", "freq_se_clustered")),
    ("dyad-robust SE", cell("freq_se_dyad_robust")), ("p dyad-robust", cell("freq_p_dyad_robust")),
    ("gates", lambda r: f"{'passed' if r['base_passed'] else 'FAILED'} / {'passed' if r['srd_passed'] else 'FAILED'}"),
    ("verdict", cell("verdict"))]


def dyadic_parts(build: Build) -> list[str]:
    """Show the key interactions with sender, receiver and dyad intercepts beside the dyad-only fits.

    With the pooled logit's dyad-clustered and dyad-robust SEs (`make dyadic`, `make fit`, `make freq`).

    Parameters
    ----------
    build : Build
        The build folder's outputs.

    Returns
    -------
    list of str
        The section's parts (Markdown).
    """
    import tomllib

    from models.specs import DYADIC_SPECS
    from reports.dyadic import dependence_table

    folder = build.path(DYADIC_FITS)
    if not folder.is_dir() or not any(folder.glob("*_marginal.nc")):
        return [missing("Fits with sender, receiver and dyad intercepts", folder, "make dyadic")]
    bases = {name: entry.get("base", "") for name, entry in tomllib.loads(DYADIC_SPECS.read_text()).items()}
    freq = build.main_freq
    table, problem = attempt(lambda: dependence_table(folder, build.path(FITS), bases,
                                                      None if freq is None else freq.comparison))
    if problem is not None:
        return [unreadable("Fits with sender, receiver and dyad intercepts", folder, problem)]
    return ["Each model's key interaction (the logit, or the hurdle's zero part) with dyad intercepts only "
            "(`make fit`) and with State A's and State B's intercepts beside them (`make dyadic`), and the pooled "
            "logit's dyad-clustered and dyad-robust SEs (`make freq`). A finding survives where the 94% HDI excludes "
            "0 on the same side in both fits; both fits must pass their diagnostics gate to be judged.",
            render(table, DYADIC_COLUMNS)]


PRIOR_SET_COLUMNS = {"model", "prior_set", "term", "mean", "sd", "hdi_lower", "hdi_upper", "pr_negative",
                     "diagnostics_passed"}


def prior_comparison_columns(table: pd.DataFrame) -> list[Column]:
    """Choose the prior comparison's columns: a mean per prior set and each set's shift from the reference.

    The shifts are in frequentist SEs; the reference is the set without a shift column.

    Parameters
    ----------
    table : pandas.DataFrame
        The prior comparison (PriorComparisonResult.table).

    Returns
    -------
    list of (str, callable)
        (header, cell maker) pairs for `render`.
    """
    sets = [c.removeprefix("mean_") for c in table.columns if c.startswith("mean_")]
    shifted = [c.removeprefix("shift_").removesuffix("_se") for c in table.columns if c.startswith("shift_")]
    reference = next((s for s in sets if s not in shifted), "the reference")
    return [("model", cell("model")), ("part", cell("part")), ("term", cell("term")),
            ("frequentist (SE)", pair("freq_estimate", "freq_se")),
            *[(f"{name}" + (" (sd)" if f"sd_{name}" in table else ""), pair(f"mean_{name}", f"sd_{name}"))
              for name in sets],
            *[(f"{name} - {reference} (freq. SEs)", cell(f"shift_{name}_se")) for name in shifted],
            ("flagged under default", cell("flagged_under_default")), ("meets criterion", cell("meets_criterion")),
            ("every fit passed its diagnostics", cell("diagnostics_passed"))]


PRIOR_CHECK_FOLDERS = ("paper", "country_year", "institutions")  # make prior-check's folders under PRIOR_CHECK


def prior_check_parts(build: Build) -> list[str]:
    """Write the prior predictive check's parts, one per study (`make prior-check`).

    Each study's quantities in the data against the central 90% of what its priors predict.

    Parameters
    ----------
    build : Build
        The build folder's outputs.

    Returns
    -------
    list of str
        The parts (Markdown).
    """
    parts = ["## Prior predictive check"]
    for name in PRIOR_CHECK_FOLDERS:
        folder = build.path(PRIOR_CHECK / name)
        found = build.read(str(folder), "prior predictive check", folder, lambda f=folder: PriorCheckResult.read(f))
        if found is None:
            parts.append(build.problems.get(str(folder))
                         or missing(f"The prior predictive check ({name})", folder / f"{PriorCheckResult.NAME}.csv",
                                    "make prior-check"))
            continue
        outside = int((~found.table["inside"].astype(bool)).sum())
        heading = (f"### {name.replace('_', ' ')}: {len(found.table) - outside} of {len(found.table)} values "
                   f"inside the central 90% (`{PriorCheckResult.NAME}.csv`, "
                   f"{found.metadata.get('simulations', '')} simulations per model)")
        parts += [heading, render(found.table, [
                      ("model", cell("model")), ("quantity", cell("quantity")), ("in the data", cell("in_data")),
                      ("prior predictive median [central 90%]",
                       lambda r: with_interval(r["prior_median"], r["prior_low"], r["prior_high"])),
                      ("percentile", cell("percentile")), ("inside", cell("inside"))])]
    return parts


def priors_page(build: Build) -> list[str]:
    """Write the priors page's parts: the default priors against the other sets, power-scaling and the refits.

    Parameters
    ----------
    build : Build
        The build folder's outputs.

    Returns
    -------
    list of str
        The page's parts (Markdown).
    """
    parts = prior_check_parts(build)
    folder = build.path(SENSITIVITY)
    parts.append("## The default priors against the other sets")
    comparison = build.read(f"{folder}:priors", "prior comparison", folder,
                            lambda: PriorComparisonResult.read(folder))
    if comparison is None:
        parts.append(build.problems.get(f"{folder}:priors")
                     or missing("The prior comparison", folder / f"{PriorComparisonResult.STEM}.csv", "make priors"))
    else:
        parts += [f"Posterior means of each key interaction under each prior set; {comparison.met} of "
                  f"{len(comparison.table)} interactions meet the criterion (docs/priors.md) "
                  f"(`{PriorComparisonResult.STEM}.csv`):",
                  render(comparison.table, prior_comparison_columns(comparison.table))]
    sensitivity = build.sensitivity(folder)
    parts.append("## Power-scaling of the saved fits")
    if sensitivity is None or sensitivity.power_scaling is None:
        parts.append(build.problems.get(str(folder))
                     or missing("Power-scaling", folder / SensitivityResult.POWER_SCALING, "make report"))
    else:
        scaling = sensitivity.power_scaling
        flagged = scaling[scaling["diagnosis"] != NOT_FLAGGED]
        counts = pd.DataFrame([{"model": model, "parameters": len(part),
                                "flagged": int((part["diagnosis"] != NOT_FLAGGED).sum())}
                               for model, part in scaling.groupby("model", sort=False)])
        parts += ["Parameters flagged by power-scaling (prior and likelihood sensitivity, ArviZ's diagnosis) per "
                  f"model (`{SensitivityResult.POWER_SCALING}`):", render(counts)]
        if not flagged.empty:
            parts += ["The flagged parameters:", render(flagged, [
                ("model", cell("model")), ("parameter", cell("parameter")),
                ("prior sensitivity", cell("prior")), ("likelihood sensitivity", cell("likelihood")),
                ("diagnosis", cell("diagnosis"))])]
    parts.append("## Refits under the prior sets")
    if sensitivity is None or not sensitivity.prior_sets:
        parts.append(missing("Prior-set refits", folder / "prior_sets_<model>.csv", "make sensitivity"))
    else:
        for model, refits in sensitivity.prior_sets.items():
            table = refits.table
            extra = [(str(c).replace("_", " ") + " (mean)", cell(c)) for c in table.columns
                     if c not in PRIOR_SET_COLUMNS]
            parts += [f"### {model} (`prior_sets_{model}.csv`)", render(table, [
                ("prior set", cell("prior_set")), ("term", cell("term")), ("posterior mean (sd)", pair("mean", "sd")),
                ("94% HDI", hdi("hdi_lower", "hdi_upper")), ("Pr(< 0)", cell("pr_negative")), *extra,
                ("diagnostics passed", cell("diagnostics_passed"))])]
    return parts


FINDINGS_COLUMNS: list[Column] = [
    ("variant", cell("variant")), ("model", cell("model")), ("term", cell("term")),
    ("frequentist (SE)", pair("freq_estimate", "freq_se")), ("p", cell("freq_p")),
    ("frequentist converged", cell("freq_converged")), ("Bayesian mean (sd)", pair("bayes_mean", "bayes_sd")),
    ("94% HDI", hdi("bayes_lower", "bayes_upper")), ("Bayesian diagnostics passed", cell("bayes_diagnostics_passed")),
    ("main table", cell("main_table")), ("as in the main table", cell("as_in_main_table"))]


def timing_line(timing: dict) -> str:
    """Say in one line how long the robustness run took (timing.json).

    Parameters
    ----------
    timing : dict
        The run's timing (RobustnessResult.timing).

    Returns
    -------
    str
        The line ("" where there is no timing).
    """
    if not timing:
        return ""
    cached, own = timing.get("bayesian_from_cache"), timing.get("bayesian_fit_seconds")  # both from December 6
    cached = f" ({number(cached)} read from the cache)" if cached else ""
    own = f"; the fits' own wall times, whenever made, sum to {number(own)} s" if own else ""
    return (f"Run: variants {len(timing.get('variants', []))}; frequentist suite "
            f"{number(timing.get('frequentist_seconds'))} s; {number(timing.get('bayesian_fits'))} Bayesian fits"
            f"{cached} in {number(timing.get('bayesian_seconds'))} s on {number(timing.get('cpus'))} CPUs "
            f"({timing.get('scheduler', '')}){own}.")


def robustness_page(build: Build) -> list[str]:
    """Write the robustness page's parts: the key findings of every variant and the run's timing.

    Parameters
    ----------
    build : Build
        The build folder's outputs.

    Returns
    -------
    list of str
        The page's parts (Markdown).
    """
    folder = build.path(ROBUSTNESS)
    found = build.read(str(folder), "robustness results", folder, lambda: RobustnessResult.read(folder))
    if found is None:
        return [build.problems.get(str(folder))
                or missing("Robustness results", folder / f"{RobustnessResult.FINDINGS}.csv", "make robustness")]
    return ["## Key findings",
            "Each variant's key interaction, frequentist and Bayesian, and whether its sign and significance are as "
            f"in the main tables (`{RobustnessResult.FINDINGS}.csv`; a failed Bayesian fit is not a result):",
            render(found.findings, FINDINGS_COLUMNS), timing_line(found.timing),
            f"Each variant's full table: `{folder}/<variant>.md`."]


MLE_DIGITS = 6  # the kernel and the reference agree far beyond 3 digits: show it


def calibration_page(build: Build) -> list[str]:
    """Write the calibration page's parts: every family's calibration, the recovery and the MLE cross-check.

    Parameters
    ----------
    build : Build
        The build folder's outputs.

    Returns
    -------
    list of str
        The page's parts (Markdown).
    """
    folder = build.path(VALIDATE)
    found = build.read(str(folder), "calibration results", folder, lambda: CalibrationResult.read(folder))
    if found is None:
        return [build.problems.get(str(folder))
                or missing("Calibration results", folder / f"{CalibrationResult.FAMILIES}.csv", "make validate")]
    parts = ["## Simulation-based calibration of every family", f"`{CalibrationResult.FAMILIES}.csv`:",
             render(found.families)]
    meta = found.meta
    if meta.get("seconds") is not None:
        parts.append(f"Run time: {number(meta['seconds'])} s (simulations found in the cache are read, not refitted; "
                     "`seconds per fit` is each case's mean over its simulations, two fits at a time on the machine "
                     f"that ran them); settings per case in `{CalibrationResult.META}`.")
    parts.append("## Power against known errors")
    if found.power is None:
        parts.append(f"No case with injected errors in this run (`{folder}/power.csv` is missing); a verdict of "
                     "'calibrated' then says nothing about the size of the errors the test can find.")
    else:
        parts += [("How often each case's test flags a fit that departs from the simulator by a known amount "
                   "(`power.csv`): `flagged`, the test on all the case's simulations; `flag_rate`, the share of "
                   "random subsets of half of them that it flags (its power at `simulations`, a conservative figure "
                   "for the full count); `max_khat`, the largest Pareto k of the importance weights that make those "
                   "fits from the case's own (above 0.7: unreliable):"), render(found.power)]
    parts.append("## Recovery at a saved fit's posterior mean")
    if found.recovery is None:
        parts.append(f"No recovery case in this run (`{folder}/recovery.csv` is missing); run `make validate`.")
    else:
        parts += ["Coverage of the central 50% and 94% intervals over the simulations (`recovery.csv`):",
                  render(found.recovery, [
                      ("case", cell("case")), ("quantity", cell("quantity")), ("simulations", cell("simulations")),
                      ("truth (mean)", cell("truth")), ("posterior mean (mean)", cell("posterior_mean")),
                      ("50% coverage", cell("coverage_50")), ("94% coverage", cell("coverage_94")),
                      ("mean z", cell("mean_z"))])]
    parts.append("## The kernel's marginal MLE against the reference")
    if found.mle is None:
        parts.append(f"Not run (`{folder}/mle.csv` is missing; `--mle none`?); run `make validate`.")
    else:
        parts += [f"Model {meta.get('mle_model', '')} (`mle.csv`):", render(found.mle, [
            ("parameter", cell("parameter")), ("kernel (SE)", pair("kernel", "kernel_se", MLE_DIGITS)),
            ("reference", cell("reference", MLE_DIGITS)), ("difference (kernel SEs)", cell("difference_in_se"))])]
        details = found.mle_details
        if details:
            parts.append("Optimiser: " + "; ".join(f"{key.replace('_', ' ')} {number(value)}"
                                                    for key, value in details.items()) + ".")
    return parts


def wide_estimates(freq: FrequentistResult) -> pd.DataFrame:
    """Lay out the frequentist estimates with one row per part and term and one column per model.

    Each cell is 'estimate (SE)'; the last rows give each model's observations, clusters, events and log-likelihood
    (its parts' joined by ' / ').

    Parameters
    ----------
    freq : FrequentistResult
        The frequentist results.

    Returns
    -------
    pandas.DataFrame
        The wide table.
    """
    models = list(dict.fromkeys(fit.model for fit in freq.fits))
    cells: dict[tuple[str, str], dict[str, list[str]]] = {}
    for fit in freq.fits:
        for term, row in fit.table.iterrows():
            cells.setdefault((fit.part, term), {}).setdefault(fit.model, []).append(with_se(row["estimate"], row["se"]))
        for key, value in (("N", fit.nobs), ("clusters", fit.n_clusters), ("events", fit.n_events),
                           ("log-likelihood", fit.loglik)):
            cells.setdefault(("", key), {}).setdefault(fit.model, []).append(number(value))
    terms = [key for key in cells if key[0]] + [key for key in cells if not key[0]]
    return pd.DataFrame([{"part": part, "term": term, **{m: " / ".join(cells[(part, term)].get(m, [])) for m in models}}
                         for part, term in terms])


def studies_page(build: Build) -> list[str]:
    """Write the studies page's parts: each further study's panel, frequentist estimates, report and fits.

    Parameters
    ----------
    build : Build
        The build folder's outputs.

    Returns
    -------
    list of str
        The page's parts (Markdown).
    """
    parts = []
    for study in STUDIES:
        root = Path(build.settings.build) / study.folder
        parts.append(f"## {study.title}")
        if not root.is_dir():
            parts.append(missing("The study", root, study.target))
            continue
        panel_path = root / PANEL.name
        panel = build.panel(panel_path)
        if panel is not None:
            checksum = str(panel.panel.attrs.get("panel_checksum", ""))[:12]
            parts.append(f"Panel `{panel_path}`: {panel.summary()}; checksum {checksum}.")
        else:
            parts.append(build.problems.get(str(panel_path)) or missing("The panel", panel_path, study.target))
        folder = root / FREQ.relative_to(BUILD)
        freq = build.freq(folder)
        parts.append("### Frequentist estimates")
        if freq is None:
            parts.append(build.problems.get(str(folder)) or missing("Frequentist results", folder, study.target))
        else:
            parts += [f"Estimate (clustered SE) per model and part (`{FrequentistResult.RESULTS}`); the last rows "
                      "give each model's observations, clusters, events and log-likelihood (per part):",
                      render(wide_estimates(freq))]
        parts.append("### Bayesian")
        parts += report_parts(build, root / REPORT.relative_to(BUILD), study.target)
        fits = root / FITS.relative_to(BUILD)
        table = fits_table(fits) if fits.is_dir() else ""
        if table:
            parts += [f"The saved fits in `{fits}`:", table]
    return parts


def bayes_details(build: Build, path: Path) -> list[str]:
    """Report the Bayesian bench's record (bayes.json): speed against the plain model, gradient costs and goals.

    The marginal fit's ESS per second against the plain model's, the gradient costs at several group sds, and the
    goals met.

    Parameters
    ----------
    build : Build
        The build folder's outputs.
    path : pathlib.Path
        The bench's bayes.json.

    Returns
    -------
    list of str
        The parts (Markdown).
    """
    found = build.read(str(path), "bayes.json", path, lambda: json.loads(path.read_text()))
    if found is None:
        return [build.problems.get(str(path), "")]
    parts = []
    for key, value in found.items():
        if key.endswith("_ess_per_second_ratio"):
            model = key.removesuffix("_ess_per_second_ratio")
            parts.append(f"{model}: the marginal fit's smallest ESS per second is {number(value)} times the plain "
                         "model's.")
        elif key.endswith("_gradient_costs") and isinstance(value, dict):
            model = key.removesuffix("_gradient_costs")
            parts += [f"{model}: milliseconds per log density and gradient at the posterior mean's coefficients and "
                      "several group sds (the naive quadrature: value only):",
                      render(pd.DataFrame([{"measure": name.replace("_", " "), "ms": ms}
                                           for name, ms in value.items()]))]
    goals = found.get("goals") or {}
    if goals:
        parts += ["Goals:", render(pd.DataFrame([{"goal": goal, "met": met} for goal, met in goals.items()]))]
    return parts


def speed_page(build: Build) -> list[str]:
    """Write the speed page's parts from the benchmarks in build/bench.

    Parameters
    ----------
    build : Build
        The build folder's outputs.

    Returns
    -------
    list of str
        The page's parts (Markdown).
    """
    folder = Path(build.settings.build) / BENCH.relative_to(BUILD)
    if not folder.is_dir():
        return [missing("Benchmarks", folder, "make bench")]
    parts = []

    def load(name: str) -> dict | None:
        path = folder / name
        found = build.read(str(path), name, path, lambda: json.loads(path.read_text()))
        if found is None:
            parts.append(build.problems.get(str(path)) or missing(name, path, "make bench"))
        return found

    parts.append("## Panel build (`panel_build.json`)")
    panel = load("panel_build.json")
    if panel is not None:
        parts.append(f"{panel.get('benchmark', '')}: best of {len(panel.get('runs', []))} fresh processes "
                     f"{number(panel.get('best_wall_seconds'))} s, peak memory {number(panel.get('peak_memory_gb'))} "
                     f"GB; meets its goals: {number(panel.get('meets_goals'))}.")
        if panel.get("runs"):
            parts.append(render(pd.DataFrame(panel["runs"])))
    parts.append("## Frequentist fits (`frequentist.json`)")
    freq = load("frequentist.json")
    if freq is not None:
        parts.append(f"{freq.get('benchmark', '')}: reading the panel {number(freq.get('load_panel_seconds'))} s, "
                     f"all models {number(freq.get('total_seconds'))} s (goal {number(freq.get('goal_seconds'))} s).")
        per_model = freq.get("per_model_seconds") or {}
        if per_model:
            parts.append(render(pd.DataFrame([{"model": m, "seconds": s} for m, s in per_model.items()])))
    for name, title in (("bayes_summary.md", "Bayesian fits"), ("country_year_summary.md", "The second study's fits")):
        parts.append(f"## {title} (`{name}`)")
        path = folder / name
        parts.append(path.read_text().strip() if path.is_file() else missing(title, path, "make bench"))
        if name == "bayes_summary.md" and (folder / "bayes.json").is_file():
            parts += bayes_details(build, folder / "bayes.json")
        if name == "country_year_summary.md" and (folder / "country_year.json").is_file():
            study = load("country_year.json")  # each fit's first attempt; `make dca` refits one short of ESS 1,000
            if study is not None:
                fits = study.get("fits") or [{}]
                parts += [f"Each model fitted once, {number(fits[0].get('chains'))} x ({number(fits[0].get('tune'))} "
                          f"+ {number(fits[0].get('draws'))}) draws, without `make dca`'s retry at twice the "
                          "length:", goal_lines(study.get("goals") or {})]
    for name, title, write in (("your_data.json", "Your own data and several groupings", your_data_parts),
                               ("centring.json", "Sampled intercepts: non-centred or centred by information",
                                centring_parts)):
        parts.append(f"## {title} (`{name}`)")
        found = load(name)
        if found is not None:
            parts += write(found)
    parts.append("## Frequentist robustness suite (`robustness/timing.json`)")
    robust = folder / ROBUSTNESS.relative_to(BUILD)
    found = build.read(str(robust), "robustness timing", robust, lambda: RobustnessResult.read(robust))
    parts.append(timing_line(found.timing) if found is not None and found.timing
                 else build.problems.get(str(robust)) or missing("The robustness timing", robust, "make bench"))
    return parts


def your_data_parts(bench: dict) -> list[str]:
    """Write the your-own-data benchmark's parts (benchmarks/your_data.py).

    Model 4 made from the panel, a DataFrame and a CSV file, and Model 4 with sender, receiver and dyad intercepts
    against Model 4.

    Parameters
    ----------
    bench : dict
        The benchmark's JSON.

    Returns
    -------
    list of str
        Markdown parts.
    """
    routes = bench.get("routes", {})
    pairs = bench.get("sender_receiver", {})
    models = {k: v for k, v in pairs.items() if isinstance(v, dict)}
    parts = ["Model 4 from the panel, from a DataFrame of its rows and from that frame as a CSV file (seconds to "
             "make the model, milliseconds per log-density gradient):",
             render(pd.DataFrame([{"route": route, **values} for route, values in routes.items()
                                  if isinstance(values, dict)])),
             f"DataFrame over panel, gradient: {number(routes.get('frame_over_panel_gradient'))}.",
             "Model 4 with sender, receiver and dyad intercepts (m4_srd) against Model 4:",
             render(pd.DataFrame([{"model": name, **{k: (", ".join(f"{g} {n}" for g, n in v.items())
                                                         if isinstance(v, dict) else v) for k, v in values.items()}}
                                  for name, values in models.items()])),
             f"m4_srd over Model 4: gradient {number(pairs.get('srd_over_m4_gradient'))}"
             + (f", wall time {number(pairs['srd_over_m4_wall'])}" if "srd_over_m4_wall" in pairs else
                " (gradients only: run without --no-fit for the fits; the saved fits' wall times and draws are on "
                "the Bayesian page)") + "."]
    goals = bench.get("goals") or {}
    if goals:
        parts.append(goal_lines(goals))
    return parts


def goal_lines(goals: dict) -> str:
    """List a benchmark's goals, each met or NOT met.

    Parameters
    ----------
    goals : dict
        Each goal, in words, to whether it was met.

    Returns
    -------
    str
        A Markdown list.
    """
    return "\n".join(f"- {goal}: {'met' if met else 'NOT met'}" for goal, met in goals.items())


def centring_parts(bench: dict) -> list[str]:
    """Write the centring benchmark's parts (benchmarks/centring.py): one row per design and parameterisation.

    Parameters
    ----------
    bench : dict
        The benchmark's JSON.

    Returns
    -------
    list of str
        Markdown parts.
    """
    rows = []
    for design in ("simulated", "m4_srd"):
        for centring, entry in (bench.get(design) or {}).items():
            if not isinstance(entry, dict):
                continue
            row = {"design": design, "centring": centring, "wall seconds": entry.get("wall_seconds"),
                   "steps per draw": entry.get("steps_per_draw"), "divergences": entry.get("divergences")}
            for name, sd in entry.items():
                if isinstance(sd, dict):
                    row[f"{name}: mean, bulk / tail ESS"] = (f"{number(sd.get('mean'))}, {number(sd.get('ess_bulk'))}"
                                                             f" / {number(sd.get('ess_tail'))}")
            rows.append(row)
    simulated = bench.get("simulated") or {}
    return [f"Each design fitted under each parameterisation, 2 x {number(bench.get('draws'))} draws after "
            f"{number(bench.get('tune'))} tuning, seed {bench.get('seed')}; the simulated design has "
            f"{number(simulated.get('rows'))} dyad-years and {number(simulated.get('events'))} events:",
            render(pd.DataFrame(rows))]


OUTPUTS = (  # what the index lists: (what, default path, make target)
    ("panel", PANEL, "make data"), ("panel check", PANEL.with_name(PANEL.stem + "_check.csv"), "make data"),
    ("frequentist results", FrequentistResult.path(FREQ), "make freq"), ("Bayesian fits", FITS, "make fit"),
    ("fits with sender and receiver intercepts", DYADIC_FITS, "make dyadic"), ("report", REPORT / ReportResult.PAGE, "make report"),
    ("power-scaling", SENSITIVITY / SensitivityResult.POWER_SCALING, "make report"),
    ("prior comparison", SENSITIVITY / f"{PriorComparisonResult.STEM}.csv", "make priors"),
    ("robustness", ROBUSTNESS / f"{RobustnessResult.FINDINGS}.csv", "make robustness"),
    ("calibration", VALIDATE / f"{CalibrationResult.FAMILIES}.csv", "make validate"),
    *[(study.title.split(":")[0].lower(), BUILD / study.folder / REPORT.relative_to(BUILD) / ReportResult.PAGE,
       study.target) for study in STUDIES],
    ("benchmarks", BENCH, "make bench"),
)


def index_page(build: Build) -> list[str]:
    """Write the index's parts: links to the pages, what the build holds, and the outputs that could not be read.

    Parameters
    ----------
    build : Build
        The build folder's outputs (read by the other pages first, so that their problems are listed).

    Returns
    -------
    list of str
        The page's parts (Markdown).
    """
    links = "\n".join(f"- [{page.title}]({name})" for name, page in PAGES.items())
    rows = []
    for what, default, target in OUTPUTS:
        path = build.path(default)
        rows.append({"output": what, "path": f"`{path}`", "status": "built" if path.exists() else "not built",
                     "made by": f"`{target}`"})
    parts = [links, "## What the build holds", render(pd.DataFrame(rows))]
    if build.problems:
        parts += ["## Outputs that could not be read", "\n".join(f"- {line}" for line in build.problems.values())]
    return parts


@dataclass(frozen=True)
class Page:
    """A results page: its title and the function that writes its parts from the build."""

    title: str
    write: Callable[[Build], list[str]]


PAGES = {  # file name -> page, in the order of the index
    "reproduction.md": Page("Reproduction of McWard & Yoon (2023)", reproduction_page),
    "bayesian.md": Page("The Bayesian models", bayesian_page),
    "priors.md": Page("Priors and prior sensitivity", priors_page),
    "robustness.md": Page("Robustness checks", robustness_page),
    "calibration.md": Page("Calibration", calibration_page),
    "studies.md": Page("The second and third studies", studies_page),
    "speed.md": Page("Speed", speed_page),
}


def results_pages(settings: ResultsSettings, progress: Progress | None = None) -> ResultsPages:
    """Write every results page from the build outputs in `settings.build`; nothing is computed or fitted.

    A missing output gives a line naming the make target that builds it; an output that cannot be read gives a line
    saying why. `coupproof results` runs this stage.

    Parameters
    ----------
    settings : ResultsSettings
        The build folder to read.
    progress : Progress, optional
        Where the stage says what it is doing; default: a status line on stderr.

    Returns
    -------
    ResultsPages
        The pages by file name, held in memory until written.

    Examples
    --------
    >>> from pathlib import Path
    >>> from coupproof.stages.results import ResultsSettings, results_pages
    >>> pages = results_pages(ResultsSettings(build=Path("build"), out=Path("docs/results")))
    >>> pages.write("docs/results")  # index.md, reproduction.md, bayesian.md, ...
    """
    progress = progress or Progress()
    build = Build(settings)
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    with progress.status(f"Reading the build outputs in {settings.build} ..."):
        panel, freq = build.main_panel, build.main_freq
        checksum = str(panel.panel.attrs.get("panel_checksum", "")) if panel is not None else \
            str(freq.metadata.get("panel_checksum", "")) if freq is not None else ""
        bodies = {name: PAGES[name].write(build) for name in settings.page_files}
        checksum = checksum[:12]
        # the index says what the whole build holds: written with every page, not with a selection
        pages = {} if settings.pages else {INDEX: page("Results", settings, checksum, today, *index_page(build))}
        pages.update({name: page(PAGES[name].title, settings, checksum, today, *parts)
                      for name, parts in bodies.items()})
    for line in build.problems.values():
        progress.note(f"[yellow]{line}[/]")
    return ResultsPages(pages)
