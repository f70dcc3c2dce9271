"""The warm start (inference.warm_start): the mode and Laplace covariance of a Gaussian posterior are exact, the
whitened model has the same log density up to a constant and the same named variables, and the settings and
records carry the choice."""

from __future__ import annotations

import json

import numpy as np
import pymc as pm
import pytest

from inference.settings import SamplerSettings
from inference.warm_start import WHITENED, Laplace, laplace, whitened_model


def gaussian_model(mean: np.ndarray, cov: np.ndarray) -> pm.Model:
    with pm.Model(coords={"k": np.arange(len(mean))}) as model:
        x = pm.MvNormal("x", mu=mean, cov=cov, dims="k")
        pm.Deterministic("total", x.sum())
        pm.HalfNormal("scale", 1.0)  # a log-transformed value: the mode is on the unconstrained scale
    return model


MEAN = np.array([1.5, -2.0, 0.3])
COV = np.array([[1.0, 0.6, 0.1], [0.6, 2.0, -0.3], [0.1, -0.3, 0.5]])


def test_laplace_of_a_gaussian_is_its_mean_and_covariance():
    approx = laplace(gaussian_model(MEAN, COV))
    assert approx.names == ("x", "scale_log__") and approx.shapes == ((3,), ())
    assert approx.converged
    np.testing.assert_allclose(approx.point()["x"], MEAN, atol=1e-5)
    # HalfNormal(1) on the log scale u: log density -exp(2u)/2 + u, mode u = 0, curvature 2 there
    assert approx.point()["scale_log__"] == pytest.approx(0.0, abs=1e-5)
    cov = approx.covariance
    np.testing.assert_allclose(cov[:3, :3], COV, atol=1e-5)
    assert cov[3, 3] == pytest.approx(0.5, abs=1e-5)
    np.testing.assert_allclose(cov[:3, 3], 0.0, atol=1e-6)


def test_laplace_round_trips_through_its_dataset():
    approx = laplace(gaussian_model(MEAN, COV))
    again = Laplace.from_dataset(approx.to_dataset())
    assert again.names == approx.names and again.shapes == approx.shapes
    np.testing.assert_array_equal(again.mode, approx.mode)
    np.testing.assert_array_equal(again.root, approx.root)
    assert list(approx.to_dataset()["parameter"].values) == ["x[0]", "x[1]", "x[2]", "scale_log__"]


def test_directions_without_curvature_get_unit_variance():
    """A flat direction (an improper uniform) cannot be scaled from the curvature: variance 1, not infinity."""
    with pm.Model() as model:
        pm.Normal("a", 0.0, 0.5)
        pm.Flat("b")
    approx = laplace(model)
    np.testing.assert_allclose(np.diag(approx.covariance), [0.25, 1.0], atol=1e-6)


def test_whitened_model_has_the_same_density_and_variables():
    model = gaussian_model(MEAN, COV)
    approx = laplace(model)
    white = whitened_model(model, approx)
    assert {v.name for v in white.free_RVs} == {WHITENED}
    assert {"x", "scale", "total"} <= {v.name for v in white.deterministics}
    logp, white_logp = model.compile_logp(), white.compile_logp()
    values = white.compile_fn(white.replace_rvs_by_values([white["x"], white["scale"]]), inputs=white.value_vars)
    rng = np.random.default_rng(3)
    differences = []
    for _ in range(4):
        z = rng.normal(size=4)
        x, scale = values({WHITENED: z})
        x_flat = approx.mode + approx.root @ z
        np.testing.assert_allclose(x, x_flat[:3])
        assert scale == pytest.approx(np.exp(x_flat[3]))
        differences.append(white_logp({WHITENED: z}) - logp({"x": x, "scale_log__": x_flat[3]}))
    np.testing.assert_allclose(differences, 0.0, atol=1e-9)  # a Potential: same density, Jacobian constant


def test_whitened_model_refuses_another_models_approximation():
    approx = laplace(gaussian_model(MEAN, COV))
    with pytest.raises(ValueError, match="another model"):
        whitened_model(gaussian_model(MEAN[:2], COV[:2, :2]), approx)


def test_warm_start_setting_is_checked_and_records_without_it_read_as_none():
    """Fits saved before the warm start existed were started cold: their records say so."""
    from inference.record import FitRecord
    from models.specs import PAPER_MODELS
    from tests.simulate import fake_record

    with pytest.raises(ValueError, match="unknown warm start 'mode'; use laplace, none"):
        SamplerSettings(warm_start="mode")
    attrs = fake_record(PAPER_MODELS["m4"], sampler=SamplerSettings(warm_start="laplace")).to_attrs()
    assert FitRecord.from_attrs(attrs).sampler.warm_start == "laplace"
    sampler = json.loads(attrs["sampler"])
    del sampler["warm_start"]
    attrs["sampler"] = json.dumps(sampler)
    assert FitRecord.from_attrs(attrs).sampler.warm_start == "none"


def test_auto_adaptation_is_diag_only_beside_sampled_groupings():
    assert SamplerSettings().adaptation == "auto"
    assert SamplerSettings().resolved(sampled_groupings=True).adaptation == "diag"
    assert SamplerSettings().resolved(sampled_groupings=False).adaptation == "low_rank"
    assert SamplerSettings(adaptation="low_rank").resolved(True).adaptation == "low_rank"  # a choice is kept


def test_a_warm_started_fit_keeps_its_laplace_and_the_usual_draws():
    """A small marginal fit (40 states, state intercepts of sd 1): the Laplace group is saved, the whitened
    coordinates are not, the record says how it started, and the draws recover the slope."""
    import pandas as pd
    from scipy.special import expit

    from inference.fitting import fit
    from inference.record import fit_record
    from models.design import model_data
    from models.priors import load_priors
    from models.specs import ModelSpec

    rng = np.random.default_rng(8)
    state = np.repeat(np.arange(40), 50)
    x = rng.normal(0, 1, state.size)
    y = rng.binomial(1, expit(-1.0 + 0.7 * x + rng.normal(0, 1.0, 40)[state])).astype(float)
    frame = pd.DataFrame({"ccode_a": 100 + state, "ccode_b": 500 + state, "x": x, "y": y})
    data = model_data(frame, ModelSpec("states", "y ~ x + (1 | state_a)"))
    settings = SamplerSettings(draws=150, tune=100, chains=2, seed=4, warm_start="laplace")
    tree, _ = fit(data, load_priors(), settings, loglik_every=10)
    assert WHITENED not in tree["posterior"].data_vars
    assert {"state_a_sd_signed", "beta_rescaled", "intercept_centred", "coef"} <= set(tree["posterior"].data_vars)
    record = fit_record(tree)
    assert record.sampler.warm_start == "laplace" and record.sampler.adaptation == "low_rank"
    approx = Laplace.from_dataset(tree["laplace"].to_dataset())
    assert approx.converged and approx.names[0] == "state_a_sd_signed"
    slope = tree["posterior"]["coef"].sel(coef_term="x")
    assert abs(float(slope.mean()) - 0.7) < 3 * float(slope.std()) + 0.05
    assert int(tree["sample_stats"]["diverging"].sum()) == 0


def test_laplace_draws_of_a_gaussian_have_its_moments():
    """The approximate posterior: draws of the free variables and deterministics, labelled as approximate."""
    from inference.warm_start import laplace_draws

    model = gaussian_model(MEAN, COV)
    posterior = laplace_draws(model, laplace(model), draws=4000, seed=1)
    assert "Laplace" in posterior.attrs["approximation"]
    x = posterior["x"].values.reshape(-1, 3)
    np.testing.assert_allclose(x.mean(axis=0), MEAN, atol=0.08)
    np.testing.assert_allclose(np.cov(x.T), COV, atol=0.12)
    np.testing.assert_allclose(posterior["total"].values.reshape(-1), x.sum(axis=1))
    assert list(posterior["x"].dims) == ["chain", "draw", "k"] and posterior.sizes["draw"] == 4000
