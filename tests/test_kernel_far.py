"""The marginal-likelihood kernel far from the posterior, where NUTS warm-up can go: against a dense rule centred on
each dyad's conditional mode (values, and gradients against its finite differences) at large intercepts of either
sign, sigma from 0 to 6, dyads with many events and very negative linear predictors and dyads with long runs of rows;
and invalid parameters, which must give a total of -inf with finite gradients and never an exception, through
`DyadRows.evaluate` and through compiled PyTensor functions (numba, Python and JAX)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import log_expit

from models.marginal_op import DyadRows, marginal_dyad_loglik
from models.quadrature import dense_dyad_loglik


def far_panel(n_dyads: int = 40, seed: int = 0):
    """Dyads of 1-51 rows (the first three 51: long runs), two-thirds without events, some with one event, some with
    an event in about 40% of their rows (many events): (groups, X with an intercept column, y)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 52, n_dyads)
    lengths[:3] = 51
    groups = np.repeat(np.arange(n_dyads), lengths)
    X = np.column_stack([np.ones(groups.size), rng.normal(0, 1, (groups.size, 2))])
    kind = np.arange(n_dyads) % 6  # 0-3: no event, 4: one event, 5: many events
    y = np.zeros(groups.size)
    many = kind[groups] == 5
    y[many] = rng.random(many.sum()) < 0.4
    first_rows = np.cumsum(lengths) - lengths
    y[first_rows[kind == 4]] = 1.0
    return groups, X, y




@pytest.fixture(scope="module")
def panel():
    groups, X, y = far_panel()
    rows = DyadRows.from_groups(groups, y)
    assert (np.bincount(groups, y) >= 8).sum() >= 4  # dyads with many events
    return groups, X, y, rows, rows.sort(X)


@pytest.mark.parametrize("intercept", [-30.0, -15.0, 15.0, 30.0])
@pytest.mark.parametrize("sigma", [0.05, 0.4, 1.0, 2.3, 6.0])
def test_value_matches_the_dense_rule_far_from_the_posterior(panel, intercept, sigma):
    """A large intercept pushes the dyads without events (positive) or with many events (negative) far beyond the
    shared rules' range in u; the kernel gives them rules of their own and stays within 1e-9 (relative)."""
    groups, X, y, rows, X_sorted = panel
    coef = np.array([intercept, 0.5, -0.3])
    result = rows.evaluate(X_sorted, coef, sigma)
    expected = dense_dyad_loglik(groups, X, coef, y, sigma)
    np.testing.assert_allclose(result.dyad_loglik, expected, rtol=1e-9, atol=1e-10)
    assert result.total == pytest.approx(expected.sum(), rel=1e-10, abs=1e-9)
    if sigma >= 1.0:  # without their own rules these points miss by 1e-3 to 5 (relative) in some dyads
        assert result.own_rule.any()


@pytest.mark.parametrize("intercept", [-30.0, 30.0])
def test_sigma_zero_is_the_plain_logit_far_from_the_posterior(panel, intercept):
    groups, X, y, rows, X_sorted = panel
    coef = np.array([intercept, 0.5, -0.3])
    eta = X_sorted @ coef
    plain = rows.y * log_expit(eta) + (1 - rows.y) * log_expit(-eta)
    for sigma in (0.0, -0.0):
        result = rows.evaluate(X_sorted, coef, sigma)
        assert result.total == pytest.approx(plain.sum(), rel=1e-12)
        assert not result.own_rule.any()


def test_many_events_and_very_negative_eta():
    """Long dyads with 30-70% events and eta near -30: their conditional mode of u lies near sigma x events at small
    sigma (up to 14 at sigma = 0.4) and where b = sigma u reaches the rows (b near 30) at large sigma, beyond or at
    the edge of the shared rule (|u| <= 10) and narrower than its spacing; the kernel follows it there."""
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(12), 51)
    X = np.column_stack([np.ones(groups.size), rng.normal(0, 0.3, groups.size)])
    y = (rng.random(groups.size) < np.repeat(rng.uniform(0.3, 0.7, 12), 51)).astype(float)
    rows = DyadRows.from_groups(groups, y)
    for sigma in (0.4, 2.3, 6.0):
        result = rows.evaluate(rows.sort(X), np.array([-30.0, 0.5]), sigma)
        assert result.own_rule.all()
        if sigma > 1:
            assert (result.dyad_b[:, 0] > 25.0).all()  # E[b | data] follows the rows to the decision boundary
        np.testing.assert_allclose(result.dyad_loglik, dense_dyad_loglik(groups, X, np.array([-30.0, 0.5]), y, sigma),
                                   rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("intercept, sigma", [(15.0, 1.0), (-30.0, 2.3), (30.0, 0.05), (-15.0, 6.0)])
def test_gradient_matches_finite_differences_of_the_dense_rule(intercept, sigma):
    groups, X, y = far_panel(n_dyads=18, seed=1)
    level = np.arange(groups.size) % 2
    effect = np.array([0.4, -0.3])
    rows = DyadRows.from_groups(groups, y, level=level)
    coef = np.array([intercept, 0.5, -0.3])
    result = rows.evaluate(rows.sort(X), coef, sigma, effect)
    design = np.column_stack([X, np.eye(2)[level]])  # level effects enter eta like dummy columns
    theta = np.concatenate([coef, effect])

    def total(theta, sigma):
        return dense_dyad_loglik(groups, design, theta, y, sigma).sum()

    h = 1e-5
    fd = [(total(theta + h * e, sigma) - total(theta - h * e, sigma)) / (2 * h) for e in np.eye(theta.size)]
    np.testing.assert_allclose(np.concatenate([result.grad_coef, result.grad_level]), fd, rtol=1e-6, atol=1e-6)
    fd_sigma = (total(theta, sigma + h) - total(theta, sigma - h)) / (2 * h)
    assert result.grad_sigma == pytest.approx(fd_sigma, rel=1e-6, abs=1e-6)


INVALID = [  # (coef, sigma, level effect)
    ([-3.0, 0.5, -0.3], np.nan, 0.0),
    ([-3.0, 0.5, -0.3], np.inf, 0.0),
    ([-3.0, 0.5, -0.3], -np.inf, 0.0),
    ([-3.0, 0.5, -0.3], -1.0, 0.0),
    ([-3.0, 0.5, -0.3], 1e9, 0.0),  # above MAX_SIGMA
    ([np.nan, 0.5, -0.3], 1.0, 0.0),
    ([-3.0, np.inf, -0.3], 1.0, 0.0),
    ([-3.0, 0.5, -0.3], 1.0, np.nan),
    ([1e308, 1e308, 0.0], 1.0, 0.0),  # eta overflows
]


@pytest.mark.parametrize("coef, sigma, effect", INVALID)
def test_invalid_parameters_give_minus_infinity(panel, coef, sigma, effect):
    _groups, _X, _y, rows, X_sorted = panel
    result = rows.evaluate(X_sorted, np.array(coef), sigma, np.array([effect]), row_prob=True)
    assert result.total == -np.inf
    assert not result.grad_coef.any() and not result.grad_level.any() and result.grad_sigma == 0.0
    assert (result.dyad_loglik == -np.inf).all() and np.isnan(result.dyad_b).all() and np.isnan(result.row_prob).all()


def test_no_float_input_raises(panel):
    """Random extreme inputs (huge and tiny magnitudes, nan, inf, negative zero): a finite total or -inf, finite
    gradients, no exception."""
    _groups, _X, _y, rows, X_sorted = panel
    rng = np.random.default_rng(0)
    specials = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1.7e308, -1.7e308, 5e-324])

    def draw(largest):
        if rng.random() < 0.15:
            return rng.choice(specials)
        return rng.choice([-1.0, 1.0]) * 10.0 ** rng.uniform(-3.0, largest)

    finite = 0
    for i in range(150):
        coef = np.array([draw(3.0 if i % 3 else 300.0) for _ in range(3)])
        sigma = abs(draw(9.0)) if i % 4 else draw(1.0)
        result = rows.evaluate(X_sorted, coef, sigma, np.array([draw(2.0)]))
        assert result.total == -np.inf or np.isfinite(result.total)
        assert np.isfinite(result.grad_coef).all() and np.isfinite(result.grad_level).all()
        assert np.isfinite(result.grad_sigma)
        finite += np.isfinite(result.total)
    assert 20 < finite < 130


@pytest.fixture(scope="module")
def op_graph(panel):
    import pytensor.tensor as pt

    _groups, _X, _y, rows, X_sorted = panel
    coef_in, sigma_in = pt.dvector("coef"), pt.dscalar("sigma")
    total = marginal_dyad_loglik(coef_in, sigma_in, X_sorted, rows)
    return rows, X_sorted, coef_in, sigma_in, total


@pytest.mark.parametrize("mode", [None, "NUMBA", "FAST_COMPILE", "JAX"])
def test_compiled_op_far_and_invalid(op_graph, mode):
    """The default mode and NUMBA (the numba dispatch, as nutpie uses it), FAST_COMPILE (the Python `perform`) and
    JAX (the host callback, as numpyro uses it): a far point as `evaluate` gives it, and -inf with zero gradients at
    invalid points, no exception."""
    import pytensor

    rows, X_sorted, coef_in, sigma_in, total = op_graph
    f = pytensor.function([coef_in, sigma_in], [total, *pytensor.grad(total, [coef_in, sigma_in])], mode=mode)
    far = np.array([30.0, 0.5, -0.3])
    value, grad_coef, grad_sigma = f(far, 2.3)
    expected = rows.evaluate(X_sorted, far, 2.3)
    assert float(value) == pytest.approx(expected.total, abs=1e-10)
    np.testing.assert_allclose(grad_coef, expected.grad_coef, atol=1e-10)
    for coef, sigma in ((far, np.nan), (far, -1.0), (far, np.inf), (np.array([np.nan, 0.5, -0.3]), 1.0)):
        value, grad_coef, grad_sigma = f(coef, sigma)
        assert float(value) == -np.inf
        assert not np.asarray(grad_coef).any() and float(grad_sigma) == 0.0
