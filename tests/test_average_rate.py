"""The intercept of the average row (models.average_rate): against scipy's adaptive quadrature, with its gradient,
over event rates from 2e-9 to 0.9999 and spreads from none to sd 20 (exact to 1e-8 up to sd 5, to 1e-4 up to sd 10,
finite beyond)."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from models.average_rate import intercept_for_average, row_moments
from references import average_log_odds


@pytest.fixture(scope="module")
def solve():
    target, mean, variance = pt.dscalar(), pt.dscalar(), pt.dscalar()
    b = intercept_for_average(target, mean, variance)
    return pytensor.function([target, mean, variance], [b, *pytensor.grad(b, [target, mean, variance])])


@pytest.mark.parametrize("target", [-20.0, -11.0, -8.5, -3.5, 0.0, 1.7, 9.0])
@pytest.mark.parametrize("variance", [0.0, 0.01, 1.0, 9.0, 25.0, 64.0, 100.0, 400.0])
def test_the_intercept_gives_the_stated_average(solve, target, variance):
    b, d_target, d_mean, d_variance = solve(target, 0.3, variance)
    assert np.isfinite([b, d_target, d_mean, d_variance]).all()
    if variance > 100:
        return  # the prior's far tails: a finite, smooth map, no longer the exact average
    tolerance = 1e-8 if variance <= 25 else 1e-4
    assert average_log_odds(float(b), 0.3, variance) == pytest.approx(target, abs=tolerance)
    assert d_mean == pytest.approx(-1.0, abs=1e-9)  # the mean only shifts the intercept
    step = 1e-5  # the gradient NUTS gets, against central differences of the solution
    fd_target = (solve(target + step, 0.3, variance)[0] - solve(target - step, 0.3, variance)[0]) / (2 * step)
    assert d_target == pytest.approx(fd_target, rel=1e-5)
    if variance > 0:
        fd_var = (solve(target, 0.3, variance + step)[0] - solve(target, 0.3, variance - step)[0]) / (2 * step)
        assert d_variance == pytest.approx(fd_var, rel=1e-4, abs=1e-7)


def test_vector_targets_give_ordered_solutions(solve):
    target = pt.dvector()
    f = pytensor.function([target], intercept_for_average(target, pt.constant(0.0), pt.constant(4.0)))
    cut = f(np.array([-2.0, 0.5, 3.0]))
    assert np.all(np.diff(cut) > 0)
    np.testing.assert_allclose(cut, [solve(t, 0.0, 4.0)[0] for t in (-2.0, 0.5, 3.0)], rtol=1e-12)


def test_row_moments_equal_the_rows_mean_and_variance():
    rng = np.random.default_rng(4)
    Z, years = rng.normal(size=(500, 3)), rng.integers(0, 6, 500)
    beta, year_effect = rng.normal(size=3), rng.normal(size=6)
    eta = Z @ beta + year_effect[years]
    mean, variance = row_moments(Z, pt.as_tensor(beta), years, pt.as_tensor(year_effect))
    assert float(mean.eval()) == pytest.approx(eta.mean(), rel=1e-12)
    assert float(variance.eval()) == pytest.approx(eta.var(), rel=1e-12)
    mean, variance = row_moments(Z, pt.as_tensor(beta))
    assert float(variance.eval()) == pytest.approx((Z @ beta).var(), rel=1e-12)
    _, variance = row_moments(Z, pt.as_tensor(beta), group_sd=pt.as_tensor(1.5))  # group effects add sd^2
    assert float(variance.eval()) == pytest.approx((Z @ beta).var() + 2.25, rel=1e-12)


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "NUMBA", "JAX"])  # FAST_COMPILE runs the Op's perform
def test_every_backend_gives_the_same_intercepts_and_gradients(solve, mode):
    """nutpie compiles the model with numba, numpyro with JAX: both call the same solve as the Python path."""
    target, mean, variance = pt.dvector(), pt.dscalar(), pt.dscalar()
    b = intercept_for_average(target, mean, variance)
    weights = np.array([1.0, -0.5])
    f = pytensor.function([target, mean, variance],
                          [b, *pytensor.grad(pt.dot(b, weights), [target, mean, variance])], mode=mode)
    b_value, d_target, d_mean, d_variance = f(np.array([-8.0, 0.4]), 0.3, 4.0)
    expected = [solve(t, 0.3, 4.0) for t in (-8.0, 0.4)]
    np.testing.assert_allclose(b_value, [e[0] for e in expected], rtol=0, atol=1e-13)
    np.testing.assert_allclose(d_target, weights * [e[1] for e in expected], rtol=1e-12)
    assert float(d_mean) == pytest.approx(-weights.sum(), abs=1e-12)
    assert float(d_variance) == pytest.approx(weights @ [e[3] for e in expected], rel=1e-12)


def test_jax_gradient_goes_through_the_custom_vjp(solve):
    """numpyro differentiates the JAX version of the log-density itself: the host callback needs its VJP."""
    import jax
    from pytensor.graph.fg import FunctionGraph
    from pytensor.link.jax.dispatch import jax_funcify

    jax.config.update("jax_enable_x64", True)
    target, mean, variance = pt.dscalar(), pt.dscalar(), pt.dscalar()
    f = jax_funcify(FunctionGraph([target, mean, variance], [intercept_for_average(target, mean, variance)],
                                  clone=True))
    value, grads = jax.value_and_grad(lambda *a: f(*a)[0], argnums=(0, 1, 2))(-5.0, 0.3, 2.0)
    expected = solve(-5.0, 0.3, 2.0)
    assert float(value) == pytest.approx(float(expected[0]), abs=1e-13)
    np.testing.assert_allclose([float(g) for g in grads], [float(e) for e in expected[1:]], rtol=1e-12)
