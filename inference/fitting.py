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

from models.builders import BuiltModel, build_model, with_intercept
from models.design import ModelData
from models.priors import Prior, priors_config
from models.quadrature import QuadratureOptions

from .diagnostics import Diagnostics, diagnose
from .store import fit_priors, fit_quadrature

SAMPLERS = ("nutpie", "numpyro", "pymc")
ADAPTATIONS = ("low_rank", "diag")
# inclusive ranges of the integer settings (the seed must fit the samplers' 32-bit seeds)
SETTING_RANGES = {"draws": (1, 1_000_000), "tune": (1, 1_000_000), "chains": (1, 64), "seed": (0, 2**32 - 1)}
POPULATION = ("coef", "dyad_sd", "year_sd", "count_coef", "count_alpha")
# parameters whose priors come from the prior file (power-scaling scales these)
PRIOR_VARS = ("intercept", "beta", "dyad_sd_signed", "dyad_sd", "year_sd_signed", "year_sd", "count_intercept",
              "count_beta", "count_alpha")


NUMERICS = "strict IEEE float64 in the log density (no fast-math), so draws depend only on the seed"


@dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings. `adaptation` is nutpie's mass matrix: "low_rank" (default) learns the strong correlations
    between an interaction and its constitutive terms; "diag" is the classic diagonal one."""

    sampler: str = "nutpie"
    draws: int = 1000
    tune: int = 1000
    chains: int = 2
    seed: int = 20231
    target_accept: float = 0.85
    adaptation: str = "low_rank"

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; use {', '.join(SAMPLERS)}")
        if self.adaptation not in ADAPTATIONS:
            raise ValueError(f"unknown mass matrix adaptation {self.adaptation!r}; use {', '.join(ADAPTATIONS)}")
        for name, (low, high) in SETTING_RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
        if not (isinstance(self.target_accept, (int, float)) and 0 < self.target_accept < 1):
            raise ValueError(f"target_accept must lie strictly between 0 and 1, got {self.target_accept!r}")


def population_vars(built: BuiltModel) -> list[str]:
    """Names of the population parameters present in the model (original-scale coefficients, dyad and year sds,
    the count part's coefficients and dispersion)."""
    names = {v.name for v in built.model.deterministics} | {v.name for v in built.model.free_RVs}
    return [v for v in POPULATION if v in names]


class SamplingInterrupted(KeyboardInterrupt):
    """The sampler stopped early (it was interrupted) and returned fewer draws than asked for."""


def sample(built: BuiltModel, settings: SamplerSettings):
    """NUTS draws from the built model with the chosen sampler (progress bars on).

    The log density is compiled without fast-math (strict IEEE arithmetic), so that its value cannot depend on
    how the compiler inlines or vectorises it: the same seed gives bit-identical draws in this process, in a Dask
    worker, in a subprocess with other thread settings, and with or without PyTensor's and numba's caches."""
    import pytensor

    nuts = {"target_accept": settings.target_accept}
    extra = {}
    if settings.sampler == "nutpie":
        nuts["adaptation"] = settings.adaptation
    if settings.sampler == "pymc":
        extra["mp_ctx"] = "forkserver"  # forking a process that has started JAX or numba threads can deadlock
    with pytensor.config.change_flags(numba__fastmath=False):
        idata = pm.sample(draws=settings.draws, tune=settings.tune, chains=settings.chains, cores=settings.chains,
                          random_seed=settings.seed, nuts_sampler=settings.sampler, model=built.model,
                          progressbar=True, nuts=nuts, **extra)
    post = idata["posterior"]
    if post.sizes["chain"] < settings.chains or post.sizes["draw"] < settings.draws:
        raise SamplingInterrupted(f"sampling stopped after {post.sizes['draw']} of {settings.draws} draws")
    return idata


def dyad_quantities(built: BuiltModel, data: ModelData, idata, every: int = 1, threads: int = 2
                    ) -> tuple[xr.Dataset, xr.Dataset, np.ndarray]:
    """Per-dyad marginal log-likelihood of every `every`-th draw (float32, for leave-one-dyad-out LOO), the
    dyad effects' posterior mean and sd over all draws, from each dyad's conditional posterior given each draw,
    and the summed log-likelihood of every draw (chain, draw) (marginal method only; the kernel runs in
    `threads` threads)."""
    from concurrent.futures import ThreadPoolExecutor

    from rich.progress import Progress

    post = idata["posterior"]
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    coef = np.concatenate([np.asarray(post["intercept"])[..., None], np.asarray(post["beta"])], axis=-1)
    coef = coef.reshape(chains * draws, -1)
    sigma = np.asarray(post["dyad_sd"]).reshape(-1)
    years = np.asarray(post["year_effect"]).reshape(chains * draws, -1) if "year_effect" in post else None
    rows = built.rows
    X = rows.sort(with_intercept(built.standardiser.transform(data)))
    kept = np.arange(0, draws, every)
    keep_draw = np.zeros(draws, bool)
    keep_draw[kept] = True
    keep_flat = np.tile(keep_draw, chains)
    loglik = np.empty((chains * len(kept), rows.n_dyads), np.float32)
    slot = np.cumsum(keep_flat) - 1
    moments = np.zeros((threads, rows.n_dyads, 2))
    totals = np.empty(chains * draws)

    def work(part: int) -> None:
        for s in range(part, chains * draws, threads):
            result = rows.evaluate(X, coef[s], sigma[s], None if years is None else years[s], want_grad=False)
            moments[part] += result.dyad_b
            totals[s] = result.total
            if keep_flat[s]:
                loglik[slot[s]] = result.dyad_loglik
            progress.advance(task)

    with Progress(transient=True) as progress, ThreadPoolExecutor(threads) as pool:
        task = progress.add_task("Dyad effects and log-likelihoods", total=chains * draws)
        list(pool.map(work, range(threads)))
    moments = moments.sum(axis=0) / (chains * draws)
    mean = moments[:, 0]
    sd = np.sqrt(np.maximum(moments[:, 1] - mean**2, 0.0))
    dyad = np.arange(rows.n_dyads)
    return (xr.Dataset({"dyad_loglik": (("chain", "draw", "dyad"), loglik.reshape(chains, len(kept), -1))},
                       coords={"chain": np.asarray(post["chain"]), "draw": kept, "dyad": dyad}),
            xr.Dataset({"effect_mean": ("dyad", mean), "effect_sd": ("dyad", sd)}, coords={"dyad": dyad}),
            totals.reshape(chains, draws))


def log_densities(built: BuiltModel, idata, dyad_totals: np.ndarray) -> tuple[xr.Dataset, xr.Dataset]:
    """For power-scaling sensitivity: the log prior density of every parameter with a configurable prior, and
    the summed log-likelihood of every draw (dyads, plus the hurdle's count part)."""
    names = {v.name for v in built.model.free_RVs}
    log_prior = pm.stats.compute_log_prior(idata, var_names=[v for v in PRIOR_VARS if v in names], model=built.model,
                                           extend_inferencedata=False, progressbar=False)
    post = idata["posterior"]
    totals = {"dyads": (("chain", "draw"), dyad_totals)}
    if "count" in {v.name for v in built.model.observed_RVs}:
        count = pm.stats.compute_log_likelihood(idata, var_names=["count"], model=built.model,
                                                extend_inferencedata=False, progressbar=False)["count"]
        totals["count"] = (("chain", "draw"), count.sum([d for d in count.dims if d not in ("chain", "draw")]).values)
    coords = {"chain": np.asarray(post["chain"]), "draw": np.asarray(post["draw"])}
    return xr.Dataset(dict(log_prior.data_vars)), xr.Dataset(totals, coords=coords)


def ensure_log_densities(tree, data: ModelData):
    """A fit with the log prior and per-draw log-likelihood groups power-scaling needs; fits saved without them
    (older versions) get them computed at their saved draws, from the spec, priors and quadrature in their attrs
    (no sampling)."""
    if {"log_prior", "log_likelihood_total"} <= set(tree.children):
        return tree
    built = build_model(data, fit_priors(tree), "marginal", fit_quadrature(tree))
    _loglik, _effects, totals = dyad_quantities(built, data, tree)
    log_prior, log_likelihood_total = log_densities(built, tree, totals)
    tree = tree.copy()
    tree["log_prior"] = xr.DataTree(log_prior)
    tree["log_likelihood_total"] = xr.DataTree(log_likelihood_total)
    return tree


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
        quadrature: QuadratureOptions = QuadratureOptions(), panel_checksum: str = "", substitutes: str = "",
        loglik_every: int = 2, dyad_outputs: bool = True) -> tuple[object, Diagnostics]:
    """Build, sample and post-process one model; returns the DataTree (with attrs) and its diagnostics.
    `panel_checksum` and `substitutes` (the panel's record of substituted sources) are copied into the attrs.
    The marginal method also keeps per-dyad log-likelihoods and dyad effects (unless `dyad_outputs` is False, as
    for prior-sensitivity refits), the log prior and the per-draw log-likelihood (for power-scaling)."""
    built = build_model(data, priors, method, quadrature)
    began = time.perf_counter()
    idata = sample(built, settings)
    sampling_seconds = time.perf_counter() - began
    if method == "marginal":
        loglik, effects, totals = dyad_quantities(built, data, idata, loglik_every)
        if dyad_outputs:
            idata["log_likelihood"] = xr.DataTree(loglik)
            idata["dyad_effects"] = xr.DataTree(effects)
        log_prior, log_likelihood_total = log_densities(built, idata, totals)
        idata["log_prior"] = xr.DataTree(log_prior)
        idata["log_likelihood_total"] = xr.DataTree(log_likelihood_total)
    diagnostics = diagnose(idata, population_vars(built))
    spec = data.spec
    idata.attrs.update({
        "model": spec.name, "model_label": spec.label, "spec": json.dumps(asdict(spec)),
        "method": method, "panel_checksum": panel_checksum, "substitutes": substitutes,
        "priors": json.dumps(priors_config(priors)),
        "sampler": json.dumps(asdict(settings)), "quadrature": json.dumps(asdict(quadrature)),
        "versions": json.dumps(_versions()), "numerics": NUMERICS, "sampling_seconds": round(sampling_seconds, 2),
        "wall_seconds": round(time.perf_counter() - began, 2), "n_rows": int(len(data.y)),
        "n_dyads": int(data.n_groups), "n_events": int((data.y > 0).sum()),
        "diagnostics_passed": int(diagnostics.passed), "diagnostics_problems": json.dumps(diagnostics.problems),
        "standardiser": json.dumps({"terms": list(built.standardiser.terms),
                                    "mean": built.standardiser.mean.tolist(), "sd": built.standardiser.sd.tolist()}),
    })
    return idata, diagnostics
