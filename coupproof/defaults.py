"""Where the stages read and write by default: the layout of the build folder.

The paths are named once here for the command line, the stages and the Python API (the Makefile's targets use the
same paths): `BUILD` (build), `PANEL` (build/panel.nc, the dyad panel), `COUNTRY_YEAR_PANEL`
(build/country_year/panel.nc), `PACT_PANEL` (build/institutions/panel.nc), `FREQ` (build/freq), `FITS`
(build/fits), `SENSITIVITY` (build/sensitivity), `ROBUSTNESS` (build/robustness), `VALIDATE` (build/validate),
`PRIOR_CHECK` (build/prior_check) and `REPORT` (build/report). A further study's outputs sit under its panel's
folder with the same names (build/country_year/freq, build/country_year/fits, ...).
"""

from __future__ import annotations

from pathlib import Path

BUILD = Path("build")
PANEL = BUILD / "panel.nc"
COUNTRY_YEAR_PANEL = BUILD / "country_year" / "panel.nc"
PACT_PANEL = BUILD / "institutions" / "panel.nc"
FREQ = BUILD / "freq"
FITS = BUILD / "fits"
DYADIC_FITS = BUILD / "dyadic" / "fits"  # make dyadic: sender, receiver and dyad intercepts
SENSITIVITY = BUILD / "sensitivity"
ROBUSTNESS = BUILD / "robustness"
VALIDATE = BUILD / "validate"
REPORT = BUILD / "report"
PRIOR_CHECK = BUILD / "prior_check"
