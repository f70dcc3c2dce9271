"""Sample a model, recover dyad effects and dyad log-likelihoods, and save everything as one netCDF DataTree.

Saved attrs: panel checksum, model spec, priors, sampler and settings, package versions, wall time, diagnostics.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from models.builders import BuiltModel, build_model
from models.design import ModelData
from models.priors import Prior
from models.quadrature import QuadratureOptions, log_marginal_numpy, node_posterior_numpy

from .diagnostics import Diagnostics, diagnose

SAMPLERS = ("nutpie", "numpyro", "pymc")
POPULATION = ("coef", "dyad_sd", "count_coef")


@dataclass(frozen=True)
class SamplerSettings:
    sampler: str = "nutpie"
    draws: int = 1000
    tune: int = 1000
    chains: int = 2
    seed: int = 20231
    target_accept: float = 0.9

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; use {', '.join(SAMPLERS)}")
        for name in ("draws", "tune", "chains"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


def population_vars(built: BuiltModel) -> list[str]:
    """Names of the population parameters present in the model (original-scale coefficients and dyad sd)."""
    names = {v.name for v in built.model.deterministics} | {v.name for v in built.model.free_RVs}
    return [v for v in POPULATION if v in names]


def sample(built: BuiltModel, settings: SamplerSettings):
    """NUTS draws from the built model with the chosen sampler (progress bars on)."""
    kwargs = {}
    if settings.sampler == "pymc":
        kwargs["target_accept"] = settings.target_accept
    else:
        kwargs["nuts_sampler_kwargs"] = {"target_accept": settings.target_accept} if settings.sampler == "nutpie" else {}
        if settings.sampler == "numpyro":
            kwargs["target_accept"] = settings.target_accept
    return pm.sample(draws=settings.draws, tune=settings.tune, chains=settings.chains, cores=settings.chains,
                     random_seed=settings.seed, nuts_sampler=settings.sampler, model=built.model,
                     progressbar=True, **kwargs)


def _linear_predictor(built: BuiltModel, data: ModelData, intercept: np.ndarray, beta: np.ndarray) -> np.ndarray:
    return intercept[:, None] + beta @ built.standardiser.transform(data).T


def dyad_quantities(built: BuiltModel, data: ModelData, idata, every: int = 1) -> tuple[xr.Dataset, xr.Dataset]:
    """Per-dyad marginal log-likelihood (for leave-one-dyad-out LOO) and the dyad effects' posterior mean and sd,
    from the conditional posterior of each dyad effect given every `every`-th draw (marginal method only)."""
    post = idata["posterior"]
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    keep = np.arange(0, draws, every)
    intercept = np.asarray(post["intercept"])[:, keep].reshape(-1)
    beta = np.asarray(post["beta"])[:, keep].reshape(len(intercept), -1)
    sigma = np.asarray(post["dyad_sd"])[:, keep].reshape(-1)
    y = data.y.to_numpy() if data.spec.family == "logit" else (data.y.to_numpy() > 0).astype(float)
    eta_all = _linear_predictor(built, data, intercept, beta)
    loglik = np.empty((len(intercept), data.n_groups))
    effect_mean = np.zeros((len(intercept), data.n_groups))
    effect_sq = np.zeros((len(intercept), data.n_groups))
    for layout in built.layouts:
        rule = built.quadrature.rule(layout.events)
        y_dense = layout.gather(y)
        for s in range(len(intercept)):
            eta = layout.gather(eta_all[s])
            loglik[s, layout.dyads] = log_marginal_numpy(eta, y_dense, layout.mask, sigma[s], rule)
            weights = node_posterior_numpy(eta, y_dense, layout.mask, sigma[s], rule)
            b = sigma[s] * rule.nodes
            effect_mean[s, layout.dyads] = weights @ b
            effect_sq[s, layout.dyads] = weights @ b**2
    shape = (chains, len(keep), data.n_groups)
    mean = effect_mean.mean(axis=0)
    sd = np.sqrt(np.maximum(effect_sq.mean(axis=0) - mean**2, 0.0))
    return xr.Dataset(
        {"dyad_loglik": (("chain", "draw", "dyad"), loglik.reshape(shape))},
        coords={"chain": np.arange(chains), "draw": keep, "dyad": np.arange(data.n_groups)},
    ), xr.Dataset({"effect_mean": ("dyad", mean), "effect_sd": ("dyad", sd)},
                  coords={"dyad": np.arange(data.n_groups)})


def _versions() -> dict[str, str]:
    import arviz
    import pytensor

    versions = {"python": platform.python_version(), "pymc": pm.__version__, "arviz": arviz.__version__,
                "pytensor": pytensor.__version__, "numpy": np.__version__, "pandas": pd.__version__}
    for name in ("nutpie", "numpyro", "jax"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            pass
    return versions


def fit(data: ModelData, priors: dict[str, Prior], settings: SamplerSettings, method: str = "marginal",
        quadrature: QuadratureOptions = QuadratureOptions(), panel_checksum: str = "",
        loglik_every: int = 1) -> tuple[object, Diagnostics]:
    """Build, sample and post-process one model; returns the DataTree (with attrs) and its diagnostics."""
    built = build_model(data, priors, method, quadrature)
    began = time.perf_counter()
    idata = sample(built, settings)
    sampling_seconds = time.perf_counter() - began
    if method == "marginal":
        loglik, effects = dyad_quantities(built, data, idata, loglik_every)
        idata["log_likelihood"] = xr.DataTree(loglik)
        idata["dyad_effects"] = xr.DataTree(effects)
    diagnostics = diagnose(idata, population_vars(built))
    spec = data.spec
    idata.attrs.update({
        "model": spec.name, "model_label": spec.label, "spec": json.dumps(asdict(spec)),
        "method": method, "panel_checksum": panel_checksum,
        "priors": json.dumps({k: {"dist": p.dist, **p.kwargs} for k, p in priors.items()}),
        "sampler": json.dumps(asdict(settings)), "quadrature": json.dumps(asdict(quadrature)),
        "versions": json.dumps(_versions()), "sampling_seconds": round(sampling_seconds, 2),
        "wall_seconds": round(time.perf_counter() - began, 2), "n_rows": int(len(data.y)),
        "n_dyads": int(data.n_groups), "n_events": int((data.y > 0).sum()),
        "diagnostics_passed": int(diagnostics.passed), "diagnostics_problems": json.dumps(diagnostics.problems),
        "standardiser": json.dumps({"terms": list(built.standardiser.terms),
                                    "mean": built.standardiser.mean.tolist(), "sd": built.standardiser.sd.tolist()}),
    })
    return idata, diagnostics
