"""Bayesian workbench for coup-proofing and alliances: `import coupproof as cp` gives the Python API and the stages.

    import coupproof as cp
    panel = cp.load_panel()                          # build/panel.nc, built from the raw files if missing
    fit = cp.Model("m4", panel).fit()                # one model: progress bar, diagnostics
    result = cp.robustness(cp.RobustnessSettings(bayes=False))   # one stage, as `coupproof robustness` runs it
    result.write("build/robustness")

`coupproof` on the command line runs the same stages (docs/api.md lists them all).
"""

from __future__ import annotations

_API = ("Fit", "Model", "load_fit", "load_panel", "paper_models")
_STAGES = ("CalibrationResult", "CalibrationSettings", "FitSettings", "FitsResult", "FrequentistResult",
           "FrequentistSettings", "PanelResult", "PanelSettings", "PriorCheckResult", "PriorCheckSettings",
           "PriorComparisonResult", "PriorComparisonSettings", "Progress", "ReportResult", "ReportSettings",
           "ResultsPages", "ResultsSettings", "RobustnessResult", "RobustnessSettings", "SensitivityResult",
           "SensitivitySettings", "build_panel", "calibrate", "check_priors", "compare_priors", "fit_models",
           "frequentist", "report", "results_pages", "robustness", "sensitivity")
__all__ = [*_API, *_STAGES]


def __getattr__(name: str):
    """Import the API and the stages on first use, so that `coupproof --help` does not import PyMC.

    Parameters
    ----------
    name : str
        The attribute asked for, e.g. "Model" or "robustness".

    Returns
    -------
    object
        The function or class of that name from coupproof.api or coupproof.stages.

    Raises
    ------
    AttributeError
        If `name` is neither.
    """
    if name in _API:
        from . import api

        return getattr(api, name)
    if name in _STAGES:
        from . import stages

        return getattr(stages, name)
    raise AttributeError(f"module 'coupproof' has no attribute {name!r}")
