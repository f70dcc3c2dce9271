"""The intercept of the average row (models.average_rate): against a dense reference over the rows themselves and a
normal group effect, with its gradient in the target, every row's linear predictor and the group sd, over event
rates from 2e-9 to 0.9999 and group sds from none to 10 (the rule's grid errs by at most 2 x 0.05^2 / 8 of the rate:
1e-3 on the log-odds), and smooth at sd 0."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from models.average_rate import ROW_LIMIT, _solve, average_rows, intercept_for_average, row_predictors
from references import intercept_for_average_rate

RNG = np.random.default_rng(4)
# skewed rows, like a cubic in years since the last coup: the case where a normal spread was 0.3 logits off
ETA = RNG.normal(0.3, 1.2, 400) + 0.25 * RNG.gamma(1.5, 2.0, 400) ** 1.5


def solve(target: float, eta: np.ndarray = ETA, sd: float = 0.0):
    """The Op's solution and derivatives for one target: b, db/dt, db/d eta (rows), db/d sd."""
    b, d_target, d_eta, d_sd = _solve(np.array([target]), eta, sd)
    return b[0], d_target[0], d_eta[0], d_sd[0]


@pytest.mark.parametrize("target", [-20.0, -11.0, -8.5, -3.5, 0.0, 1.7, 9.0])
@pytest.mark.parametrize("sd", [0.0, 0.03, 1.0, 3.1, 5.2, 10.3])
def test_the_intercept_gives_the_stated_average(target, sd):
    b, d_target, d_eta, d_sd = solve(target, sd=sd)
    assert np.isfinite([b, d_target, d_sd]).all() and np.isfinite(d_eta).all()
    assert b == pytest.approx(intercept_for_average_rate(target, ETA, sd), abs=1e-3)
    step = 1e-6  # the gradient NUTS gets, against central differences of the discrete solution
    fd_target = (solve(target + step, sd=sd)[0] - solve(target - step, sd=sd)[0]) / (2 * step)
    assert d_target == pytest.approx(fd_target, rel=1e-5)
    row_step = 1e-4  # a row moves b by about 1e-7 of its step: smaller steps drown in the solution's rounding
    for row in (0, int(np.argmax(ETA)), int(np.argmin(ETA))):  # (none of these crosses a grid point)
        up, down = ETA.copy(), ETA.copy()
        up[row] += row_step
        down[row] -= row_step
        fd_row = (solve(target, up, sd)[0] - solve(target, down, sd)[0]) / (2 * row_step)
        assert d_eta[row] == pytest.approx(fd_row, rel=1e-4, abs=1e-9)
    if sd > 0:
        fd_sd = (solve(target, sd=sd + step)[0] - solve(target, sd=sd - step)[0]) / (2 * step)
        assert d_sd == pytest.approx(fd_sd, rel=1e-4, abs=1e-8)


def test_smooth_at_a_group_sd_of_zero():
    """The group sd is sampled signed (|s|): the solution's slope in sd vanishes at 0, so no kink there."""
    slopes = np.abs([solve(-5.0, sd=sd)[3] for sd in (0.0, 1e-3, 1e-2, 3e-2)])
    assert slopes[0] == 0.0 and slopes[1] < 1e-12 and slopes[2] < 1e-4
    assert np.all(np.diff(slopes) >= 0)
    assert solve(-5.0, sd=1e-3)[0] == pytest.approx(solve(-5.0, sd=0.0)[0], abs=1e-12)


def test_far_spreads_stay_finite():
    """Warm-up visits absurd slopes: rows spread over thousands of logits coarsen the grid (no longer the exact
    average) but still give a finite, increasing map with its exact derivatives."""
    wide = ETA * 500
    b, d_target, d_eta, d_sd = solve(-8.0, wide, 40.0)
    assert np.isfinite([b, d_target, d_sd]).all() and np.isfinite(d_eta).all()
    assert d_target > 0 and solve(-7.0, wide, 40.0)[0] > b
    step = 1e-5
    fd_sd = (solve(-8.0, wide, 40.0 + step)[0] - solve(-8.0, wide, 40.0 - step)[0]) / (2 * step)
    assert d_sd == pytest.approx(fd_sd, rel=1e-4)


def test_vector_targets_give_ordered_solutions():
    target = pt.dvector()
    f = pytensor.function([target], intercept_for_average(target, pt.as_tensor(ETA), 2.0))
    cut = f(np.array([-2.0, 0.5, 3.0]))
    assert np.all(np.diff(cut) > 0)
    np.testing.assert_allclose(cut, [solve(t, sd=2.0)[0] for t in (-2.0, 0.5, 3.0)], rtol=1e-12)


def test_row_predictors_are_the_rows_slopes_and_year_effects():
    Z, years = RNG.normal(size=(500, 3)), RNG.integers(0, 6, 500)
    beta, year_effect = RNG.normal(size=3), RNG.normal(size=6)
    eta = row_predictors(Z, pt.as_tensor(beta), years, pt.as_tensor(year_effect)).eval()
    np.testing.assert_allclose(eta, Z @ beta + year_effect[years], rtol=1e-12)
    np.testing.assert_allclose(row_predictors(Z, pt.as_tensor(beta)).eval(), Z @ beta, rtol=1e-12)


def test_large_designs_average_over_a_fixed_subsample():
    assert np.array_equal(average_rows(ROW_LIMIT), np.arange(ROW_LIMIT))
    rows = average_rows(10 * ROW_LIMIT)
    assert len(rows) == ROW_LIMIT and len(np.unique(rows)) == ROW_LIMIT and np.all(np.diff(rows) > 0)
    assert np.array_equal(rows, average_rows(10 * ROW_LIMIT))  # the same rows every time


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "NUMBA", "JAX"])  # FAST_COMPILE runs the Op's perform
def test_every_backend_gives_the_same_intercepts_and_gradients(mode):
    """nutpie compiles the model with numba, numpyro with JAX: both call the same solve as the Python path."""
    target, eta, sd = pt.dvector(), pt.dvector(), pt.dscalar()
    b = intercept_for_average(target, eta, sd)
    weights = np.array([1.0, -0.5])
    f = pytensor.function([target, eta, sd], [b, *pytensor.grad(pt.dot(b, weights), [target, eta, sd])], mode=mode)
    b_value, d_target, d_eta, d_sd = f(np.array([-8.0, 0.4]), ETA, 1.3)
    expected = [solve(t, sd=1.3) for t in (-8.0, 0.4)]
    np.testing.assert_allclose(b_value, [e[0] for e in expected], rtol=0, atol=1e-13)
    np.testing.assert_allclose(d_target, weights * [e[1] for e in expected], rtol=1e-12)
    np.testing.assert_allclose(d_eta, weights @ np.stack([e[2] for e in expected]), rtol=1e-12, atol=1e-15)
    assert float(d_sd) == pytest.approx(weights @ [e[3] for e in expected], rel=1e-12)


def test_jax_gradient_goes_through_the_custom_vjp():
    """numpyro differentiates the JAX version of the log-density itself: the host callback needs its VJP."""
    import jax
    from pytensor.graph.fg import FunctionGraph
    from pytensor.link.jax.dispatch import jax_funcify

    jax.config.update("jax_enable_x64", True)
    target, eta, sd = pt.dscalar(), pt.dvector(), pt.dscalar()
    f = jax_funcify(FunctionGraph([target, eta, sd], [intercept_for_average(target, eta, sd)], clone=True))
    value, grads = jax.value_and_grad(lambda *a: f(*a)[0], argnums=(0, 1, 2))(-5.0, ETA, 2.0)
    expected = solve(-5.0, sd=2.0)
    assert float(value) == pytest.approx(float(expected[0]), abs=1e-13)
    assert float(grads[0]) == pytest.approx(expected[1], rel=1e-12)
    np.testing.assert_allclose(np.asarray(grads[1]), expected[2], rtol=1e-12, atol=1e-15)
    assert float(grads[2]) == pytest.approx(expected[3], rel=1e-12)
