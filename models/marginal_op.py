"""The marginal dyad log-likelihood as one PyTensor Op, so that PyMC, nutpie (numba) and numpyro (JAX) all sample
the model with the fast kernel of `marginal_kernel` and its hand-derived gradient.

The Op returns the summed log-likelihood together with its gradients; its pullback reuses those outputs, so one
evaluation of the kernel serves both the log-density and its gradient.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from .marginal_kernel import KernelLayout, KernelOutputs, KernelSettings, marginal_loglik
from .quadrature import QuadratureOptions


@dataclass(frozen=True)
class KernelResult:
    """Summed log-likelihood, its gradients, per-dyad log-likelihoods, E[b] and E[b^2] per dyad, exact pairs, and
    which dyads needed a quadrature rule of their own (their conditional posterior lay beyond or between the shared
    rule's nodes: none at the posterior of the real data). At an invalid point (sigma nan, negative or above
    `MAX_SIGMA`, non-finite coefficients or level effects, an overflowing linear predictor): total -inf, zero
    gradients, nan per-dyad summaries."""

    total: float
    grad_coef: np.ndarray
    grad_sigma: float
    grad_level: np.ndarray
    dyad_loglik: np.ndarray
    dyad_b: np.ndarray
    exact_pairs: int
    row_prob: np.ndarray  # each row's Pr(y = 1) given its dyad's data, in the layout's order (empty unless asked)
    own_rule: np.ndarray  # whether each dyad was evaluated on a rule of its own (the kernel's range rule)


@dataclass(frozen=True)
class DyadRows:
    """The kernel's layout: sample rows grouped by dyad (sorted, with offsets), each row's level (e.g. its year,
    for effects shared across dyads; all 0 without them) and each dyad's quadrature rule."""

    order: np.ndarray  # sample row index of each sorted row
    offsets: np.ndarray  # (n_dyads + 1,) start of each dyad's rows
    y: np.ndarray  # outcome, sorted
    level: np.ndarray  # level code of each sorted row
    n_levels: int
    rule_of_dyad: np.ndarray  # 0: rule for dyads without events, 1: with events
    options: QuadratureOptions

    @classmethod
    def from_groups(cls, groups: np.ndarray, y: np.ndarray, options: QuadratureOptions = QuadratureOptions(),
                    level: np.ndarray | None = None) -> "DyadRows":
        n_groups = int(groups.max()) + 1
        counts = np.bincount(groups, minlength=n_groups)
        if (counts == 0).any():
            raise ValueError("dyad codes must run from 0 without gaps")
        events = np.bincount(groups, weights=(y > 0).astype(float), minlength=n_groups) > 0
        order = np.argsort(groups, kind="stable")
        level = np.zeros(len(y), np.int64) if level is None else np.asarray(level, np.int64)
        return cls(order=order, offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                   y=np.ascontiguousarray(y[order], dtype=float), level=np.ascontiguousarray(level[order]),
                   n_levels=int(level.max()) + 1, rule_of_dyad=events.astype(np.int64), options=options)

    @property
    def n_dyads(self) -> int:
        return self.offsets.size - 1

    def layout(self) -> KernelLayout:
        """The kernel's layout inputs (level codes, outcome, offsets, rules, half-widths)."""
        o = self.options
        return KernelLayout(self.level, self.y, self.offsets, self.rule_of_dyad,
                            np.array([o.half_width_no_event, o.half_width_event]))

    def sort(self, X: np.ndarray) -> np.ndarray:
        """A design (rows in sample order) in this layout's order, C-contiguous float64."""
        return np.ascontiguousarray(np.asarray(X, dtype=float)[self.order])

    def evaluate(self, X_sorted: np.ndarray, coef: np.ndarray, sigma: float, level_effect: np.ndarray | None = None,
                 want_grad: bool = True, row_prob: bool = False) -> KernelResult:
        """One kernel call for eta = X_sorted @ coef + level_effect[level] (rows in this layout's order); with
        `row_prob`, also each row's probability given its dyad's data (needs the gradient pass)."""
        level_effect = np.zeros(self.n_levels) if level_effect is None else np.asarray(level_effect, dtype=float)
        out = KernelOutputs(np.empty(self.n_dyads), np.empty(len(coef)), np.empty(self.n_levels),
                            np.empty((self.n_dyads, 2)), np.empty(len(self.y) if row_prob else 0),
                            np.empty(self.n_dyads, np.bool_))
        X_sorted, coef, level_effect, layout = kernel_inputs(X_sorted, coef, level_effect, self.layout())
        total, grad_sigma, pairs = marginal_loglik(X_sorted, coef, level_effect, float(sigma), layout,
                                                   kernel_settings(self.options), want_grad or row_prob, out)
        return KernelResult(total, out.grad_coef, grad_sigma, out.grad_level, out.dyad_loglik, out.dyad_b, pairs,
                            out.row_prob, out.own_rule)


def kernel_settings(o: QuadratureOptions) -> KernelSettings:
    """The kernel's accuracy settings from the quadrature options."""
    return KernelSettings(o.max_spacing_u, o.max_spacing_b, o.max_nodes, o.series_log_rho, o.series_terms,
                          math.log(o.series_tol), o.skip_below)


LAYOUT_DTYPES = KernelLayout(np.int64, float, np.int64, np.int64, float)


def _frozen(array, dtype) -> np.ndarray:
    view = np.ascontiguousarray(array, dtype=dtype).view()
    view.flags.writeable = False
    return view


def kernel_inputs(X, coef, level_effect, layout: KernelLayout) -> tuple:
    """The kernel's array inputs as read-only, C-contiguous views of one dtype each: every caller then presents the
    same argument types, so numba compiles (and caches) the kernel once, not once per caller."""
    return (_frozen(X, float), _frozen(coef, float), _frozen(level_effect, float),
            KernelLayout(*(_frozen(a, t) for a, t in zip(layout, LAYOUT_DTYPES))))


def value_and_gradients(coef, sigma, level_effect, X, level, y, offsets, rule_of, half_width,
                        settings: KernelSettings):
    """(total, d/d coef, d/d sigma, d/d level effects) from one kernel call: the single entry point of every
    backend, so that they all run the same compiled kernel and give bit-identical results."""
    X, coef, level_effect, layout = kernel_inputs(X, coef, level_effect,
                                                  KernelLayout(level, y, offsets, rule_of, half_width))
    n_dyads = layout.offsets.size - 1
    out = KernelOutputs(np.empty(n_dyads), np.empty(coef.size), np.empty(level_effect.size), np.empty((n_dyads, 2)),
                        np.empty(0), np.empty(0, np.bool_))
    total, grad_sigma, _ = marginal_loglik(X, coef, level_effect, float(sigma), layout, settings, True, out)
    return np.asarray(total), out.grad_coef, np.asarray(grad_sigma), out.grad_level


class MarginalDyadLogLik(Op):
    """(coef, sigma, level effects; design X and layout constants) -> (sum_d log L_d and its gradients in coef,
    sigma and the level effects), with eta = X @ coef + level_effect[level]."""

    __props__ = ("settings",)

    def __init__(self, settings: KernelSettings):
        self.settings = KernelSettings(*settings)

    def make_node(self, coef, sigma, level_effect, X, *constants):
        variables = [pt.as_tensor_variable(v).astype("float64") for v in (coef, sigma, level_effect)]
        constants = [pt.as_tensor_variable(c) for c in (X, *constants)]
        return Apply(self, [*variables, *constants], [pt.dscalar(), pt.dvector(), pt.dscalar(), pt.dvector()])

    def perform(self, node, inputs, outputs):
        for storage, value in zip(outputs, value_and_gradients(*inputs, self.settings)):
            storage[0] = value

    def pullback(self, inputs, outputs, cotangents):
        for g in cotangents[1:]:
            if not isinstance(g.type, DisconnectedType):
                raise NotImplementedError("second derivatives of the marginal dyad log-likelihood are not available")
        _total, grad_coef, grad_sigma, grad_level = outputs
        g = cotangents[0]
        return [g * grad_coef, g * grad_sigma, g * grad_level] + [DisconnectedType()() for _ in inputs[3:]]

    def connection_pattern(self, node):
        return [[True] * 4] * 3 + [[False] * 4] * (len(node.inputs) - 3)


OUTCOME_INPUTS = {1: "outcome_sorted", 3: "outcome_rule"}  # layout inputs that follow the outcome, by position


def marginal_dyad_loglik(coef, sigma, X_sorted: np.ndarray, rows: DyadRows, level_effect=None,
                         outcome_data: dict | None = None):
    """Summed marginal log-likelihood of all dyads as a PyTensor scalar, for eta = X_sorted @ coef (the design's
    rows in the layout's order) plus, where given, the level effects. With `outcome_data` (a dict), the inputs that
    follow the outcome (the sorted outcome, each dyad's rule) are shared variables, added to it by name, so that a
    compiled model can take another outcome without recompiling."""
    import pytensor

    if level_effect is None:
        level_effect = pt.zeros(rows.n_levels)
    op = MarginalDyadLogLik(kernel_settings(rows.options))
    layout = []
    for i, a in enumerate(rows.layout()):
        if outcome_data is not None and i in OUTCOME_INPUTS:
            outcome_data[OUTCOME_INPUTS[i]] = pytensor.shared(a, name=OUTCOME_INPUTS[i])
            layout.append(outcome_data[OUTCOME_INPUTS[i]])
        else:
            layout.append(pt.constant(a))
    return op(coef, sigma, level_effect, pt.constant(np.ascontiguousarray(X_sorted, dtype=float)), *layout)[0]


def _source_digest() -> int:
    """A digest of the kernel's and this module's source. PyTensor caches the compiled numba implementation on disk
    under a key made of the Op's props only, so without this salt it would keep serving a stale kernel after an
    edit."""
    from . import marginal_kernel

    digest = hashlib.sha256()
    for path in (marginal_kernel.__file__, __file__):
        digest.update(Path(path).read_bytes())
    return int(digest.hexdigest()[:15], 16)


def with_saved_gradients(call, backward):
    """A JAX function of a host callback `call` that returns (value, *derivatives), differentiated by
    `backward(derivatives, cotangents)` from the derivatives it saved: the Ops here compute their derivatives with
    their value, so the pullback needs no second call."""
    import jax

    @jax.custom_vjp
    def function(*args):
        return call(*args)

    def forward(*args):
        out = call(*args)
        return out, out[1:]

    function.defvjp(forward, backward)
    return function


def _register_backends() -> None:
    """numba (nutpie) and JAX (numpyro) implementations of the Op."""
    import numba
    from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

    @register_funcify_default_op_cache_key(MarginalDyadLogLik)
    def _numba_funcify(op, node=None, **kwargs):
        """The kernel is called from object mode, not compiled into PyTensor's function: inlined there, LLVM
        optimised it differently (the last bits of the gradient changed, and with them the draws of a seed,
        depending on whether the function was compiled fresh or loaded from a cache). The call costs a few
        microseconds against milliseconds of kernel, which runs without the GIL."""
        settings = op.settings

        def call(coef, sigma, level_effect, X, level, y, offsets, rule_of, half_width):
            return value_and_gradients(coef, sigma, level_effect, X, level, y, offsets, rule_of, half_width, settings)

        @numba.njit
        def marginal_dyad_loglik_numba(coef, sigma, level_effect, X, level, y, offsets, rule_of, half_width):
            with numba.objmode(total="float64[::1]", grad_coef="float64[::1]", grad_sigma="float64[::1]",
                               grad_level="float64[::1]"):
                total, grad_coef, grad_sigma, grad_level = map(
                    np.atleast_1d, call(coef, sigma, level_effect, X, level, y, offsets, rule_of, half_width))
            return np.asarray(total[0]), grad_coef, np.asarray(grad_sigma[0]), grad_level

        return marginal_dyad_loglik_numba, _source_digest()

    try:
        from pytensor.link.jax.dispatch import jax_funcify
    except ImportError:  # JAX is optional at run time
        return

    @jax_funcify.register(MarginalDyadLogLik)
    def _jax_funcify(op, node=None, **kwargs):
        """A host callback to the kernel with a custom VJP (the layout constants are baked in)."""
        import jax
        import jax.numpy as jnp

        constants = [np.asarray(c.get_value() if hasattr(c, "get_value") else c.data) for c in node.inputs[3:]]

        def host(coef, sigma, level_effect):
            outputs = [[None] for _ in range(4)]
            variables = [np.asarray(v, dtype=float) for v in (coef, sigma, level_effect)]
            op.perform(None, [*variables, *constants], outputs)
            return tuple(o[0] for o in outputs)

        def call(coef, sigma, level_effect):
            shapes = (jax.ShapeDtypeStruct((), jnp.float64), jax.ShapeDtypeStruct(coef.shape, jnp.float64),
                      jax.ShapeDtypeStruct((), jnp.float64), jax.ShapeDtypeStruct(level_effect.shape, jnp.float64))
            return jax.pure_callback(host, shapes, coef, sigma, level_effect, vmap_method="sequential")

        marginal = with_saved_gradients(call, lambda gradients, cotangents: tuple(cotangents[0] * g
                                                                                  for g in gradients))

        def marginal_dyad_loglik_jax(coef, sigma, level_effect, *_constants):
            return marginal(coef, sigma, level_effect)

        return marginal_dyad_loglik_jax


_register_backends()
