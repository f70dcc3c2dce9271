"""Simulated directed dyad-year panels with a dyad random intercept, for tests of the model code."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from models.specs import ModelSpec

SPEC = ModelSpec("t1", "y ~ cb + threat + cb:threat + (1 | dyad)", sample="sample", label="test")


def simulated_panel(n_dyads: int = 300, years: int = 20, seed: int = 0, beta=(-2.0, 0.8, 0.5, -0.6),
                    sigma: float = 0.5) -> pd.DataFrame:
    """A small directed dyad-year panel with a dyad effect, so that clustering matters."""
    rng = np.random.default_rng(seed)
    dyad = np.repeat(np.arange(n_dyads), years)
    cb = np.repeat(rng.normal(1, 0.5, n_dyads), years) + rng.normal(0, 0.1, dyad.size)
    threat = rng.uniform(0, 1, dyad.size)
    eta = beta[0] + beta[1] * cb + beta[2] * threat + beta[3] * cb * threat + np.repeat(rng.normal(0, sigma, n_dyads), years)
    return pd.DataFrame({"ccode_a": 2 + dyad // 50, "ccode_b": 100 + dyad % 50, "year": np.tile(np.arange(years), n_dyads),
                         "cb": cb, "threat": threat, "y": rng.binomial(1, expit(eta)).astype(float), "sample": True})


def synthetic_panel_file(path, n_dyads: int = 120, years: int = 12, seed: int = 0):
    """A small panel file in the real schema: the variables of Models 1 and 3 simulated (threat to B independent of
    the outcome), every other variable missing."""
    from data_prep.panel import SCHEMA_VERSION, content_checksum, frame_to_dataset, write_panel
    from data_prep.variables import VARIABLES

    sim = simulated_panel(n_dyads=n_dyads, years=years, seed=seed, beta=(-3.5, 0.8, 0.5, -0.6), sigma=1.0)
    frame = sim.rename(columns={"y": "new_defense_pact", "cb": "counterbalancing_a", "threat": "threat_a"})
    frame["year"] = frame["year"] + 1990
    frame["threat_b"] = np.random.default_rng(seed + 1).uniform(0, 1, len(frame))
    for name in VARIABLES:
        if name not in frame:
            frame[name] = np.nan
    frame["sample_no_controls"] = True
    frame["sample_controls"] = False
    abbreviations = pd.Series(dtype=str)
    ds = frame_to_dataset(frame, abbreviations, (1990, 1990 + years - 1))
    ds.attrs = {"schema_version": SCHEMA_VERSION, "title": "synthetic test panel"}
    ds.attrs["panel_checksum"] = content_checksum(ds)
    return write_panel(ds, path)


def synthetic_fits(folder, models: str = "m1", draws: int = 60):
    """A synthetic panel file in `folder` and brief fits of `models` on it through the command line (fits fail
    their diagnostics at this size, which is fine for tests of what reads them): (panel path, fits folder)."""
    from pathlib import Path

    from typer.testing import CliRunner

    from coupproof.cli import app

    folder = Path(folder)
    panel = synthetic_panel_file(folder / "panel.nc")
    fits = folder / "fits"
    result = CliRunner().invoke(app, ["fit", "--model", models, "--panel", str(panel), "--out", str(fits),
                                      "--draws", str(draws), "--tune", str(draws)])
    assert result.exit_code == 0, result.output
    return panel, fits


def fake_record(spec: ModelSpec, method: str = "marginal", priors: dict | None = None, **changes):
    """A complete fit record for a hand-made fit tree (tests of what reads fits): default priors and settings, a
    standardiser of the formula's terms with mean 0 and sd 1, a passed diagnostics gate."""
    from inference.record import FitRecord, PanelRef
    from inference.settings import SamplerSettings
    from models.builders import Standardiser
    from models.priors import load_priors
    from models.quadrature import QuadratureOptions

    terms = tuple(spec.parsed.terms)
    standardiser = Standardiser(terms, np.zeros(len(terms)), np.ones(len(terms)))
    values = dict(spec=spec, priors=priors or load_priors(), method=method, sampler=SamplerSettings(),
                  quadrature=QuadratureOptions(),
                  standardiser=standardiser, count_standardiser=None, panel=PanelRef(), n_rows=0, n_groups=0,
                  n_events=0, diagnostics_passed=True)
    values.update(changes)
    return FitRecord(**values)
