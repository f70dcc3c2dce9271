"""Warm start: the posterior mode of a model, its Laplace approximation, and the model whitened around it.

NUTS spends its warm-up finding the posterior and learning its scales. The marginal models have a cheap exact
log density and gradient, so a quasi-Newton optimiser finds their posterior mode in seconds, and finite
differences of the gradient give the curvature there. Sampling x = mode + L z, with L L' the Laplace covariance,
starts every chain (jittered around z = 0) where the posterior is, with the correlations and scales already
removed: the sampler's own adaptation (which cannot be given an initial mass matrix in nutpie) only corrects what
the Laplace approximation misses. The same graph is used: the model's log density and its deterministics are
evaluated at x, so the draws, their names and everything downstream are as without the warm start.

Directions where the curvature is not positive (a signed sd at a symmetric saddle) get unit variance; the
posterior itself is never changed, only the coordinates NUTS moves in. Measured, it did not pay on this project's
models (docs/models.md), so it is an option (`--warm-start laplace`), not the default; the approximation on its
own is a fast approximate fit (`laplace_draws`, `Model.fit_laplace`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import xarray as xr

WHITENED = "laplace_z"  # the whitened coordinates NUTS samples (dropped from the posterior afterwards)
MAX_DIM = 1500  # beyond this many unconstrained parameters the Hessian's 2d gradients cost more than they save
MIN_PRECISION = 1e-2  # a direction with less curvature than this (or none) gets unit variance


@dataclass(frozen=True)
class Laplace:
    """The posterior mode in the unconstrained space (the model's value variables, flattened in `names` order),
    the log density there, the Laplace covariance's square root (`root`, root @ root.T = covariance) and how the
    mode was found."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    mode: np.ndarray
    root: np.ndarray
    log_density: float
    converged: bool
    message: str
    gradient_evaluations: int
    seconds: float

    @property
    def covariance(self) -> np.ndarray:
        return self.root @ self.root.T

    def point(self, x: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The flat vector `x` (default the mode) as a point of the model's value variables."""
        x = self.mode if x is None else x
        point, start = {}, 0
        for name, shape in zip(self.names, self.shapes):
            size = int(np.prod(shape, dtype=int))
            point[name] = x[start:start + size].reshape(shape)
            start += size
        return point

    def to_dataset(self) -> xr.Dataset:
        """The approximation as a dataset (saved with the fit as its `laplace` group)."""
        labels = [f"{n}[{i}]" if size > 1 else n for n, shape in zip(self.names, self.shapes)
                  for size in [int(np.prod(shape, dtype=int))] for i in range(size)]
        return xr.Dataset(
            {"mode": ("parameter", self.mode), "root": (("parameter", "direction"), self.root)},
            coords={"parameter": labels, "direction": np.arange(self.root.shape[1])},
            attrs={"names": list(self.names), "shapes": [list(s) for s in self.shapes],
                   "log_density": self.log_density, "converged": int(self.converged), "message": self.message,
                   "gradient_evaluations": self.gradient_evaluations, "seconds": self.seconds,
                   "what": "posterior mode and Laplace covariance (root @ root.T) in the unconstrained space"})

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> Laplace:
        a = ds.attrs
        return cls(tuple(a["names"]), tuple(tuple(int(v) for v in s) for s in a["shapes"]),
                   np.asarray(ds["mode"]), np.asarray(ds["root"]), float(a["log_density"]), bool(a["converged"]),
                   str(a["message"]), int(a["gradient_evaluations"]), float(a["seconds"]))


def _flat_inputs(model):
    """A flat vector standing for the model's value variables, and their names and shapes at the initial point."""
    import pytensor.tensor as pt

    start = model.initial_point()
    names = tuple(v.name for v in model.value_vars)
    shapes = tuple(tuple(int(d) for d in np.shape(start[n])) for n in names)
    sizes = [int(np.prod(s, dtype=int)) for s in shapes]
    flat = pt.dvector("flat")
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    replace = {v: flat[offsets[i]:offsets[i + 1]].reshape(shapes[i]) for i, v in enumerate(model.value_vars)}
    x0 = np.concatenate([np.ravel(np.asarray(start[n], dtype=float)) for n in names])
    return flat, replace, names, shapes, x0


def log_density_function(model):
    """The model's log density (with the transforms' Jacobians) and its gradient as one function of a flat vector;
    also the names and shapes of the value variables and the flat initial point."""
    import pytensor
    from pytensor.graph.replace import graph_replace

    flat, replace, names, shapes, x0 = _flat_inputs(model)
    logp = graph_replace(model.logp(), replace, strict=False)
    function = pytensor.function([flat], [logp, pytensor.grad(logp, flat)], on_unused_input="ignore")
    return function, names, shapes, x0


def _hessian(gradient, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """The Hessian of the log density by central differences of its gradient, symmetrised."""
    d = len(x)
    H = np.empty((d, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = step
        H[:, j] = (gradient(x + e) - gradient(x - e)) / (2 * step)
    return 0.5 * (H + H.T)


START_JITTER = 0.1  # the optimiser's start: the initial point moved by up to this much in every coordinate


def laplace(model, max_iterations: int = 500) -> Laplace:
    """The posterior mode of `model` (L-BFGS from the model's initial point, moved by a fixed jitter: a
    non-centred grouping's sd 0 and intercepts 0 are a stationary point, a saddle, that the optimiser would not
    leave) and the Laplace approximation there.

    Raises ValueError where the model has more than MAX_DIM unconstrained parameters or no finite log density at
    its initial point."""
    from scipy.optimize import minimize

    began = time.perf_counter()
    function, names, shapes, x0 = log_density_function(model)
    if len(x0) > MAX_DIM:
        raise ValueError(f"{len(x0)} parameters: a Laplace warm start is limited to {MAX_DIM}")
    evaluations = 0

    def negative(x):
        nonlocal evaluations
        evaluations += 1
        value, grad = function(x)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(x)
        return -float(value), -np.asarray(grad, dtype=float)

    x0 = x0 + START_JITTER * np.random.default_rng(0).uniform(-1.0, 1.0, len(x0))
    if negative(x0)[0] >= 1e300:
        raise ValueError("the log density is not finite at the model's initial point")
    result = minimize(negative, x0, jac=True, method="L-BFGS-B",
                      options={"maxiter": max_iterations, "gtol": 1e-6, "maxcor": 20})
    mode = result.x

    def gradient(x):
        nonlocal evaluations
        evaluations += 1
        return np.asarray(function(x)[1], dtype=float)

    precision = -_hessian(gradient, mode)
    values, vectors = np.linalg.eigh(precision)
    values = np.where(np.isfinite(values) & (values > MIN_PRECISION), values, 1.0)
    root = vectors / np.sqrt(values)
    return Laplace(names, shapes, mode, root, float(-result.fun), bool(result.success), str(result.message),
                   evaluations, round(time.perf_counter() - began, 3))


def whitened_model(model, approx: Laplace):
    """A PyMC model that samples z with x = mode + root z: the same log density (a Potential; the Jacobian of the
    affine map is constant), and every free variable and deterministic of `model` as a deterministic of z with
    its name and dims."""
    import pymc as pm
    import pytensor.tensor as pt

    flat, replace, names, shapes, _x0 = _flat_inputs(model)
    if names != approx.names or shapes != approx.shapes:
        raise ValueError("the Laplace approximation was made for another model")
    outputs = [*model.free_RVs, *model.deterministics]
    graphs = [model.logp(), *model.replace_rvs_by_values(outputs)]
    dims = model.named_vars_to_dims
    with pm.Model(coords=model.coords) as white:
        z = pm.Flat(WHITENED, shape=len(approx.mode))
        x = pt.as_tensor(approx.mode) + pt.dot(pt.as_tensor(approx.root), z)
        logp, *values = _replace_at(graphs, replace, flat, x)
        pm.Potential("log_density", logp)
        for var, value in zip(outputs, values):
            pm.Deterministic(var.name, value, dims=dims.get(var.name))
    return white


def _replace_at(graphs, replace: dict, flat, x):
    """`graphs` with the value variables replaced by slices of `x` (through the slices of `flat`)."""
    from pytensor.graph.replace import graph_replace

    sliced = graph_replace(graphs, replace, strict=False)
    return graph_replace(sliced, {flat: x}, strict=False)


def laplace_draws(model, approx: Laplace, draws: int = 1000, seed: int = 0,
                  names: list[str] | None = None) -> xr.Dataset:
    """Draws from the Laplace approximation (normal at the mode with its covariance, in the unconstrained space)
    mapped through the model's free variables and deterministics `names` (default all): an approximate posterior
    in seconds, labelled as such in its attrs. Not a substitute for NUTS where the posterior is skewed (group sds
    near 0) or, for non-centred groupings, where the joint mode is not where the posterior is."""

    white = whitened_model(model, approx)
    wanted = names or [v.name for v in (*model.free_RVs, *model.deterministics)]
    outputs = white.replace_rvs_by_values([white[name] for name in wanted])
    function = white.compile_fn(outputs, inputs=white.value_vars, point_fn=False)
    z = np.random.default_rng(seed).standard_normal((draws, len(approx.mode)))
    values = [function(row) for row in z]
    dims = model.named_vars_to_dims
    data = {}
    for k, name in enumerate(wanted):
        stacked = np.stack([np.asarray(v[k]) for v in values])[None]
        data[name] = (("chain", "draw", *dims.get(name, [f"{name}_dim_{i}" for i in range(stacked.ndim - 2)])),
                      stacked)
    coords = {dim: np.asarray(model.coords[dim])  # an array: xarray reads a tuple as (dims, values)
              for name in wanted for dim in dims.get(name, ()) if dim in model.coords}
    return xr.Dataset(data, coords={"chain": [0], "draw": np.arange(draws), **coords},
                      attrs={"approximation": "Laplace at the posterior mode (normal in the unconstrained space)",
                             "mode_converged": int(approx.converged), "seconds_to_mode": approx.seconds})
