"""Sample a model, recover group effects and per-group log-likelihoods (labelled), and return everything as one
DataTree whose attrs record how it was made.

The attrs are the fit's record (`inference.record.FitRecord`: one writer, here; one reader, `fit_record`): the
model spec (formula, family, sample), priors, method, quadrature, sampler settings, the standardisers, the panel's
path, checksum and substitutes, package versions, wall time and diagnostics.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from models.builders import CENTRED_INTERCEPT, RESCALED, BuiltModel, build_model, with_intercept
from models.design import ModelData
from models.marginal_op import DyadRows
from models.priors import Prior
from models.quadrature import QuadratureOptions
from models.specs import ModelSpec

from .diagnostics import Diagnostics, diagnose
from .settings import SamplerSettings
from .record import FitRecord, PanelRef, fit_record, with_record

def population_names(spec: ModelSpec) -> list[str]:
    """The population parameters a model of `spec` may have: original-scale coefficients, the group and year sds,
    the count part's coefficients and dispersion, the ordinal cut points."""
    group_sd = ([spec.group_sd] if spec.group else []) + [name for g in spec.parsed.sampled for name in
                                                          (f"{g.name}_sd", *sampled_slope_sds(g))]
    correlations = [f"{g.name}_corr" for g in spec.parsed.sampled if g.slopes]
    return ["coef", *group_sd, *correlations, "year_sd", "count_coef", "count_alpha", "cutpoints"]


def sampled_slope_sds(grouping) -> list[str]:
    """The sds of a sampled grouping's group-specific slopes (`state_a_threat_b_sd`, ...)."""
    return [f"{grouping.name}_{v}_sd" for v in grouping.slopes]


def prior_names(spec: ModelSpec) -> list[str]:
    """Parameters whose priors come from the prior file (power-scaling scales these)."""
    group_sd = [f"{spec.group_sd}_signed", spec.group_sd] if spec.group else []
    group_sd += [f"{name}{suffix}" for g in spec.parsed.sampled for name in (f"{g.name}_sd", *sampled_slope_sds(g))
                 for suffix in ("_signed", "")]
    return [CENTRED_INTERCEPT, "intercept", "beta", f"beta{RESCALED}", *group_sd, "year_sd_signed", "year_sd",
            f"count_{CENTRED_INTERCEPT}", "count_intercept", "count_beta", f"count_beta{RESCALED}", "count_alpha",
            "cutpoints_std"]


def loglik_name(spec: ModelSpec) -> str:
    """The per-group log-likelihood variable of a marginal fit (dyad_loglik, state_a_loglik, ...)."""
    return f"{spec.group}_loglik"


NUMERICS = "strict IEEE float64 in the log density (no fast-math), so draws depend only on the seed"


def population_vars(built: BuiltModel, spec: ModelSpec) -> list[str]:
    """Names of the population parameters present in the model."""
    names = {v.name for v in built.model.deterministics} | {v.name for v in built.model.free_RVs}
    return [v for v in population_names(spec) if v in names]


class SamplingInterrupted(KeyboardInterrupt):
    """The sampler stopped early (it was interrupted) and returned fewer draws than asked for."""


def warm_started(built: BuiltModel, settings: SamplerSettings):
    """The model NUTS samples and its Laplace approximation: with the "laplace" warm start, the built model
    whitened around its posterior mode (inference.warm_start); otherwise, or where the model is too large for the
    Hessian or has no finite mode, the built model itself and None."""
    from .warm_start import laplace, whitened_model

    if settings.warm_start == "none":
        return built.model, None
    try:
        approx = laplace(built.model)
    except ValueError as exc:
        import warnings

        warnings.warn(f"no warm start ({exc}); NUTS starts from the model's initial point", stacklevel=2)
        return built.model, None
    return whitened_model(built.model, approx), approx


_COMPILED: dict[str, object] = {}  # nutpie models compiled in this process, by the caller's key (see sample)


def _reused_nutpie(built: BuiltModel, settings: SamplerSettings, key: str):
    """NUTS draws with nutpie from a model compiled once per `key` in this process and given this model's outcome
    (its `extra["outcome_data"]`) and starting point (the intercepts at its outcome's log-odds and mean count,
    jittered as nutpie does): the same sampler and settings as pm.sample's, without the seconds that compiling
    takes each time."""
    from dataclasses import replace as replaced

    import nutpie
    from nutpie.compile_pymc import _rv_dict_to_flat_array_wrapper  # nutpie's own ordering of the initial point
    from pymc.backends.arviz import patch_nutpie_idata
    from pymc.initial_point import make_initial_point_fn

    compiled = _COMPILED.get(key)
    if compiled is None:
        _COMPILED.clear()  # one design at a time: a worker moves from case to case
        compiled = _COMPILED[key] = nutpie.compile_pymc_model(built.model, backend="numba")
    compiled = compiled.with_data(**{name: v.get_value() for name, v in built.extra["outcome_data"].items()})
    start = make_initial_point_fn(model=built.model, default_strategy="support_point",
                                  jitter_rvs=set(built.model.free_RVs), return_transformed=True)
    names = [built.model.rvs_to_values[v].name for v in built.model.free_RVs]  # nutpie's order: the free RVs'
    point = start(settings.seed)  # one evaluation for the shapes, not a second compiled initial-point function
    shapes = [tuple(np.shape(point[name])) for name in names]
    compiled = replaced(compiled, initial_point_func=_rv_dict_to_flat_array_wrapper(start, names, shapes))
    began = time.time()
    idata = nutpie.sample(compiled, draws=settings.draws, tune=settings.tune, chains=settings.chains,
                          cores=settings.chains, seed=settings.seed, save_warmup=False, progress_bar=False,
                          target_accept=settings.target_accept, adaptation=settings.adaptation)
    patch_nutpie_idata(idata, built.model, sampling_time=time.time() - began)
    return idata


def sample(built: BuiltModel, settings: SamplerSettings, reuse: str | None = None):
    """NUTS draws from the built model with the chosen sampler (progress bars on), warm-started as the settings
    say; returns the draws and the Laplace approximation (None without a warm start). With `reuse` (a key naming
    the design, priors and sampler settings but not the outcome), a model built with `outcome_data` is compiled
    once per key in this process and given each outcome (nutpie only; calibration's simulations).

    The log density is compiled without fast-math (strict IEEE arithmetic), so that its value cannot depend on
    how the compiler inlines or vectorises it: the same seed gives bit-identical draws in this process, in a Dask
    worker, in a subprocess with other thread settings, and with or without PyTensor's and numba's caches."""
    import pytensor

    from .warm_start import WHITENED

    model, approx = warm_started(built, settings)
    nuts = {"target_accept": settings.target_accept}
    extra = {}
    if settings.sampler == "nutpie":
        nuts["adaptation"] = settings.adaptation
    if settings.sampler == "pymc":
        extra["mp_ctx"] = "forkserver"  # forking a process that has started JAX or numba threads can deadlock
    with pytensor.config.change_flags(numba__fastmath=False):
        if reuse and approx is None and settings.sampler == "nutpie" and "outcome_data" in built.extra:
            return _reused_nutpie(built, settings, reuse), None
        idata = pm.sample(draws=settings.draws, tune=settings.tune, chains=settings.chains, cores=settings.chains,
                          random_seed=settings.seed, nuts_sampler=settings.sampler, model=model,
                          progressbar=True, nuts=nuts, **extra)
    for group in ("posterior", "warmup_posterior"):
        if group in idata.children and WHITENED in idata[group].data_vars:
            idata[group] = xr.DataTree(idata[group].to_dataset().drop_vars(WHITENED))
    post = idata["posterior"]
    if post.sizes["chain"] < settings.chains or post.sizes["draw"] < settings.draws:
        raise SamplingInterrupted(f"sampling stopped after {post.sizes['draw']} of {settings.draws} draws")
    return idata, approx


@dataclass(frozen=True)
class FitKernel:
    """A marginal fit's kernel rebuilt from its attrs and data: the row layout, the standardised design in the
    layout's order, and the draws as the kernel takes them (chains stacked): coefficients with the intercept first,
    the group sd and the year effects (None without them). The one way reports and effects reach the kernel."""

    rows: DyadRows
    X: np.ndarray
    coef: np.ndarray
    sigma: np.ndarray
    years: np.ndarray | None
    sampled: tuple = ()  # (row codes, intercepts (draws x groups), slope variables (rows x k) or None, slopes
    # (draws x groups x k) or None) of each sampled grouping
    row_years: np.ndarray | None = None  # each row's year code, where sampled groupings make offsets per row

    @property
    def n_draws(self) -> int:
        return len(self.sigma)

    def level_effect(self, draw: int) -> np.ndarray | None:
        """What the kernel adds to each row's linear predictor at draw `draw`: the year effects by year, or, with
        sampled groupings, one offset per row (their intercepts and the row's year effect)."""
        if not self.sampled:
            return None if self.years is None else self.years[draw]
        offset = 0.0
        for codes, intercepts, values, slopes in self.sampled:
            offset = offset + intercepts[draw][codes]
            if values is not None:
                offset = offset + np.sum(slopes[draw][codes] * values, axis=1)
        return offset if self.years is None else offset + self.years[draw][self.row_years]

    def evaluate(self, draw: int, want_grad: bool = False, row_prob: bool = False):
        """The kernel at draw `draw` (KernelResult: per-group log-likelihoods, E[b], row probabilities, ...)."""
        return self.rows.evaluate(self.X, self.coef[draw], self.sigma[draw], self.level_effect(draw),
                                  want_grad=want_grad, row_prob=row_prob)


def kernel_levels(data: ModelData) -> np.ndarray | None:
    """The level code of each row the kernel takes: its year, or, with sampled groupings, the row itself (one offset
    per row)."""
    return np.arange(len(data.y)) if data.sampled else data.years


def _kernel_draws(post, data: ModelData) -> tuple:
    """The draws as the kernel takes them (chains stacked): coefficients with the intercept first, the group sd,
    the year effects (None without them), each sampled grouping's (row codes, effects) and the rows' years."""
    spec = data.spec
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    coef = np.concatenate([np.asarray(post["intercept"])[..., None], np.asarray(post["beta"])], axis=-1)
    years = np.asarray(post["year_effect"]).reshape(chains * draws, -1) if "year_effect" in post else None
    sampled = []
    for name, (codes, labels) in data.sampled.items():
        if name in data.slopes:
            effects = np.asarray(post[f"{name}_effects"]).reshape(chains * draws, len(labels), -1)
            sampled.append((codes, effects[..., 0], data.slopes[name][1], effects[..., 1:]))
        else:
            intercepts = np.asarray(post[f"{name}_sd"])[..., None] * np.asarray(post[f"{name}_z"])
            sampled.append((codes, intercepts.reshape(chains * draws, -1), None, None))
    sampled = tuple(sampled)
    return (coef.reshape(chains * draws, -1), np.asarray(post[spec.group_sd]).reshape(-1), years, sampled,
            data.years if sampled else None)


def fit_kernel(tree, data: ModelData) -> FitKernel:
    """The kernel of a saved marginal fit on its estimation data, rebuilt from the fit's record (the binary outcome
    the kernel sees: the data's, any count > 0 for hurdles)."""
    spec, record = data.spec, fit_record(tree)
    if record.method != "marginal":
        raise ValueError(f"model {spec.name}: the fit used method {record.method}; only a marginal fit has a kernel")
    y = (data.y.to_numpy() > 0).astype(float)
    rows = DyadRows.from_groups(data.groups, y, record.quadrature, level=kernel_levels(data))
    X = rows.sort(with_intercept(record.standardiser.transform(data.X)))
    return FitKernel(rows, X, *_kernel_draws(tree["posterior"], data))


def group_coords(data: ModelData) -> dict:
    """The group dimension's coordinates: the code, and each group's labels (state codes and abbreviations for
    dyads and states, the value for any other grouping)."""
    group = data.spec.group
    labels = {f"{group}_label" if c == group else c: (group, data.group_labels[c].to_numpy())
              for c in data.group_labels.columns}
    return {group: np.arange(data.n_groups), **labels}


def group_quantities(built: BuiltModel, data: ModelData, idata, every: int = 1, threads: int = 2
                     ) -> tuple[xr.Dataset, xr.Dataset, np.ndarray]:
    """Per-group marginal log-likelihood of every `every`-th draw (float32, for leave-one-group-out LOO), the group
    effects' posterior mean and sd over all draws, from each group's conditional posterior given each draw, and the
    summed log-likelihood of every draw (chain, draw) (marginal method only; the kernel runs in `threads`
    threads). Both datasets carry the groups' labels."""
    from concurrent.futures import ThreadPoolExecutor

    from rich.progress import Progress

    spec = data.spec
    post = idata["posterior"]
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    rows = built.rows
    kernel = FitKernel(rows, rows.sort(with_intercept(built.standardiser.transform(data.X))),
                       *_kernel_draws(post, data))
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
            result = kernel.evaluate(s)
            moments[part] += result.dyad_b
            totals[s] = result.total
            if keep_flat[s]:
                loglik[slot[s]] = result.dyad_loglik
            progress.advance(task)

    with Progress(transient=True) as progress, ThreadPoolExecutor(threads) as pool:
        task = progress.add_task(f"Group effects and log-likelihoods ({spec.group})", total=chains * draws)
        list(pool.map(work, range(threads)))
    moments = moments.sum(axis=0) / (chains * draws)
    mean = moments[:, 0]
    sd = np.sqrt(np.maximum(moments[:, 1] - mean**2, 0.0))
    group, coords = spec.group, group_coords(data)
    return (xr.Dataset({loglik_name(spec): (("chain", "draw", group), loglik.reshape(chains, len(kept), -1))},
                       coords={"chain": np.asarray(post["chain"]), "draw": kept, **coords}),
            xr.Dataset({"effect_mean": (group, mean), "effect_sd": (group, sd)}, coords=coords),
            totals.reshape(chains, draws))


def log_likelihood_totals(built: BuiltModel, idata, group_totals: np.ndarray | None) -> xr.Dataset:
    """The summed log-likelihood of every draw (chain, draw): the marginal groups' totals (`group_totals`, from
    `group_quantities`) and each observed outcome's (the plain or ordinal outcome, the hurdle's count part)."""
    built.drop_initial_values()
    observed = [v.name for v in built.model.observed_RVs]
    post = idata["posterior"]
    totals = {}
    if group_totals is not None:
        totals["groups"] = (("chain", "draw"), group_totals)
    if observed:
        loglik = pm.stats.compute_log_likelihood(idata, var_names=observed, model=built.model,
                                                 extend_inferencedata=False, progressbar=False)
        for name in observed:
            values = loglik[name]
            totals[name] = (("chain", "draw"), values.sum([d for d in values.dims if d not in ("chain", "draw")]).values)
    coords = {"chain": np.asarray(post["chain"]), "draw": np.asarray(post["draw"])}
    return xr.Dataset(totals, coords=coords)


def log_densities(built: BuiltModel, spec: ModelSpec, idata, group_totals: np.ndarray | None
                  ) -> tuple[xr.Dataset, xr.Dataset]:
    """For power-scaling sensitivity: the log prior density of every parameter with a configurable prior, and the
    summed log-likelihood of every draw (`log_likelihood_totals`)."""
    free = {v.name for v in built.model.free_RVs}
    built.drop_initial_values()
    log_prior = pm.stats.compute_log_prior(idata, var_names=[v for v in prior_names(spec) if v in free],
                                           model=built.model, extend_inferencedata=False, progressbar=False)
    return xr.Dataset(dict(log_prior.data_vars)), log_likelihood_totals(built, idata, group_totals)


def ensure_log_densities(tree, data: ModelData):
    """A fit with the log prior and per-draw log-likelihood groups power-scaling needs; fits saved without them
    get them computed at their saved draws, from the spec, priors and quadrature of their record (no sampling)."""
    if {"log_prior", "log_likelihood_total"} <= set(tree.children):
        return tree
    record = fit_record(tree)
    built = build_model(data, record.priors, record.method, record.quadrature)
    totals = group_quantities(built, data, tree)[2] if built.method == "marginal" else None
    log_prior, log_likelihood_total = log_densities(built, data.spec, tree, totals)
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


def fit(data: ModelData, priors: dict[str, Prior], settings: SamplerSettings, method: str | None = None,
        quadrature: QuadratureOptions = QuadratureOptions(), panel: PanelRef = PanelRef(), loglik_every: int = 2,
        group_outputs: bool = True, prior_set: str = "", reuse: str | None = None) -> tuple[object, Diagnostics]:
    """Build, sample and post-process one model; returns the DataTree (its record in the attrs) and its
    diagnostics. `panel` says which panel the data came from; `prior_set` names the prior set of a refit. The
    marginal method also keeps per-group log-likelihoods and group effects (unless `group_outputs` is False, as for
    prior-sensitivity refits); every fit keeps the log prior and the per-draw log-likelihood (for power-scaling).
    `reuse` compiles the model once per key in this process (see sample)."""
    built = build_model(data, priors, method, quadrature, outcome_data=reuse is not None)
    settings = settings.resolved(bool(data.sampled))
    began = time.perf_counter()
    idata, approx = sample(built, settings, reuse)
    sampling_seconds = time.perf_counter() - began
    spec = data.spec
    totals = None
    if built.method == "marginal":
        loglik, effects, totals = group_quantities(built, data, idata, loglik_every)
        if group_outputs:
            idata["log_likelihood"] = xr.DataTree(loglik)
            idata["group_effects"] = xr.DataTree(effects)
    log_prior, log_likelihood_total = log_densities(built, spec, idata, totals)
    idata["log_prior"] = xr.DataTree(log_prior)
    idata["log_likelihood_total"] = xr.DataTree(log_likelihood_total)
    if approx is not None:
        idata["laplace"] = xr.DataTree(approx.to_dataset())
    if spec.group is not None and built.method == "plain":
        idata["posterior"] = xr.DataTree(idata["posterior"].to_dataset().assign_coords(group_coords(data)))
    diagnostics = diagnose(idata, population_vars(built, spec), ess_min=settings.ess_min)
    record = FitRecord(
        spec=spec, priors=priors, method=built.method, sampler=settings, quadrature=quadrature,
        standardiser=built.standardiser, count_standardiser=built.count_standardiser, panel=panel,
        n_rows=len(data.y), n_groups=data.n_groups, n_events=int((data.y > 0).sum()),
        diagnostics_passed=diagnostics.passed, diagnostics_problems=tuple(diagnostics.problems),
        sampling_seconds=round(sampling_seconds, 2), wall_seconds=round(time.perf_counter() - began, 2),
        versions=_versions(), numerics=NUMERICS, prior_set=prior_set)
    return with_record(idata, record), diagnostics
