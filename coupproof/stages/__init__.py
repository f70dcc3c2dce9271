"""The workbench's stages, one function each, from the raw files to the report.

Each takes a settings object and returns a result object that writes its files (`result.write(out)`) and reads them
back (`Result.read(out)`):

    panel          build_panel(PanelSettings)                    -> PanelResult
    frequentist    frequentist(FrequentistSettings)              -> FrequentistResult
    fit            fit_models(FitSettings)                       -> FitsResult
    sensitivity    sensitivity(SensitivitySettings)              -> SensitivityResult
    prior sets     compare_priors(PriorComparisonSettings)       -> PriorComparisonResult
    prior check    check_priors(PriorCheckSettings)              -> PriorCheckResult
    robustness     robustness(RobustnessSettings)                -> RobustnessResult
    calibration    calibrate(CalibrationSettings)                -> CalibrationResult
    report         report(ReportSettings)                        -> ReportResult
    results pages  results_pages(ResultsSettings)                -> ResultsPages

The command line (`coupproof <command>`) parses its options into the settings, calls the stage, prints and writes.
"""

from __future__ import annotations

from .base import QUIET, Progress
from .calibration import CalibrationResult, CalibrationSettings, calibrate
from .fit import FitSettings, FitsResult, fit_models
from .frequentist import FrequentistResult, FrequentistSettings, frequentist
from .panel import PanelResult, PanelSettings, build_panel
from .prior_check import PriorCheckResult, PriorCheckSettings, check_priors
from .priors import PriorComparisonResult, PriorComparisonSettings, compare_priors
from .report import ReportResult, ReportSettings, report
from .results import ResultsPages, ResultsSettings, results_pages
from .robustness import RobustnessResult, RobustnessSettings, robustness
from .sensitivity import SensitivityResult, SensitivitySettings, sensitivity

__all__ = ["QUIET", "CalibrationResult", "CalibrationSettings", "FitSettings", "FitsResult", "FrequentistResult",
           "FrequentistSettings", "PanelResult", "PanelSettings", "PriorCheckResult", "PriorCheckSettings",
           "PriorComparisonResult", "PriorComparisonSettings", "Progress", "ReportResult", "ReportSettings",
           "ResultsPages", "ResultsSettings", "RobustnessResult", "RobustnessSettings", "SensitivityResult",
           "SensitivitySettings", "build_panel", "calibrate", "check_priors", "compare_priors", "fit_models",
           "frequentist", "report", "results_pages", "robustness", "sensitivity"]
