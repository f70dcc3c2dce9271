"""Where the stages read and write by default: the layout of the build folder, named once for the command line, the
stages and the Python API (the Makefile's targets use the same paths)."""

from __future__ import annotations

from pathlib import Path

BUILD = Path("build")
PANEL = BUILD / "panel.nc"
COUNTRY_YEAR_PANEL = BUILD / "country_year" / "panel.nc"
PACT_PANEL = BUILD / "institutions" / "panel.nc"
FREQ = BUILD / "freq"
FITS = BUILD / "fits"
SENSITIVITY = BUILD / "sensitivity"
ROBUSTNESS = BUILD / "robustness"
VALIDATE = BUILD / "validate"
REPORT = BUILD / "report"
