"""The quadrature that integrates dyad effects out: accuracy of the default rules against a dense rule at
sigma = 0.5-4, for the value and its derivative in log sigma (the NumPy reference implementation); the dense rule
centred on each dyad's conditional mode (the reference far from the posterior) against adaptive quadrature."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from references import node_posterior_numpy

from models.quadrature import (QuadratureOptions, QuadratureRule, conditional_mode, dense_log_marginal, dyad_layouts,
                               log_marginal_numpy, trapezoid_rule)


def rare_event_dyads(sigma: float, n_dyads: int = 400, years: int = 25, seed: int = 0):
    """Rows shaped like the real data: very negative linear predictors, a few events."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_dyads), years)
    eta = rng.normal(-7.0, 1.5, groups.size)
    b = rng.normal(0, sigma, n_dyads)[groups]
    y = rng.binomial(1, expit(eta + b)).astype(float)
    return groups, eta, y


def total(eta, y, groups, sigma, options=QuadratureOptions(), reference=False):
    """Summed log-likelihood with the default rules, or with a 1,601-point rule on the same ranges."""
    value = 0.0
    for layout in dyad_layouts(groups, y):
        rule = (trapezoid_rule(1601, options.half_width(layout.events)) if reference
                else options.rule(layout.events, sigma))
        value += log_marginal_numpy(layout.gather(eta), layout.gather(y), layout.mask, sigma, rule).sum()
    return value


def test_trapezoid_rule_integrates_the_normal():
    rule = trapezoid_rule(61, 8.0)
    assert np.exp(rule.log_weights).sum() == pytest.approx(1.0, abs=1e-12)
    assert (np.exp(rule.log_weights) * rule.nodes**2).sum() == pytest.approx(1.0, abs=1e-10)


def test_single_row_matches_closed_form_at_sigma_zero_limit():
    eta, y, mask = np.array([[-2.0]]), np.array([[1.0]]), np.array([[True]])
    assert log_marginal_numpy(eta, y, mask, 1e-8, trapezoid_rule(61, 8.0))[0] == pytest.approx(np.log(expit(-2.0)))


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0, 3.0, 4.0])
def test_default_rule_accuracy_against_dense_reference(sigma):
    """The node count grows with sigma (spacing at most 0.35 in b), so the error stays at the 1e-11 level for the
    value and 1e-8 for its derivative in log sigma (what NUTS feels) across the whole range; a fixed rule of 61
    nodes misses by 6e-3 and 2.9 at sigma = 3 (design note)."""
    groups, eta, y = rare_event_dyads(sigma)
    assert y.sum() > 5
    err = abs(total(eta, y, groups, sigma) - total(eta, y, groups, sigma, reference=True))
    h = 1e-4
    grad = (total(eta, y, groups, sigma * np.exp(h)) - total(eta, y, groups, sigma * np.exp(-h))) / (2 * h)
    grad_ref = (total(eta, y, groups, sigma * np.exp(h), reference=True)
                - total(eta, y, groups, sigma * np.exp(-h), reference=True)) / (2 * h)
    assert err < 1e-9
    assert abs(grad - grad_ref) < 1e-6


def test_node_count_follows_sigma():
    options = QuadratureOptions()
    assert options.n_nodes(False, 0.1) == options.n_nodes(False, 0.5) == 28  # spacing 0.6 in u
    assert options.n_nodes(False, 2.0) == 93 and options.n_nodes(True, 2.0) == 116  # spacing 0.35 in b
    assert options.n_nodes(False, 1e6) == options.max_nodes
    assert options.n_nodes(False, np.inf) == options.n_nodes(True, np.nan) == options.max_nodes  # no exception


def test_nine_node_gauss_hermite_would_fail_at_sigma_two():
    """Why the rule is not a fixed 9-node Gauss-Hermite: at sigma = 2 it misses by far more than ours."""
    groups, eta, y = rare_event_dyads(2.0)
    nodes, weights = np.polynomial.hermite_e.hermegauss(9)
    gh = QuadratureRule(nodes, np.log(weights / np.sqrt(2 * np.pi)))
    ref = total(eta, y, groups, 2.0, reference=True)
    gh_total = sum(log_marginal_numpy(l.gather(eta), l.gather(y), l.mask, 2.0, gh).sum()
                   for l in dyad_layouts(groups, y))
    assert abs(gh_total - ref) > 100 * abs(total(eta, y, groups, 2.0) - ref)


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


def test_centred_dense_rule_matches_adaptive_quadrature():
    """Dyads whose conditional posterior lies far outside [-10, 10] in u (an intercept of +25 without events, -30
    with many events; 30 rows each) or is narrow (sigma = 6): the centred dense rule agrees with scipy's adaptive
    quadrature."""
    from scipy.integrate import quad
    from scipy.special import expit

    rng = np.random.default_rng(0)
    eta = np.array([25.0, -30.0, -1.0])[:, None] + rng.normal(0, 1, (3, 30))
    y = np.zeros((3, 30))
    y[1, ::2] = 1.0
    y[2, :2] = 1.0
    mask = np.ones((3, 30), bool)
    mask[2, 5:] = False
    for sigma in (0.7, 6.0):
        mode = conditional_mode(eta, y, mask, sigma)
        score = -mode + sigma * np.sum(np.where(mask, y - expit(eta + sigma * mode[:, None]), 0.0), axis=1)
        np.testing.assert_allclose(score, 0.0, atol=1e-9)
        dense = dense_log_marginal(eta, y, mask, sigma)
        for d in range(3):
            e, o = eta[d][mask[d]], y[d][mask[d]]

            def log_joint(u):
                x = e + sigma * u
                return np.sum(o * x - np.logaddexp(0.0, x)) - 0.5 * u * u

            peak = log_joint(mode[d])
            value, _ = quad(lambda u: np.exp(log_joint(u) - peak), mode[d] - 12, mode[d] + 12, points=[mode[d]],
                            epsabs=0, epsrel=1e-13, limit=200)
            assert abs(mode[d]) > 10 or d == 2 or sigma > 1  # at sigma = 6, b = sigma u reaches the rows sooner
            assert dense[d] == pytest.approx(peak + np.log(value / np.sqrt(2 * np.pi)), rel=1e-12, abs=1e-12)
