"""The report stage: one self-contained HTML page of the saved Bayesian fits with their figures and tables.

The results of the other stages are added where they have run. The stage reads saved results through their result
classes and never refits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..defaults import FITS, FREQ, PANEL, ROBUSTNESS, SENSITIVITY, VALIDATE
from .base import Progress, at_least, read_png, read_table, write_png, write_table
from .calibration import CalibrationResult
from .fit import saved_fit_path
from .frequentist import PAPER_MODELS, FrequentistResult
from .priors import PriorComparisonResult
from .robustness import RobustnessResult
from .sensitivity import SensitivityResult

TITLE = "Coup-proofing and alliances: Bayesian report"


@dataclass(frozen=True)
class ReportSettings:
    """What to report, from which saved results: the options of `coupproof report`, checked on creation.

    Parameters
    ----------
    models : tuple of str, optional
        Names of models in `specs` whose saved fits to report; default: the paper's six.
    fits : pathlib.Path, optional
        The folder of saved fits (`coupproof fit`); default: build/fits.
    panel : pathlib.Path, optional
        The panel built by `coupproof data`; default: build/panel.nc.
    freq : pathlib.Path, optional
        The frequentist results file (`coupproof freq`); default: build/freq/fits.json.
    specs : pathlib.Path or dict, optional
        A spec file (TOML) or, from Python, the specs themselves ({name: models.specs.ModelSpec}); default: the
        packaged ones.
    ppc_draws : int, optional
        Posterior draws for the predictive checks, at least 1 (default: 200).
    sensitivity : pathlib.Path, optional
        The results of `coupproof sensitivity` and `coupproof priors`, added where present; default:
        build/sensitivity.
    robustness : pathlib.Path, optional
        The results of `coupproof robustness`, added where present; default: build/robustness.
    validate : pathlib.Path, optional
        The results of `coupproof validate`, added where present; default: build/validate.
    title : str, optional
        The report's title (default: "Coup-proofing and alliances: Bayesian report").
    fit_file : pathlib.Path, optional
        One saved fit to report on its own data, read from the file its record names (a fit on your own table
        needs no panel; `panel` then overrides the recorded file only where given); `models`, `fits`, `specs`
        and the other stages' results are then not read.

    Raises
    ------
    ValueError
        If `ppc_draws` is below 1, naming the option.

    Examples
    --------
    >>> import coupproof as cp
    >>> settings = cp.ReportSettings(models=("m2", "m4"), title="Alliances: the Bayesian fits")
    """

    models: tuple[str, ...] = PAPER_MODELS
    fits: Path = FITS
    panel: Path = PANEL
    freq: Path = FrequentistResult.path(FREQ)
    specs: Path | dict | None = None
    ppc_draws: int = 200
    sensitivity: Path = SENSITIVITY
    robustness: Path = ROBUSTNESS
    validate: Path = VALIDATE
    title: str = TITLE
    fit_file: Path | None = None

    def __post_init__(self) -> None:
        at_least(self.ppc_draws, 1, "ppc_draws")

    @property
    def inputs(self) -> list[Path | None]:
        """Every file or folder the report reads, which an output must not overwrite (None for specs in a dict)."""
        specs = None if isinstance(self.specs, dict) else self.specs
        return [self.fits, self.panel, self.freq, specs, self.sensitivity, self.robustness, self.validate,
                self.fit_file]


@dataclass
class ReportResult:
    """The report page, its figures and its tables.

    Attributes
    ----------
    html : str
        The self-contained HTML page.
    figures : dict of str to bytes
        Its figures (PNG) by name.
    tables : dict of str to pandas.DataFrame
        Its tables by name (e.g. "overview", "loo").

    Examples
    --------
    >>> import coupproof as cp
    >>> cp.ReportResult.read("build/report").tables["overview"]
    """

    html: str
    figures: dict[str, bytes]
    tables: dict[str, pd.DataFrame]

    PAGE = "report.html"

    def write(self, out: str | os.PathLike) -> Path:
        """Write report.html, figures/<name>.png and tables/<name>.csv in `out`.

        Parameters
        ----------
        out : str or os.PathLike
            The output folder, e.g. build/report.

        Returns
        -------
        pathlib.Path
            The page's file (report.html).
        """
        from data_prep.io import atomic_write_text

        out = Path(out)
        for name, png in self.figures.items():
            write_png(out / "figures" / f"{name}.png", png)
        for name, table in self.tables.items():
            write_table(out / "tables" / f"{name}.csv", table)
        return atomic_write_text(out / self.PAGE, self.html)

    @classmethod
    def read(cls, out: str | os.PathLike) -> "ReportResult":
        """Read the page, figures and tables written by `write`.

        Parameters
        ----------
        out : str or os.PathLike
            The folder, e.g. build/report.

        Returns
        -------
        ReportResult
            The page, its figures and its tables.

        Raises
        ------
        FileNotFoundError
            If there is no report.html in `out` (run `coupproof report` first).
        """
        out = Path(out)
        page = out / cls.PAGE
        if not page.is_file():
            raise FileNotFoundError(f"{page}: no report there; run 'coupproof report' first")
        figures = {p.stem: read_png(p) for p in sorted((out / "figures").glob("*.png"))}
        tables = {p.stem: read_table(p) for p in sorted((out / "tables").glob("*.csv"))}
        return cls(page.read_text(), figures, tables)


def gather(settings: ReportSettings):
    """Gather what the report is built from: the saved fits of the settings' models and the other stages' results.

    A fit not yet made, missing frequentist results or a checksum that differs from the panel's become warnings
    shown in the report; a damaged fit, or no fit at all, is an error.

    Parameters
    ----------
    settings : ReportSettings
        The models and the folders to read.

    Returns
    -------
    reports.bayes_report.Report
        The fits with their records, the panel, the frequentist results, the other stages' results and the
        warnings.

    Raises
    ------
    models.specs.SpecError
        If a model is unknown.
    reports.bayes_report.ReportError
        If a fit or the frequentist results cannot be read, or no model has a readable fit.
    data_prep.sources.DataError
        If the panel file is missing or cannot be read.
    """
    from data_prep.panel import read_panel
    from inference.record import FitFileError, PanelRef
    from inference.store import load_fit_with_record
    from models.robustness import load_suite
    from models.specs import SpecError, load_specs
    from reports.bayes_report import Report, ReportError

    if settings.fit_file is not None:
        return _gather_one(settings)
    known = settings.specs if isinstance(settings.specs, dict) else load_specs(settings.specs)
    unknown = [n for n in settings.models if n not in known]
    if unknown:
        raise SpecError(f"unknown model(s) {', '.join(unknown)}; known models: {', '.join(known)}")
    ds = read_panel(settings.panel)
    checksum = PanelRef.of(ds).checksum
    report = Report({}, {}, ds, str(settings.panel), title=settings.title, ppc_draws=settings.ppc_draws)
    for name in settings.models:
        path = saved_fit_path(settings.fits, known[name])
        if not path.exists():
            report.warnings.append(f"{name}: {path}: fit file not found; the model is left out of this report")
            continue
        try:
            tree, record = load_fit_with_record(path, known[name])
        except FitFileError as exc:
            raise ReportError(str(exc)) from None
        if record.panel.checksum != checksum:
            report.warnings.append(f"{name}: the fit was made from a different panel (checksum "
                                   f"{record.panel.checksum[:12]} against the panel's {checksum[:12]}); refit it "
                                   "with 'make fit'")
        report.fits[name], report.records[name] = tree, record
    if not report.fits:
        raise ReportError(f"no readable fit in {settings.fits} for {', '.join(settings.models)}; run 'coupproof "
                          "fit' first")
    if all(record.panel.checksum != checksum for record in report.records.values()):
        raise ReportError(f"{settings.panel}: none of the fits ({', '.join(report.fits)}) was made from this panel; "
                          "give the panel they were fitted on, or refit them ('make fit')")
    if not Path(settings.freq).is_file():
        report.warnings.append(f"frequentist results not found ({settings.freq}); run 'make freq' to compare")
    else:
        from inference.frequentist import load_results

        try:
            report.freq, metadata = load_results(settings.freq)
        except ValueError as exc:
            raise ReportError(str(exc)) from None
        if metadata.get("panel_checksum") != checksum:
            report.warnings.append("the frequentist results were made from a different panel; rerun 'make freq'")
    sensitivity = SensitivityResult.read(settings.sensitivity)
    report.sensitivity = None if sensitivity.empty else sensitivity
    report.prior_comparison = PriorComparisonResult.read(settings.sensitivity)
    report.robustness = RobustnessResult.read(settings.robustness)
    if report.robustness is not None:
        variant_file = report.robustness.timing.get("variant_file")
        report.suite = load_suite(variant_file if variant_file and Path(variant_file).is_file() else None)
    report.calibration = CalibrationResult.read(settings.validate)
    return report


def _gather_one(settings: ReportSettings):
    """Gather what the report of one fit file is built from.

    The fit and the data its record names (or `settings.panel` where given); no frequentist or other stage results
    (they are the paper models').
    """
    from data_prep.user_table import load_data
    from inference.record import FitFileError, PanelRef
    from inference.store import load_fit_with_record
    from reports.bayes_report import Report, ReportError

    try:
        tree, record = load_fit_with_record(settings.fit_file)
    except FitFileError as exc:
        raise ReportError(str(exc)) from None
    try:
        source = (str(settings.panel) if settings.panel != PANEL
                  else record.panel.file_to_read(str(settings.fit_file), "give the data with --panel"))
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    ds = load_data(source)
    report = Report({record.model: tree}, {record.model: record}, ds, source, title=settings.title,
                    ppc_draws=settings.ppc_draws)
    if record.panel.checksum != PanelRef.of(ds).checksum:
        report.warnings.append(f"{record.model}: the fit was made from other data than {source} (checksum "
                               f"{record.panel.checksum[:12]}); refit it")
    return report


def report(settings: ReportSettings, progress: Progress | None = None) -> ReportResult:
    """Build the report of the saved fits and of whatever other stage results exist; nothing is refitted.

    `coupproof report` runs this stage.

    Parameters
    ----------
    settings : ReportSettings
        The models and the folders to read.
    progress : Progress, optional
        Where the stage says what it is doing; default: a status line on stderr.

    Returns
    -------
    ReportResult
        The page, its figures and its tables, held in memory until written.

    Raises
    ------
    models.specs.SpecError
        If a model is unknown.
    reports.bayes_report.ReportError
        If a fit or the frequentist results cannot be read, or no model has a readable fit.
    data_prep.sources.DataError
        If the panel file is missing or cannot be read.

    Examples
    --------
    >>> import coupproof as cp
    >>> result = cp.report(cp.ReportSettings(models=("m2", "m4")))
    >>> result.write("build/report")  # report.html, figures/, tables/
    """
    from reports.bayes_report import build_report

    progress = progress or Progress()
    inputs = gather(settings)
    with progress.status("Writing the report ..."):
        built = build_report(inputs)
    return ReportResult(built.html, built.figures, built.tables)
