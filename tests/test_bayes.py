"""Bayesian models: priors config, the marginalised and the plain model agreeing, parameter recovery, and the
fit file round trip. Small simulated panels and few draws keep this inside CI's budget."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inference.fitting import SamplerSettings, fit
from inference.store import FitFileError, load_fit, save_fit
from models.design import model_data
from models.priors import PriorError, load_priors, parse_priors
from simulate import SPEC, simulated_panel

TRUTH = {"coef[Intercept]": -4.0, "coef[cb]": 0.8, "coef[threat]": 0.5, "coef[cb:threat]": -0.6, "dyad_sd": 1.0}


def small_fit(seed: int, method: str = "marginal", draws: int = 250):
    frame = simulated_panel(n_dyads=200, years=15, beta=(-4.0, 0.8, 0.5, -0.6), sigma=1.0, seed=seed)
    data = model_data(frame, SPEC)
    settings = SamplerSettings(sampler="pymc", draws=draws, tune=draws, chains=2, seed=seed)
    return fit(data, load_priors(), settings, method, loglik_every=25)


@pytest.fixture(scope="module")
def marginal_fit():
    return small_fit(11)


def test_default_priors_and_base_rate():
    priors = load_priors()
    assert set(priors) == {"intercept", "slopes", "dyad_sd", "count_intercept", "count_slopes"}
    assert priors["intercept"].kwargs["mu"] == pytest.approx(np.log(2e-4 / (1 - 2e-4)))
    assert priors["dyad_sd"].dist == "HalfNormal"


@pytest.mark.parametrize("config, message", [
    ({"slope": {"dist": "Normal", "sigma": 1}}, "unknown prior parameter\\(s\\) slope"),
    ({"slopes": {"dist": "Gaussian", "sigma": 1}}, "\\[slopes\\] unknown distribution 'Gaussian'"),
    ({"slopes": {"dist": "Normal", "sd": 1}}, "\\[slopes\\] Normal takes sigma, mu; unknown: sd; missing: sigma"),
    ({"slopes": {"dist": "Normal", "sigma": -1}}, "\\[slopes\\] sigma must be positive, got -1"),
    ({"dyad_sd": {"dist": "Normal", "sigma": 1}}, "\\[dyad_sd\\] is a standard deviation"),
    ({"intercept": {"dist": "Normal", "base_rate": 2, "sigma": 1}}, "base_rate must be a number in \\(0, 1\\)"),
    ({"slopes": {"sigma": 1}}, "\\[slopes\\] needs a 'dist' key"),
])
def test_prior_config_errors(config, message):
    with pytest.raises(PriorError, match=message):
        parse_priors(config, "test.toml")


def test_prior_file_errors(tmp_path):
    with pytest.raises(PriorError, match="prior file not found"):
        load_priors(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[slopes\n")
    with pytest.raises(PriorError, match="bad.toml: not valid TOML"):
        load_priors(bad)
    good = tmp_path / "student.toml"
    good.write_text('[slopes]\ndist = "StudentT"\nnu = 3\nsigma = 2.5\n')
    assert load_priors(good)["slopes"].describe() == "StudentT(nu=3, sigma=2.5)"


def test_marginal_fit_recovers_truth_and_saves(marginal_fit, tmp_path):
    idata, diagnostics = marginal_fit
    summary = diagnostics.table
    for name, truth in TRUTH.items():
        assert summary.loc[name, "hdi94_lb"] <= truth <= summary.loc[name, "hdi94_ub"], name
    assert idata["log_likelihood"]["dyad_loglik"].shape == (2, 10, 200)
    assert np.isfinite(np.asarray(idata["dyad_effects"]["effect_mean"])).all()
    assert json.loads(idata.attrs["sampler"])["draws"] == 250
    path = save_fit(idata, tmp_path / "fit.nc")
    loaded = load_fit(path)
    np.testing.assert_array_equal(np.asarray(loaded["posterior"]["coef"]), np.asarray(idata["posterior"]["coef"]))
    assert loaded.attrs["model"] == "t1" and loaded.attrs["method"] == "marginal"


def test_fit_file_errors(tmp_path):
    with pytest.raises(FitFileError, match="fit file not found"):
        load_fit(tmp_path / "absent.nc")
    corrupt = tmp_path / "corrupt.nc"
    corrupt.write_bytes(b"not netcdf")
    with pytest.raises(FitFileError, match="corrupt.nc: not a readable fit file"):
        load_fit(corrupt)


def test_marginal_and_plain_models_agree(marginal_fit):
    """Same data and priors: posterior means within a few Monte Carlo standard errors."""
    _, marginal = marginal_fit
    _, plain = small_fit(11, method="plain")
    for name in TRUTH:
        a, b = marginal.table.loc[name], plain.table.loc[name]
        mcse = np.hypot(a["mcse_mean"], b["mcse_mean"])
        assert abs(a["mean"] - b["mean"]) < 4 * mcse + 0.02, name


@pytest.mark.parametrize("seed", [21, 22])
def test_recovery_across_seeds(seed):
    _, diagnostics = small_fit(seed, draws=200)
    for name, truth in TRUTH.items():
        row = diagnostics.table.loc[name]
        assert row["hdi94_lb"] <= truth <= row["hdi94_ub"], (seed, name)
