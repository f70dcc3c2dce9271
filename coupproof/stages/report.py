"""The report stage: one self-contained HTML page of the saved Bayesian fits with their figures and tables, and the
results of the other stages where they have run. It reads saved results through their result classes and never
refits."""

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
    """Which `models` (names of `specs`) to report from the saved fits in `fits` on `panel`, with the frequentist
    results `freq` and, where they exist, the results in the `sensitivity`, `robustness` and `validate` folders;
    `ppc_draws` posterior draws for the predictive checks. `specs` is a spec file or, from Python, the specs
    themselves ({name: models.specs.ModelSpec})."""

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

    def __post_init__(self) -> None:
        at_least(self.ppc_draws, 1, "ppc_draws")

    @property
    def inputs(self) -> list[Path | None]:
        """Every file or folder the report reads (an output must not overwrite them)."""
        specs = None if isinstance(self.specs, dict) else self.specs
        return [self.fits, self.panel, self.freq, specs, self.sensitivity, self.robustness, self.validate]


@dataclass
class ReportResult:
    """The page (`html`), its figures (PNG bytes by name) and its tables by name."""

    html: str
    figures: dict[str, bytes]
    tables: dict[str, pd.DataFrame]

    PAGE = "report.html"

    def write(self, out: str | os.PathLike) -> Path:
        """report.html, figures/<name>.png and tables/<name>.csv in `out`; returns the page's path."""
        from data_prep.io import atomic_write_text

        out = Path(out)
        for name, png in self.figures.items():
            write_png(out / "figures" / f"{name}.png", png)
        for name, table in self.tables.items():
            write_table(out / "tables" / f"{name}.csv", table)
        return atomic_write_text(out / self.PAGE, self.html)

    @classmethod
    def read(cls, out: str | os.PathLike) -> "ReportResult":
        """The page, figures and tables written by `write` (the page must exist)."""
        out = Path(out)
        page = out / cls.PAGE
        if not page.is_file():
            raise FileNotFoundError(f"{page}: no report there; run 'coupproof report' first")
        figures = {p.stem: read_png(p) for p in sorted((out / "figures").glob("*.png"))}
        tables = {p.stem: read_table(p) for p in sorted((out / "tables").glob("*.csv"))}
        return cls(page.read_text(), figures, tables)


def gather(settings: ReportSettings, progress: Progress):
    """What the report is built from (`reports.bayes_report.Report`): the saved fits of the settings' models (a fit
    not yet made, missing frequentist results or a checksum that differs from the panel's become visible
    warnings; a damaged fit, or no fit at all, is an error) and the other stages' results where present."""
    from data_prep.panel import read_panel
    from inference.record import FitFileError, PanelRef
    from inference.store import load_fit_with_record
    from models.robustness import load_suite
    from models.specs import SpecError, load_specs
    from reports.bayes_report import Report, ReportError

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
            tree, record = load_fit_with_record(path)
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


def report(settings: ReportSettings, progress: Progress | None = None) -> ReportResult:
    """The report of the saved fits and of whatever other stage results exist (nothing is refitted)."""
    from reports.bayes_report import build_report

    progress = progress or Progress()
    inputs = gather(settings, progress)
    with progress.status("Writing the report ..."):
        built = build_report(inputs)
    return ReportResult(built.html, built.figures, built.tables)
