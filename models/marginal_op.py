"""The marginal dyad log-likelihood as one PyTensor Op, so that PyMC, nutpie (numba) and numpyro (JAX) all sample
the model with the fast kernel of `marginal_kernel` and its hand-derived gradient.

The Op returns the summed log-likelihood together with its gradients in eta and sigma; its `grad` reuses those
outputs, so one evaluation of the kernel serves both the log-density and its gradient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from .marginal_kernel import marginal_loglik
from .quadrature import QuadratureOptions


@dataclass(frozen=True)
class DyadRows:
    """Sample rows grouped by dyad (sorted, with offsets) and each dyad's quadrature rule: the kernel's layout."""

    order: np.ndarray  # sample row index of each sorted row
    offsets: np.ndarray  # (n_dyads + 1,) start of each dyad's rows
    y: np.ndarray  # outcome, sorted
    rule_of_dyad: np.ndarray  # 0: rule for dyads without events, 1: with events
    options: QuadratureOptions

    @classmethod
    def from_groups(cls, groups: np.ndarray, y: np.ndarray, options: QuadratureOptions = QuadratureOptions()
                    ) -> "DyadRows":
        n_groups = int(groups.max()) + 1
        counts = np.bincount(groups, minlength=n_groups)
        if (counts == 0).any():
            raise ValueError("dyad codes must run from 0 without gaps")
        events = np.bincount(groups, weights=(y > 0).astype(float), minlength=n_groups) > 0
        order = np.argsort(groups, kind="stable")
        return cls(order=order, offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                   y=np.ascontiguousarray(y[order], dtype=float), rule_of_dyad=events.astype(np.int64),
                   options=options)

    @property
    def n_dyads(self) -> int:
        return self.offsets.size - 1

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The constant kernel inputs after the design and the coefficients."""
        o = self.options
        return (self.y, self.offsets, self.rule_of_dyad, np.array([o.half_width_no_event, o.half_width_event]))

    def sort(self, X: np.ndarray) -> np.ndarray:
        """A design (rows in sample order) in this layout's order, C-contiguous float64."""
        return np.ascontiguousarray(np.asarray(X, dtype=float)[self.order])

    def evaluate(self, X_sorted: np.ndarray, coef: np.ndarray, sigma: float, want_grad: bool = True
                 ) -> "KernelResult":
        """One kernel call for the linear predictor X_sorted @ coef (rows in this layout's order)."""
        dyad_loglik = np.empty(self.n_dyads)
        grad_coef = np.empty(len(coef))
        dyad_b = np.empty((self.n_dyads, 2))
        total, grad_sigma, pairs = marginal_loglik(
            X_sorted, np.asarray(coef, dtype=float), *self.arrays(), float(sigma), *kernel_settings(self.options),
            want_grad, dyad_loglik, grad_coef, dyad_b)
        return KernelResult(total, grad_coef, grad_sigma, dyad_loglik, dyad_b, pairs)


def kernel_settings(o: QuadratureOptions) -> tuple:
    """The kernel's scalar settings after sigma, in its argument order."""
    return (o.max_spacing_u, o.max_spacing_b, o.max_nodes, o.series_log_rho, o.series_terms, math.log(o.series_tol),
            o.skip_below)


@dataclass(frozen=True)
class KernelResult:
    """Summed log-likelihood, its gradients, per-dyad log-likelihoods, E[b] and E[b^2] per dyad, exact pairs."""

    total: float
    grad_coef: np.ndarray
    grad_sigma: float
    dyad_loglik: np.ndarray
    dyad_b: np.ndarray
    exact_pairs: int


class MarginalDyadLogLik(Op):
    """(coef, sigma, design X sorted by dyad, layout constants) -> (sum_d log L_d, d/d coef, d/d sigma), with
    the linear predictor eta = X @ coef."""

    __props__ = ("settings",)

    def __init__(self, settings: tuple):
        self.settings = tuple(settings)

    def make_node(self, coef, sigma, X, *constants):
        coef = pt.as_tensor_variable(coef).astype("float64")
        sigma = pt.as_tensor_variable(sigma).astype("float64")
        constants = [pt.as_tensor_variable(c) for c in (X, *constants)]
        return Apply(self, [coef, sigma, *constants], [pt.dscalar(), pt.dvector(), pt.dscalar()])

    def perform(self, node, inputs, outputs):
        coef, sigma, X, y, offsets, rule_of, half_width = inputs
        n_dyads = offsets.size - 1
        grad_coef = np.empty(coef.size)
        total, grad_sigma, _ = marginal_loglik(X, coef, y, offsets, rule_of, half_width, float(sigma), *self.settings,
                                               True, np.empty(n_dyads), grad_coef, np.empty((n_dyads, 2)))
        outputs[0][0] = np.asarray(total)
        outputs[1][0] = grad_coef
        outputs[2][0] = np.asarray(grad_sigma)

    def pullback(self, inputs, outputs, cotangents):
        for g in cotangents[1:]:
            if not isinstance(g.type, DisconnectedType):
                raise NotImplementedError("second derivatives of the marginal dyad log-likelihood are not available")
        _total, grad_coef, grad_sigma = outputs
        g = cotangents[0]
        return [g * grad_coef, g * grad_sigma] + [DisconnectedType()() for _ in inputs[2:]]

    def connection_pattern(self, node):
        return [[True, True, True], [True, True, True]] + [[False, False, False]] * (len(node.inputs) - 2)


def marginal_dyad_loglik(coef, sigma, X_sorted: np.ndarray, rows: DyadRows):
    """Summed marginal log-likelihood of all dyads as a PyTensor scalar, for eta = X_sorted @ coef (the design's
    rows in the layout's order)."""
    op = MarginalDyadLogLik(kernel_settings(rows.options))
    return op(coef, sigma, pt.constant(np.ascontiguousarray(X_sorted, dtype=float)),
              *[pt.constant(a) for a in rows.arrays()])[0]


def _register_backends() -> None:
    """numba (nutpie) and JAX (numpyro) implementations of the Op."""
    import numba
    from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

    @register_funcify_default_op_cache_key(MarginalDyadLogLik)
    def _numba_funcify(op, node=None, **kwargs):
        spacing_u, spacing_b, max_nodes, log_rho, max_terms, log_tol, skip = op.settings

        @numba.njit
        def marginal_dyad_loglik_numba(coef, sigma, X, y, offsets, rule_of, half_width):
            n_dyads = offsets.size - 1
            grad_coef = np.empty(coef.size)
            total, grad_sigma, _ = marginal_loglik(X, coef, y, offsets, rule_of, half_width, sigma.item(), spacing_u,
                                                   spacing_b, max_nodes, log_rho, max_terms, log_tol, skip, True,
                                                   np.empty(n_dyads), grad_coef, np.empty((n_dyads, 2)))
            return np.asarray(total), grad_coef, np.asarray(grad_sigma)

        return marginal_dyad_loglik_numba

    try:
        from pytensor.link.jax.dispatch import jax_funcify
    except ImportError:  # JAX is optional at run time
        return

    @jax_funcify.register(MarginalDyadLogLik)
    def _jax_funcify(op, node=None, **kwargs):
        """A host callback to the kernel with a custom VJP (the layout constants are baked in)."""
        import jax
        import jax.numpy as jnp

        constants = [np.asarray(c.data) for c in node.inputs[2:]]

        def host(coef, sigma):
            outputs = [[None], [None], [None]]
            op.perform(None, [np.asarray(coef, dtype=float), np.asarray(sigma, dtype=float), *constants], outputs)
            return tuple(o[0] for o in outputs)

        def call(coef, sigma):
            shapes = (jax.ShapeDtypeStruct((), jnp.float64), jax.ShapeDtypeStruct(coef.shape, jnp.float64),
                      jax.ShapeDtypeStruct((), jnp.float64))
            return jax.pure_callback(host, shapes, coef, sigma, vmap_method="sequential")

        @jax.custom_vjp
        def marginal(coef, sigma):
            return call(coef, sigma)

        def forward(coef, sigma):
            out = call(coef, sigma)
            return out, (out[1], out[2])

        def backward(residual, cotangents):
            return cotangents[0] * residual[0], cotangents[0] * residual[1]

        marginal.defvjp(forward, backward)

        def marginal_dyad_loglik_jax(coef, sigma, *_constants):
            return marginal(coef, sigma)

        return marginal_dyad_loglik_jax


_register_backends()
