"""The fast kernel of the marginal dyad log-likelihood: against the plain NumPy quadrature with the same rules (and
the dense reference where the kernel's range rule gave a dyad its own rule), its gradient against finite
differences, the series truncation bound, its two paths agreeing, sigma at zero and very large, and the PyTensor Op
in the Python (perform), numba and JAX backends. Points far from the posterior and invalid parameters:
test_kernel_far.py."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, log_expit

from models.marginal_op import DyadRows, marginal_dyad_loglik
from models.quadrature import QuadratureOptions, dense_dyad_loglik, dyad_layouts, log_marginal_numpy
from references import node_posterior_numpy


def rare_event_panel(sigma: float, n_dyads: int = 300, seed: int = 0):
    """Dyads of 1-40 rows with very negative linear predictors, a few rows near the decision boundary and a few
    events: (groups, X with an intercept column, coef, y)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 41, n_dyads)
    groups = np.repeat(np.arange(n_dyads), lengths)
    X = np.column_stack([np.ones(groups.size), rng.normal(0, 1, (groups.size, 2))])
    coef = np.array([-7.5, 0.8, -0.5])
    eta = X @ coef
    eta[rng.choice(groups.size, 15, replace=False)] += 5.0  # rows that reach the boundary at high nodes
    X[:, 0] = (eta - X[:, 1:] @ coef[1:]) / coef[0]  # keep eta = X @ coef with the shifted rows
    b = rng.normal(0, sigma, n_dyads)[groups]
    y = rng.binomial(1, expit(eta + b)).astype(float)
    return groups, X, coef, y


def reference(groups, X, coef, y, sigma, options=QuadratureOptions()):
    """Per-dyad log L_d and E[b | data] from the dense NumPy implementation with the kernel's rules."""
    eta = X @ coef
    loglik = np.empty(groups.max() + 1)
    mean_b = np.empty_like(loglik)
    for layout in dyad_layouts(groups, y):
        rule = options.rule(layout.events, sigma)
        args = (layout.gather(eta), layout.gather(y), layout.mask, sigma, rule)
        loglik[layout.dyads] = log_marginal_numpy(*args)
        mean_b[layout.dyads] = node_posterior_numpy(*args) @ (sigma * rule.nodes)
    return loglik, mean_b




def kernel(groups, X, coef, y, sigma, options=QuadratureOptions(), want_grad=True):
    rows = DyadRows.from_groups(groups, y, options)
    return rows.evaluate(rows.sort(X), coef, sigma, want_grad=want_grad)


@pytest.mark.parametrize("sigma", [0.05, 0.5, 1.5, 3.0])
def test_kernel_matches_the_numpy_quadrature(sigma):
    groups, X, coef, y = rare_event_panel(sigma)
    assert 3 <= y.sum() <= 150
    result = kernel(groups, X, coef, y, sigma)
    loglik, mean_b = reference(groups, X, coef, y, sigma)
    shared = ~result.own_rule  # at sigma = 3 a dyad with 12 events in 37 rows is narrower than the shared spacing
    assert shared.sum() >= len(shared) - 2
    np.testing.assert_allclose(result.dyad_loglik[shared], loglik[shared], rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.dyad_b[shared, 0], mean_b[shared], rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.dyad_loglik[~shared], dense_dyad_loglik(groups, X, coef, y, sigma)[~shared], rtol=0,
                               atol=1e-11)
    assert result.total == pytest.approx(loglik.sum(), abs=1e-9)
    if sigma >= 1.5:
        assert result.exact_pairs > 0  # the boundary rows were evaluated exactly


@pytest.mark.parametrize("sigma", [0.3, 2.0])
def test_gradient_matches_finite_differences(sigma):
    groups, X, coef, y = rare_event_panel(sigma, seed=1)
    result = kernel(groups, X, coef, y, sigma)
    h = 1e-6
    for j in range(coef.size):
        step = np.eye(coef.size)[j] * h
        fd = (kernel(groups, X, coef + step, y, sigma).total - kernel(groups, X, coef - step, y, sigma).total) / (2 * h)
        assert result.grad_coef[j] == pytest.approx(fd, rel=1e-6, abs=1e-6)
    fd = (kernel(groups, X, coef, y, sigma + h).total - kernel(groups, X, coef, y, sigma - h).total) / (2 * h)
    assert result.grad_sigma == pytest.approx(fd, rel=1e-6, abs=1e-6)


def test_sigma_zero_is_the_plain_logit():
    groups, X, coef, y = rare_event_panel(1.0, seed=2)
    eta = X @ coef
    result = kernel(groups, X, coef, y, 0.0)
    assert result.total == pytest.approx(np.sum(y * log_expit(eta) + (1 - y) * log_expit(-eta)), abs=1e-10)
    np.testing.assert_allclose(result.grad_coef, X.T @ (y - expit(eta)), atol=1e-10)
    assert result.grad_sigma == pytest.approx(0.0, abs=1e-10)


def test_series_and_exact_evaluation_agree():
    """Moving the series threshold far down sends every pair to exact evaluation (the general path); the fast run
    evaluates most pairs by the series (its exact pairs are the band's, near the decision boundary)."""
    groups, X, coef, y = rare_event_panel(1.0, seed=3)
    fast = kernel(groups, X, coef, y, 1.0)
    exact = kernel(groups, X, coef, y, 1.0, QuadratureOptions(series_log_rho=-60.0))
    assert exact.exact_pairs > 4 * fast.exact_pairs
    assert fast.total == pytest.approx(exact.total, abs=1e-10)
    np.testing.assert_allclose(fast.grad_coef, exact.grad_coef, atol=1e-9)
    assert fast.grad_sigma == pytest.approx(exact.grad_sigma, abs=1e-9)


@pytest.mark.parametrize("sigma, shift", [(2.3, 0.0), (5.0, 0.0), (10.0, 0.0), (2.3, 5.0), (1.0, 8.0)])
def test_band_path_matches_the_general_path_and_the_dense_rule(sigma, shift):
    """Dyads without events whose top nodes reach the decision boundary (the band path: series below, exact pairs
    above, stopped once the concave log weight has fallen by `skip`) give the general path's values and gradients
    and the dense reference's log-likelihoods, also with every linear predictor raised by `shift`."""
    groups, X, coef, y = rare_event_panel(sigma, seed=6)
    coef = coef + np.array([shift, 0.0, 0.0])
    fast = kernel(groups, X, coef, y, sigma)
    general = kernel(groups, X, coef, y, sigma, QuadratureOptions(series_log_rho=-60.0))
    zero = np.bincount(groups, weights=y) == 0
    assert fast.exact_pairs > 0 and zero.sum() > 150
    np.testing.assert_allclose(fast.dyad_loglik, general.dyad_loglik, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(fast.grad_coef, general.grad_coef, rtol=1e-9, atol=1e-9)
    assert fast.grad_sigma == pytest.approx(general.grad_sigma, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(fast.dyad_loglik, dense_dyad_loglik(groups, X, coef, y, sigma), rtol=1e-9, atol=1e-9)


def test_series_truncation_error_is_within_its_bound():
    """With m terms and w <= rho, each (row, node) pair errs by at most rho^(m+1) / (m+1), so the total errs by at
    most rows x that (each dyad's log-likelihood is a weighted average over nodes)."""
    groups, X, coef, y = rare_event_panel(1.0, seed=4)
    exact = kernel(groups, X, coef, y, 1.0, QuadratureOptions(series_log_rho=-60.0)).total
    for terms in (2, 3, 5):
        options = QuadratureOptions(series_terms=terms, series_tol=1e-300)
        error = abs(kernel(groups, X, coef, y, 1.0, options).total - exact)
        bound = groups.size * np.exp(-2.0 * (terms + 1)) / (terms + 1)
        assert 0 < error <= bound, terms


def test_very_large_sigma_stays_finite_and_exact():
    groups, X, coef, y = rare_event_panel(1.0, seed=5)
    result = kernel(groups, X, coef, y, 25.0)
    loglik, _ = reference(groups, X, coef, y, 25.0)
    assert np.isfinite(result.total) and np.isfinite(result.grad_coef).all() and np.isfinite(result.grad_sigma)
    np.testing.assert_allclose(result.dyad_loglik, loglik, rtol=0, atol=1e-9)


def test_level_effects_equal_dummy_columns():
    """Effects shared across dyads (years) enter eta like dummy columns, and their gradient is the dummies'."""
    groups, X, coef, y = rare_event_panel(0.7, seed=7)
    level = np.random.default_rng(7).integers(0, 5, groups.size)
    effect = np.array([0.3, -0.2, 0.0, 0.5, -0.4])
    rows = DyadRows.from_groups(groups, y, level=level)
    result = rows.evaluate(rows.sort(X), coef, 0.7, effect)
    dummies = np.column_stack([X, np.eye(5)[level]])
    as_columns = kernel(groups, dummies, np.concatenate([coef, effect]), y, 0.7)
    assert result.total == pytest.approx(as_columns.total, abs=1e-10)
    np.testing.assert_allclose(result.grad_level, as_columns.grad_coef[3:], atol=1e-10)
    np.testing.assert_allclose(result.grad_coef, as_columns.grad_coef[:3], atol=1e-10)


def test_layout_rejects_gaps_in_dyad_codes():
    with pytest.raises(ValueError, match="dyad codes must run from 0 without gaps"):
        DyadRows.from_groups(np.array([0, 0, 2]), np.zeros(3))


@pytest.fixture(scope="module")
def op_graph():
    import pytensor.tensor as pt

    groups, X, coef, y = rare_event_panel(0.8, n_dyads=80, seed=6)
    rows = DyadRows.from_groups(groups, y)
    coef_in, sigma_in = pt.dvector("coef"), pt.dscalar("sigma")
    total = marginal_dyad_loglik(coef_in, sigma_in, rows.sort(X), rows)
    expected = rows.evaluate(rows.sort(X), coef, 0.8)
    return coef_in, sigma_in, total, coef, expected


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "NUMBA", "JAX"])  # FAST_COMPILE runs the Op's perform
def test_op_value_and_gradient_in_every_backend(op_graph, mode):
    import pytensor

    coef_in, sigma_in, total, coef, expected = op_graph
    grads = pytensor.grad(total, [coef_in, sigma_in])
    f = pytensor.function([coef_in, sigma_in], [total, *grads], mode=mode)
    value, grad_coef, grad_sigma = f(coef, 0.8)
    assert float(value) == pytest.approx(expected.total, abs=1e-10)
    np.testing.assert_allclose(grad_coef, expected.grad_coef, atol=1e-10)
    assert float(grad_sigma) == pytest.approx(expected.grad_sigma, abs=1e-10)


def test_jax_gradient_goes_through_the_custom_vjp(op_graph):
    """numpyro differentiates the JAX version of the log-density itself: the host callback needs its VJP."""
    import jax
    from pytensor.graph.fg import FunctionGraph
    from pytensor.link.jax.dispatch import jax_funcify

    jax.config.update("jax_enable_x64", True)
    coef_in, sigma_in, total, coef, expected = op_graph
    f = jax_funcify(FunctionGraph([coef_in, sigma_in], [total], clone=True))
    value, (grad_coef, grad_sigma) = jax.value_and_grad(lambda c, s: f(c, s)[0], argnums=(0, 1))(coef, 0.8)
    assert float(value) == pytest.approx(expected.total, abs=1e-10)
    np.testing.assert_allclose(np.asarray(grad_coef), expected.grad_coef, atol=1e-10)
    assert float(grad_sigma) == pytest.approx(expected.grad_sigma, abs=1e-10)


def test_row_probabilities_average_over_the_dyad_posterior():
    """Each row's Pr(y = 1) given its dyad's data: sum_k p_k expit(eta_t + b_k) with the node posterior p_k."""
    groups, X, coef, y = rare_event_panel(1.2, n_dyads=60, seed=8)
    rows = DyadRows.from_groups(groups, y)
    result = rows.evaluate(rows.sort(X), coef, 1.2, row_prob=True)
    eta, options = X @ coef, QuadratureOptions()
    expected = np.empty(groups.size)
    for layout in dyad_layouts(groups, y):
        rule = options.rule(layout.events, 1.2)
        post = node_posterior_numpy(layout.gather(eta), layout.gather(y), layout.mask, 1.2, rule)
        prob = np.einsum("dk,dtk->dt", post, expit(layout.gather(eta)[:, :, None] + 1.2 * rule.nodes))
        expected[layout.rows[layout.mask]] = prob[layout.mask]
    np.testing.assert_allclose(result.row_prob, expected[rows.order], rtol=1e-8, atol=1e-15)
