"""The quadrature that integrates dyad effects out: accuracy against a dense rule at sigma = 1-3, for the value
and its derivative in log sigma, and the PyTensor expression against the NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from models.quadrature import (QuadratureOptions, dyad_layouts, log_marginal_numpy, log_marginal_pytensor,
                               node_posterior_numpy, reference_log_marginal, trapezoid_rule)


def rare_event_dyads(sigma: float, n_dyads: int = 400, years: int = 25, seed: int = 0):
    """Rows shaped like the real data: very negative linear predictors, a few events."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_dyads), years)
    eta = rng.normal(-7.0, 1.5, groups.size)
    b = rng.normal(0, sigma, n_dyads)[groups]
    y = rng.binomial(1, expit(eta + b)).astype(float)
    return groups, eta, y


def total(eta, y, groups, sigma, options=QuadratureOptions(), reference=False):
    value = 0.0
    for layout in dyad_layouts(groups, y):
        args = (layout.gather(eta), layout.gather(y), layout.mask, sigma)
        value += (reference_log_marginal(*args) if reference
                  else log_marginal_numpy(*args, options.rule(layout.events))).sum()
    return value


def test_trapezoid_rule_integrates_the_normal():
    rule = trapezoid_rule(61, 8.0)
    assert np.exp(rule.log_weights).sum() == pytest.approx(1.0, abs=1e-12)
    assert (np.exp(rule.log_weights) * rule.nodes**2).sum() == pytest.approx(1.0, abs=1e-10)


def test_single_row_matches_closed_form_at_sigma_zero_limit():
    eta, y, mask = np.array([[-2.0]]), np.array([[1.0]]), np.array([[True]])
    assert log_marginal_numpy(eta, y, mask, 1e-8, trapezoid_rule(61, 8.0))[0] == pytest.approx(np.log(expit(-2.0)))


@pytest.mark.parametrize("sigma, value_tol, grad_tol", [(1.0, 1e-8, 1e-7), (2.0, 1e-8, 1e-7), (3.0, 1e-5, 1e-3)])
def test_default_rule_accuracy_against_dense_reference(sigma, value_tol, grad_tol):
    """Measured errors of the default rule (61 nodes without events, 201 with) for the summed log-likelihood and
    its derivative in log sigma, which is what NUTS feels."""
    groups, eta, y = rare_event_dyads(sigma)
    assert y.sum() > 5
    err = abs(total(eta, y, groups, sigma) - total(eta, y, groups, sigma, reference=True))
    h = 1e-4
    grad = (total(eta, y, groups, sigma * np.exp(h)) - total(eta, y, groups, sigma * np.exp(-h))) / (2 * h)
    grad_ref = (total(eta, y, groups, sigma * np.exp(h), reference=True)
                - total(eta, y, groups, sigma * np.exp(-h), reference=True)) / (2 * h)
    assert err < value_tol
    assert abs(grad - grad_ref) < grad_tol


def test_nine_node_gauss_hermite_would_fail_at_sigma_two():
    """Why the rule is not a fixed 9-node Gauss-Hermite: at sigma = 2 it misses by far more than ours."""
    groups, eta, y = rare_event_dyads(2.0)
    nodes, weights = np.polynomial.hermite_e.hermegauss(9)
    from models.quadrature import QuadratureRule
    gh = QuadratureRule(nodes, np.log(weights / np.sqrt(2 * np.pi)))
    ref = total(eta, y, groups, 2.0, reference=True)
    gh_total = sum(log_marginal_numpy(l.gather(eta), l.gather(y), l.mask, 2.0, gh).sum()
                   for l in dyad_layouts(groups, y))
    assert abs(gh_total - ref) > 100 * abs(total(eta, y, groups, 2.0) - ref)


def test_pytensor_expression_equals_numpy():
    import pytensor
    import pytensor.tensor as pt

    groups, eta, y = rare_event_dyads(1.5, n_dyads=30, years=8)
    layout = dyad_layouts(groups, y)[0]
    assert not layout.events
    rule = trapezoid_rule(41, 8.0)
    eta_in, sigma_in = pt.matrix("eta"), pt.scalar("sigma")
    f = pytensor.function([eta_in, sigma_in],
                          log_marginal_pytensor(eta_in, layout.gather(y), layout.mask, sigma_in, rule))
    np.testing.assert_allclose(f(layout.gather(eta), 1.5),
                               log_marginal_numpy(layout.gather(eta), layout.gather(y), layout.mask, 1.5, rule),
                               rtol=1e-12)


def test_layouts_partition_rows_and_node_posteriors_normalise():
    groups, eta, y = rare_event_dyads(2.0, n_dyads=50, years=6)
    groups = np.concatenate([groups, np.repeat(np.arange(50, 60), 30)])  # some long dyads, another length bin
    eta, y = np.concatenate([eta, np.full(300, -9.0)]), np.concatenate([y, np.zeros(300)])
    layouts = dyad_layouts(groups, y)
    assert len(layouts) == 3 and [l.events for l in layouts] == [False, False, True]
    rows = np.concatenate([l.rows[l.mask] for l in layouts])
    assert np.array_equal(np.sort(rows), np.arange(groups.size))
    events = np.bincount(groups, weights=y)
    *none, some = layouts
    assert (events[some.dyads] > 0).all() and all((events[l.dyads] == 0).all() for l in none)
    assert layouts[0].rows.shape[1] == 6 and layouts[1].rows.shape[1] == 30
    post = node_posterior_numpy(some.gather(eta), some.gather(y), some.mask, 2.0, trapezoid_rule(201, 10.0))
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
