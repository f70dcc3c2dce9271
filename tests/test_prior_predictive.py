"""The prior predictive check: its quantities on known outcomes, simulated rates where a tight prior puts them, a
conflicting prior flagged, and the stage and command on a synthetic panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import coupproof as cp
from coupproof.cli import app
from inference.prior_predictive import outcome_quantities, prior_predictive
from models.design import model_data
from models.priors import parse_priors
from models.specs import ModelSpec
from simulate import simulated_panel


def tight(rate: float) -> dict:
    """Priors that pin the event rate near `rate`: the intercept at logit(rate), slopes and group sd near 0."""
    return parse_priors({"intercept": {"dist": "Normal", "base_rate": rate, "sigma": 0.01},
                         "slopes": {"dist": "Normal", "sigma": 1e-4, "scale_rule": "per_sd"},
                         "group_sd": {"dist": "HalfNormal", "sigma": 1e-4}})


def test_quantities_of_known_outcomes():
    frame = simulated_panel(n_dyads=10, years=4, seed=1)
    frame["y"] = np.tile([0, 0, 2, 3], 10).astype(float)
    hurdle = model_data(frame, ModelSpec("h", "y ~ cb + (1 | dyad)", family="hurdle_poisson"))
    q = outcome_quantities(np.array([[0, 0, 2, 3], [1, 0, 0, 0]], float), hurdle)
    np.testing.assert_allclose(q["event rate"], [0.5, 0.25])
    np.testing.assert_allclose(q["mean count among positive rows"], [2.5, 1.0])
    frame["y"] = np.tile([0, 1, 2, 2], 10).astype(float)
    ordinal = model_data(frame, ModelSpec("o", "y ~ cb + (1 | dyad)", family="cumulative"))
    q = outcome_quantities(np.array([0, 1, 2, 2], float), ordinal)
    assert list(q) == ["share of 0", "share of 1", "share of 2"]
    np.testing.assert_allclose([v[0] for v in q.values()], [0.25, 0.25, 0.5])


def test_a_tight_prior_predicts_its_rate_and_a_conflict_is_flagged():
    frame = simulated_panel(n_dyads=60, years=10, seed=2)  # about 15% events
    data = model_data(frame, ModelSpec("t", "y ~ cb * threat + (1 | dyad)"))
    observed = float(data.y.mean())
    at_data = prior_predictive(data, tight(observed), simulations=60, seed=1).table().iloc[0]
    assert at_data["in_data"] == pytest.approx(observed)
    assert at_data["prior_median"] == pytest.approx(observed, abs=0.03)  # binomial noise of 600 rows
    assert at_data["inside"] and 0.05 < at_data["percentile"] < 0.95
    elsewhere = prior_predictive(data, tight(0.6), simulations=60, seed=1).table().iloc[0]
    assert elsewhere["prior_low"] > 0.5 and not elsewhere["inside"] and elsewhere["percentile"] == 0.0


def test_batches_give_every_simulation(monkeypatch):
    import inference.prior_predictive as pp

    frame = simulated_panel(n_dyads=20, years=5, seed=3)
    data = model_data(frame, ModelSpec("t", "y ~ cb + (1 | dyad)"))
    monkeypatch.setattr(pp, "MAX_CELLS", 7 * len(data.y))  # batches of 7
    result = pp.prior_predictive(data, tight(0.2), simulations=30, seed=5)
    assert len(result.simulated["event rate"]) == 30 and result.table()["simulations"].iloc[0] == 30


def test_the_stage_round_trips_and_the_command_fails_on_a_conflict(tmp_path):
    from simulate import synthetic_panel_file

    panel = synthetic_panel_file(tmp_path / "panel.nc")
    result = cp.check_priors(cp.PriorCheckSettings(models=("m1", "m3"), panel=panel, simulations=40), cp.stages.QUIET)
    assert list(result.table["model"]) == ["m1", "m3"] and result.figure[:4] == b"\x89PNG"
    result.write(tmp_path / "check")
    again = cp.PriorCheckResult.read(tmp_path / "check")
    pd.testing.assert_frame_equal(again.table, result.table, check_dtype=False)
    assert again.metadata["simulations"] == 40 and again.passed == result.passed
    assert "in the data" in (tmp_path / "check" / "prior_predictive.md").read_text()
    conflict = tmp_path / "conflict.toml"
    conflict.write_text('[intercept]\ndist = "Normal"\nbase_rate = 0.9\nsigma = 0.01\n'
                        '[slopes]\ndist = "Normal"\nsigma = 0.0001\nscale_rule = "per_sd"\n')
    run = CliRunner().invoke(app, ["prior-check", "--models", "m1", "--panel", str(panel), "--priors", str(conflict),
                                   "--simulations", "30", "--out", str(tmp_path / "bad")])
    assert run.exit_code == 1, run.output
    assert "0 of 1 value(s) inside" in run.output
    with pytest.raises(ValueError, match="--simulations must be at least 20, got 5"):
        cp.PriorCheckSettings(models=("m1",), simulations=5)
    with pytest.raises(ValueError, match="name nothing to check"):
        cp.PriorCheckSettings()
