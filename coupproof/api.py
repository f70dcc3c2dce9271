"""The Python API: what the CLI, the report and the sensitivity refits are built on, and what notebooks use.

    import coupproof as cp
    panel = cp.load_panel()                      # reads build/panel.nc, or builds it from the raw files
    model = cp.Model("m4", panel)                # a packaged model, or cp.Model(formula, panel, family=...)
    fit = model.fit(draws=1000, chains=2)        # progress bar; diagnostics printed, failures flagged
    fit.summary(); fit.plot_trace(); fit.save("build/fits/m4.nc"); fit = cp.load_fit("build/fits/m4.nc")
    fit.slopes("counterbalancing_a", by="threat_b")

The panel's checksum and substitutes, the priors, the formula and the sampler settings travel inside the objects
and the saved fit; a saved fit rebuilds its model from its own attrs.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd
import xarray as xr

from data_prep.panel import panel_frame

from .defaults import PANEL
from models.design import ModelData, model_data
from models.priors import Prior, load_priors, parse_priors, priors_config
from models.quadrature import QuadratureOptions
from inference.settings import DEFAULT_SEED
from models.specs import PAPER_MODELS, ModelSpec, SpecError, get_spec, load_specs

DEFAULT_PANEL = PANEL


def load_panel(path: str | os.PathLike = DEFAULT_PANEL, data_dir: str | os.PathLike | None = None,
               build: bool = True, options=None) -> xr.Dataset:
    """The dyad panel at `path`; where there is none and `build` is true, it is built from the raw files in
    `data_dir` (default: $COUPPROOF_DATA_DIR or ../shared/data/raw) with `options` (a data_prep.panel.PanelOptions,
    as `coupproof data` takes them; default: the paper's) and written there."""
    from data_prep.panel import PanelOptions, build_panel, read_panel, write_panel
    from data_prep.sources import RawData, resolve_data_dir

    path = Path(path)
    if path.exists() or not build:
        if options is not None and path.exists():
            raise ValueError(f"{path}: a panel exists already; options apply only to a new build (write it elsewhere "
                             "or remove it)")
        return read_panel(path)
    from rich.console import Console

    data_dir = resolve_data_dir(data_dir)
    with Console(stderr=True).status(f"Building the panel from {data_dir} ..."):
        ds = build_panel(RawData(data_dir), options or PanelOptions())
        write_panel(ds, path)
    return ds


def _priors(priors: str | os.PathLike | dict | None) -> dict[str, Prior]:
    """Priors from a file or a packaged set's name ("regularising", "wide"), a {group: {dist: ..., ...}} dict
    (groups it does not name keep their defaults; base = a packaged set to start from), a parsed prior dict, or the
    defaults."""
    if priors is None or isinstance(priors, (str, os.PathLike)):
        return load_priors(priors)
    if all(isinstance(p, Prior) for p in priors.values()):
        return parse_priors(priors_config(priors), "the priors given")
    return parse_priors(dict(priors), "the priors given")


def _spec(model: str | ModelSpec, specs: str | os.PathLike | dict | None, options: dict) -> ModelSpec:
    """A spec from a packaged or user model name, a formula (with `options` as further spec fields) or a spec."""
    if isinstance(model, ModelSpec):
        return model
    if not isinstance(model, str):
        raise SpecError(f"a model is a name, a formula or a ModelSpec, got {type(model).__name__}")
    given = {k: v for k, v in options.items() if v not in (None, "", ())}
    if "~" in model:
        return ModelSpec(name=given.pop("name", "model"), formula=model, **given)
    if given:
        raise SpecError(f"model {model}: options such as family or sample are for a formula; to change a packaged "
                        f"model, write a spec with base = \"{model}\" (see docs/models.md)")
    return get_spec(model, specs if isinstance(specs, dict) else load_specs(specs))


class Model:
    """A model on a panel: its spec (formula, family, sample), priors, method and estimation data. Every problem
    with the spec or the panel (a variable the panel lacks, a family that does not fit the outcome, an empty
    sample) raises SpecError here, before any sampling."""

    def __init__(self, model: str | ModelSpec, panel: xr.Dataset | str | os.PathLike | None = None, *,
                 family: str | None = None, sample: str = "", name: str | None = None, count_formula: str = "",
                 focus: tuple[str, ...] = (), label: str = "", priors: str | os.PathLike | dict | None = None,
                 method: str | None = None, specs: str | os.PathLike | dict | None = None,
                 quadrature: QuadratureOptions = QuadratureOptions(), panel_path: str | os.PathLike | None = None):
        self.spec = _spec(model, specs, {"family": family, "sample": sample, "name": name, "label": label,
                                         "count_formula": count_formula, "focus": tuple(focus)})
        if panel is None or isinstance(panel, (str, os.PathLike)):
            panel_path = Path(panel) if panel is not None else DEFAULT_PANEL
            panel = load_panel(panel_path)
        self.panel = panel
        self.panel_path = "" if panel_path is None else str(panel_path)
        self.priors = _priors(priors)
        self.quadrature = quadrature
        self.method = self.spec.fit_method if method is None else method
        from models.builders import check_method

        check_method(self.spec, self.method)
        self.data: ModelData = model_data(panel_frame(panel), self.spec)

    @classmethod
    def from_fit(cls, tree: xr.DataTree, panel: xr.Dataset | str | os.PathLike | None = None) -> "Model":
        """The model a saved fit was made from, rebuilt from its record on `panel` (default: the panel path the fit
        records). A panel whose checksum differs from the fit's gives a warning."""
        from inference.record import PanelRef, fit_record

        record = fit_record(tree)
        if panel is None:
            panel = record.panel.path
            if not panel:
                raise ValueError(f"model {record.model}: the fit records no panel file (it was fitted on a panel held "
                                 "in memory); pass panel=")
        path = panel if isinstance(panel, (str, os.PathLike)) else None
        if path is not None:
            from data_prep.panel import read_panel

            panel = read_panel(path)
        checksum = PanelRef.of(panel).checksum
        if checksum != record.panel.checksum:
            warnings.warn(f"model {record.model}: the fit was made from another panel (checksum "
                          f"{record.panel.checksum[:12]}, this panel {checksum[:12]})", stacklevel=2)
        return cls(record.spec, panel, priors=record.priors, method=record.method, quadrature=record.quadrature,
                   panel_path=path)

    def __repr__(self) -> str:
        data = self.data
        group = f", {data.n_groups:,} groups ({self.spec.group}, {self.method})" if self.spec.group else ""
        return (f"Model({self.spec.name}: {' '.join(self.spec.formula.split())}, family {self.spec.family}; "
                f"{len(data.y):,} rows{group})")

    def build(self):
        """The PyMC model (models.builders.BuiltModel: .model is the pm.Model)."""
        from models.builders import build_model

        return build_model(self.data, self.priors, self.method, self.quadrature)

    def fit(self, draws: int = 1000, tune: int = 1000, chains: int = 2, sampler: str = "nutpie",
            seed: int = DEFAULT_SEED, target_accept: float = 0.85, adaptation: str = "low_rank", loglik_every: int = 2,
            group_outputs: bool = True, show: bool = True, ess_min: int | None = None) -> "Fit":
        """Sample the posterior (progress bar) and post-process it; prints the diagnostics (failures flagged in red)
        unless `show` is false. `ess_min`: the bulk and tail ESS the gate asks of every population parameter
        (default inference.diagnostics.ESS_MIN)."""
        from inference.diagnostics import ESS_MIN
        from inference.fitting import fit
        from inference.record import PanelRef
        from inference.settings import SamplerSettings

        settings = SamplerSettings(sampler=sampler, draws=draws, tune=tune, chains=chains, seed=seed,
                                   target_accept=target_accept, adaptation=adaptation,
                                   ess_min=ESS_MIN if ess_min is None else ess_min)
        if isinstance(loglik_every, bool) or not isinstance(loglik_every, int) or loglik_every < 1:
            raise ValueError(f"loglik_every must be a whole number >= 1, got {loglik_every!r}")
        tree, diagnostics = fit(self.data, self.priors, settings, self.method, self.quadrature,
                                panel=PanelRef.of(self.panel, self.panel_path), loglik_every=loglik_every,
                                group_outputs=group_outputs)
        result = Fit(tree, self, diagnostics)
        if show:
            result.print_diagnostics()
        return result

    def refit_priors(self, prior_sets: str | os.PathLike | None = None, draws: int = 1000, tune: int = 300,
                     chains: int = 2, seed: int = DEFAULT_SEED, scheduler: str | None = None,
                     cache: str | os.PathLike = "build/sensitivity/cache") -> dict[str, "Fit"]:
        """The model refitted under every prior set of a prior-set file (default: the packaged sets) and the
        default priors, fanned out on Dask (`scheduler`: an address, "serial", or None for a local cluster) and
        cached in `cache`; {prior set: Fit}. `coupproof sensitivity` does the same."""
        from inference.refits import Refit, check_builds, check_scheduler, load_prior_sets, run_refits
        from inference.settings import SamplerSettings
        from inference.store import load_fit as read_fit

        settings = SamplerSettings(draws=draws, tune=tune, chains=chains, seed=seed)
        sets = load_prior_sets(prior_sets)
        refits = [Refit(name, priors, settings, self.quadrature) for name, priors in sets.items()]
        for refit in refits:
            check_builds(self.data, refit)
        check_scheduler(scheduler)
        paths = run_refits(self.data, refits, Path(cache), str(self.panel.attrs.get("panel_checksum", "")), scheduler)
        return {name: Fit(read_fit(path), self) for name, path in paths.items()}

    def fit_frequentist(self) -> list:
        """The frequentist fit of every part (inference.frequentist.FitResult: estimates, clustered SEs)."""
        from inference.frequentist import fit_data

        return fit_data(self.data)


class Fit:
    """A fitted model: the DataTree (`.idata`) with its attrs, the model it came from, and its diagnostics."""

    def __init__(self, idata: xr.DataTree, model: Model | None = None, diagnostics=None,
                 panel: xr.Dataset | str | os.PathLike | None = None):
        self.idata = idata
        self._model = model
        self._panel = panel
        self._diagnostics = diagnostics
        self._record = None

    @property
    def record(self):
        """What the fit records about itself (inference.record.FitRecord: spec, priors, settings, panel, ...)."""
        if self._record is None:
            from inference.record import fit_record

            self._record = fit_record(self.idata)
        return self._record

    @property
    def spec(self) -> ModelSpec:
        return self._model.spec if self._model is not None else self.record.spec

    @property
    def model(self) -> Model:
        """The model, rebuilt from the fit's attrs and its panel on first use after loading."""
        if self._model is None:
            self._model = Model.from_fit(self.idata, self._panel)
        return self._model

    @property
    def data(self) -> ModelData:
        return self.model.data

    @property
    def population(self) -> list[str]:
        """The population parameters in the posterior (coefficients on the original scale, sds, cut points)."""
        from inference.fitting import population_names

        return [v for v in population_names(self.spec) if v in self.idata["posterior"]]

    @property
    def diagnostics(self):
        """R-hat, ESS, divergences and E-BFMI of the population parameters (inference.diagnostics.Diagnostics)."""
        if self._diagnostics is None:
            from inference.diagnostics import diagnose

            self._diagnostics = diagnose(self.idata, self.population, ess_min=self.record.sampler.ess_min)
        return self._diagnostics

    def __repr__(self) -> str:
        record = self.record
        post = self.idata["posterior"]
        verdict = "passed" if self.diagnostics.passed else "FAILED"
        return (f"Fit({record.model}: {record.spec.family}, method {record.method}, {post.sizes['chain']} "
                f"chains x {post.sizes['draw']} draws; diagnostics {verdict})")

    def summary(self, var_names: list[str] | None = None) -> pd.DataFrame:
        """Posterior mean, sd, 94% HDI, R-hat and ESS of the population parameters (or `var_names`)."""
        import arviz as az

        from inference.diagnostics import HDI_PROB

        return az.summary(self.idata, var_names=var_names or self.population, ci_prob=HDI_PROB, ci_kind="hdi")

    def print_diagnostics(self) -> None:
        """The summary table and the verdict on the console (a failed fit in red)."""
        from .display import print_diagnostics

        print_diagnostics(self.spec.name, self.diagnostics, self.record.wall_seconds)

    def plot_trace(self, var_names: list[str] | None = None, **kwargs):
        """Trace and marginal density of each population parameter (a matplotlib figure; nothing is saved)."""
        import arviz_plots as azp

        plots = azp.plot_trace_dist(self.idata, var_names=var_names or self.population, backend="matplotlib",
                                    **kwargs)
        return plots.viz["figure"].item()

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fit to netCDF (atomically: a temporary file, then renamed)."""
        from inference.store import save_fit

        return save_fit(self.idata, path)

    def power_scaling(self) -> pd.DataFrame:
        """Prior and likelihood power-scaling sensitivity of every population parameter (Kallioinen et al. 2023),
        with ArviZ's diagnosis (potential prior-data conflict, weak likelihood)."""
        from inference.fitting import ensure_log_densities
        from reports.prior_sensitivity import power_scaling

        if {"log_prior", "log_likelihood_total"} <= set(self.idata.children):
            return power_scaling(self.idata)
        return power_scaling(ensure_log_densities(self.idata, self.data))

    def group_effects(self) -> pd.DataFrame:
        """Each group's effect (posterior mean and sd, from its conditional posterior), with its labels, largest
        absolute effect first (marginal fits)."""
        if "group_effects" not in self.idata.children:
            raise ValueError(f"model {self.spec.name}: the fit has no group effects (method plain, or saved "
                             "without them)")
        table = self.idata["group_effects"].to_dataset().to_dataframe()
        return table.reindex(table["effect_mean"].abs().sort_values(ascending=False).index)

    def predictions(self, at: dict | None = None, **kwargs) -> pd.DataFrame:
        """Predicted outcomes at typical values, varying the variables in `at` (see inference.effects)."""
        from inference.effects import predictions

        return predictions(self.idata, self.data, at, **kwargs)

    def comparisons(self, variable: str, values=None, by: str | None = None, **kwargs) -> pd.DataFrame:
        """Contrasts of predictions between two values of `variable` (see inference.effects)."""
        from inference.effects import comparisons

        return comparisons(self.idata, self.data, variable, values, by, **kwargs)

    def slopes(self, variable: str, by: str | None = None, **kwargs) -> pd.DataFrame:
        """The derivative of predictions in `variable`, across `by` (see inference.effects)."""
        from inference.effects import slopes

        return slopes(self.idata, self.data, variable, by, **kwargs)


def load_fit(path: str | os.PathLike, panel: xr.Dataset | str | os.PathLike | None = None) -> Fit:
    """A fit saved by `Fit.save` or `coupproof fit`; its model is rebuilt from the fit's attrs on first use, on
    `panel` (default: the panel path the fit records)."""
    from inference.store import load_fit as read_fit

    return Fit(read_fit(path), panel=panel)


def paper_models() -> dict[str, ModelSpec]:
    """The paper's six models (packaged formulas)."""
    return dict(PAPER_MODELS)
