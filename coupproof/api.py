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

from data_prep.panel import content_checksum, panel_frame
from data_prep.user_table import TABLE_DESIGN, as_dataset, is_project_panel, load_data

from .defaults import PANEL
from models.design import MissingVariables, ModelData, model_data
from models.priors import Prior, load_priors, parse_priors, priors_config
from models.quadrature import QuadratureOptions
from inference.settings import DEFAULT_SEED
from models.specs import PAPER_MODELS, ModelSpec, SpecError, get_spec, load_specs

DEFAULT_PANEL = PANEL


def load_panel(path: str | os.PathLike = DEFAULT_PANEL, data_dir: str | os.PathLike | None = None,
               build: bool = True, options=None) -> xr.Dataset:
    """Read a panel, building it from the raw files where it does not exist yet.

    The panel at `path` is read as it is. Where there is none and `build` is true, the dyad panel is built from the
    raw files in `data_dir` with `options` and written to `path`, so that the next call only reads it.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The panel file (netCDF); default: build/panel.nc.
    data_dir : str or os.PathLike, optional
        The raw data directory (one folder per source); default: $COUPPROOF_DATA_DIR or ../shared/data/raw.
    build : bool, optional
        Whether to build a panel that does not exist (default: True); with False a missing panel is an error.
    options : data_prep.panel.PanelOptions, optional
        The choices that define a new panel, as `coupproof data` takes them (default: the paper's); they apply only
        to a new build.

    Returns
    -------
    xarray.Dataset
        The panel (dims dyad and year for the dyad design), its checksum and substituted sources in its attrs.

    Raises
    ------
    ValueError
        If `options` are given while a panel exists at `path` already (write it elsewhere or remove it).
    data_prep.sources.DataError
        If the panel file cannot be read, or is missing while `build` is false, or a raw file is missing or damaged.

    Examples
    --------
    >>> import coupproof as cp
    >>> panel = cp.load_panel()  # build/panel.nc, built from the raw files if missing
    >>> from data_prep.panel import PanelOptions
    >>> panel5 = cp.load_panel("build/panel_polity5.nc", options=PanelOptions(max_polity_a=5))
    """
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
    """Read priors from a file, a packaged set's name, a dict, or take the defaults.

    `priors` is a prior file or a packaged set's name ("regularising", "wide"), a {group: {dist: ..., ...}} dict
    (groups it does not name keep their defaults; base = a packaged set to start from), a parsed prior dict, or None
    for the defaults.
    """
    if priors is None or isinstance(priors, (str, os.PathLike)):
        return load_priors(priors)
    if all(isinstance(p, Prior) for p in priors.values()):
        return parse_priors(priors_config(priors), "the priors given")
    return parse_priors(dict(priors), "the priors given")


def _spec(model: str | ModelSpec, specs: str | os.PathLike | dict | None, options: dict) -> ModelSpec:
    """Make a spec from a packaged or user model name, a formula (with `options` as further spec fields) or a spec."""
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
    """A model on a panel: its spec (formula, family, sample), priors, method and estimation data.

    Every problem with the spec or the panel (a variable the panel lacks, a family that does not fit the outcome, an
    empty sample) raises SpecError here, before any sampling.

    Parameters
    ----------
    model : str or models.specs.ModelSpec
        A packaged model's name ("m4"), the name of a model in `specs`, a formula with its group intercept
        ("new_defense_pact ~ counterbalancing_a * threat_b + threat_a + (1 | dyad)") or a spec.
    panel : xarray.Dataset, pandas.DataFrame, str or os.PathLike, optional
        The data: a project panel, any table (a DataFrame, an xarray Dataset of any dims) or the path of a panel or
        table file (.csv, .parquet, .dta, .rds/.rda, .nc; a file records its path and checksum in the fit; a file
        that does not exist is an error); default: build/panel.nc (built from the raw files if missing). Groupings are columns named in the formula:
        (1 | ccode1:ccode2) for one group per combination, (1 | pair(ccode1, ccode2)) for the pair in either order.
    family : str, optional
        For a formula: bernoulli (logit), hurdle_poisson, hurdle_negbinomial or cumulative (ordinal logit);
        default: bernoulli.
    sample : str, optional
        For a formula: a boolean panel variable selecting the estimation rows; default: every row with the model's
        variables present.
    name : str, optional
        For a formula: the model's name, used in output file names; default: "model".
    count_formula : str, optional
        For a hurdle formula: the terms of the count part; default: the same as the formula's.
    focus : tuple of str, optional
        For a formula: the interaction the reports centre on; default: the formula's first two-way interaction.
    label : str, optional
        For a formula: the model's label in progress lines and reports.
    priors : str, os.PathLike or dict, optional
        A prior file (TOML), a packaged set's name ("regularising", "wide") or a {group: {dist: ...}} dict (groups it
        does not name keep their defaults); default: models/priors/default.toml.
    method : str, optional
        "marginal" (the group intercepts integrated out) or "plain" (sampled, non-centred); default: the spec's.
    specs : str, os.PathLike or dict, optional
        Your own model specs: a TOML file (see docs/models.md) or {name: ModelSpec}; default: the packaged ones.
    quadrature : models.quadrature.QuadratureOptions, optional
        The marginal method's quadrature settings; default: QuadratureOptions().
    integrate : str, optional
        For a formula with several groupings: the one the kernel integrates out (the others are sampled); default:
        the one with the most groups.
    panel_path : str or os.PathLike, optional
        The file a panel given in memory was read from, recorded in the fit so that a saved fit can find its panel
        again; a panel given as a path records that path.

    Attributes
    ----------
    spec : models.specs.ModelSpec
        The model's spec.
    panel : xarray.Dataset
        The panel.
    panel_path : str
        The panel's file ("" for a panel held in memory without one).
    panel_ref : inference.record.PanelRef
        The panel as the model's data were taken from it (file, content checksum, substitutes), as fits record it.
    priors : dict of str to models.priors.Prior
        The priors by group.
    quadrature : models.quadrature.QuadratureOptions
        The marginal method's quadrature settings.
    method : str
        "marginal" or "plain".
    data : models.design.ModelData
        The estimation data: outcome, design matrix and labelled groups.

    Raises
    ------
    models.specs.SpecError
        If the spec does not fit the panel, a method the model cannot use is asked for, or a packaged model is given
        options meant for a formula.
    models.priors.PriorError
        If the priors cannot be read.

    Examples
    --------
    >>> import coupproof as cp
    >>> panel = cp.load_panel()
    >>> model = cp.Model("m4", panel)
    >>> mine = cp.Model("new_defense_pact ~ counterbalancing_a * threat_b + threat_a + (1 | dyad)", panel,
    ...                 name="mine", priors="wide")
    >>> fit = model.fit(draws=1000, chains=2)
    """

    def __init__(self, model: str | ModelSpec, panel: xr.Dataset | str | os.PathLike | None = None, *,
                 family: str | None = None, sample: str = "", name: str | None = None, count_formula: str = "",
                 focus: tuple[str, ...] = (), label: str = "", priors: str | os.PathLike | dict | None = None,
                 method: str | None = None, specs: str | os.PathLike | dict | None = None,
                 quadrature: QuadratureOptions = QuadratureOptions(), panel_path: str | os.PathLike | None = None,
                 integrate: str = ""):
        self.spec = _spec(model, specs, {"family": family, "sample": sample, "name": name, "label": label,
                                         "count_formula": count_formula, "focus": tuple(focus),
                                         "integrate": integrate})
        if panel is None:  # the project's panel, built from the raw files where it is missing
            panel_path = DEFAULT_PANEL
            panel = load_panel(panel_path)
        elif isinstance(panel, (str, os.PathLike)):  # a project panel or any table file; a missing one is an error
            panel_path = Path(panel)
            panel = load_data(panel_path)
        else:
            panel = as_dataset(panel)
        from inference.record import PanelRef

        self.panel = panel
        checksum = content_checksum(panel)  # once: the frame's cache key, the source file's check and the fit's record
        self.panel_path = _source_file(panel, checksum) if panel_path is None else str(panel_path)
        self.panel_ref = PanelRef.of(panel, self.panel_path, checksum)
        self.priors = _priors(priors)
        self.quadrature = quadrature
        self.method = self.spec.fit_method if method is None else method
        from models.builders import check_method

        check_method(self.spec, self.method)
        try:
            self.data: ModelData = model_data(panel_frame(panel, checksum), self.spec)
        except SpecError as exc:
            raise SpecError(_naming_the_table(exc, panel, panel_path)) from None
        self.spec = self.data.spec  # with the grouping the kernel integrates out named, where there are several

    @classmethod
    def from_fit(cls, tree: xr.DataTree, panel: xr.Dataset | str | os.PathLike | None = None) -> "Model":
        """Rebuild the model a saved fit was made from, from the fit's record.

        The spec, priors, method and quadrature settings come from the record; the data come from `panel`. A panel
        whose checksum differs from the fit's gives a warning.

        Parameters
        ----------
        tree : xarray.DataTree
            The saved fit (as `inference.store.load_fit` reads it).
        panel : xarray.Dataset, str or os.PathLike, optional
            The panel, or its file; default: the panel file the fit records.

        Returns
        -------
        Model
            The model, ready to refit or to compute effects with.

        Raises
        ------
        ValueError
            If `panel` is not given and the fit records no panel file (it was fitted on a panel held in memory).
        inference.record.FitFileError
            If the fit's record cannot be read.

        Examples
        --------
        >>> import coupproof as cp
        >>> from inference.store import load_fit
        >>> model = cp.Model.from_fit(load_fit("build/fits/m4_marginal.nc"))
        """
        from inference.record import fit_record

        record = fit_record(tree)
        if panel is None:
            panel = record.panel.file_to_read(f"model {record.model}", "pass panel= (--panel)")
        path = panel if isinstance(panel, (str, os.PathLike)) else None
        if path is not None:
            panel = load_data(path)
        model = cls(record.spec, panel, priors=record.priors, method=record.method, quadrature=record.quadrature,
                    panel_path=path)
        checksum = model.panel_ref.checksum
        if checksum != record.panel.checksum:
            warnings.warn(f"model {record.model}: the fit was made from another panel (checksum "
                          f"{record.panel.checksum[:12]}, this panel {checksum[:12]})", stacklevel=2)
        return model

    def __repr__(self) -> str:
        data = self.data
        group = f", {data.n_groups:,} groups ({self.spec.group}, {self.method})" if self.spec.group else ""
        return (f"Model({self.spec.name}: {' '.join(self.spec.formula.split())}, family {self.spec.family}; "
                f"{len(data.y):,} rows{group})")

    def build(self):
        """Build the PyMC model.

        Returns
        -------
        models.builders.BuiltModel
            The built model; its `.model` is the pymc.Model.
        """
        from models.builders import build_model

        return build_model(self.data, self.priors, self.method, self.quadrature)

    def fit(self, draws: int = 1000, tune: int = 1000, chains: int = 2, sampler: str = "nutpie",
            seed: int = DEFAULT_SEED, target_accept: float = 0.85, adaptation: str = "auto", loglik_every: int = 2,
            group_outputs: bool = True, show: bool = True, ess_min: int | None = None,
            warm_start: str = "none") -> "Fit":
        """Sample the posterior (progress bar) and post-process it.

        The diagnostics (R-hat, ESS, divergences, E-BFMI) are printed, failures flagged in red, unless `show` is
        false. The defaults are those of `coupproof fit`.

        Parameters
        ----------
        draws : int, optional
            Draws per chain after tuning (default: 1000).
        tune : int, optional
            Tuning iterations per chain (default: 1000).
        chains : int, optional
            Number of chains (default: 2).
        sampler : str, optional
            NUTS implementation: "nutpie" (default), "numpyro" or "pymc".
        seed : int, optional
            Random seed (default: inference.settings.DEFAULT_SEED).
        target_accept : float, optional
            NUTS target acceptance rate, strictly between 0 and 1 (default: 0.85).
        adaptation : str, optional
            nutpie's mass matrix: "auto" (default: "diag" where sampled groupings sit beside the integrated one,
            else "low_rank"), "low_rank" (learns the correlations between an interaction and its constitutive
            terms) or "diag".
        loglik_every : int, optional
            Keep the per-group log-likelihood of every k-th draw, for LOO (default: 2).
        group_outputs : bool, optional
            Whether a marginal fit keeps each group's log-likelihood (for LOO) and effect (default: True; the
            prior-sensitivity refits leave them out).
        show : bool, optional
            Whether to print the diagnostics (default: True).
        ess_min : int, optional
            The bulk and tail ESS the diagnostics gate asks of every population parameter (default:
            inference.diagnostics.ESS_MIN).
        warm_start : str, optional
            "laplace": every chain starts at the posterior mode and NUTS samples in coordinates whitened by the
            Laplace covariance there (saved as the fit's `laplace` group); "none" (default): NUTS starts from the
            model's initial point.

        Returns
        -------
        Fit
            The fit, with its diagnostics; a fit that fails the gate is returned too, flagged.

        Raises
        ------
        ValueError
            If a sampler setting is out of range (the message names it), e.g. `loglik_every` below 1.

        Examples
        --------
        >>> import coupproof as cp
        >>> fit = cp.Model("m4").fit(draws=1000, tune=1000, chains=2)
        >>> fit.diagnostics.passed
        """
        from inference.diagnostics import ESS_MIN
        from inference.fitting import fit
        from inference.settings import SamplerSettings

        settings = SamplerSettings(sampler=sampler, draws=draws, tune=tune, chains=chains, seed=seed,
                                   target_accept=target_accept, adaptation=adaptation,
                                   ess_min=ESS_MIN if ess_min is None else ess_min, warm_start=warm_start)
        if isinstance(loglik_every, bool) or not isinstance(loglik_every, int) or loglik_every < 1:
            raise ValueError(f"loglik_every must be a whole number >= 1, got {loglik_every!r}")
        tree, diagnostics = fit(self.data, self.priors, settings, self.method, self.quadrature,
                                panel=self.panel_ref, loglik_every=loglik_every,
                                group_outputs=group_outputs)
        result = Fit(tree, self, diagnostics)
        if show:
            result.print_diagnostics()
        return result

    def refit_priors(self, prior_sets: str | os.PathLike | None = None, draws: int = 1000, tune: int = 300,
                     chains: int = 2, seed: int = DEFAULT_SEED, scheduler: str | None = None,
                     cache: str | os.PathLike = "build/sensitivity/cache") -> dict[str, "Fit"]:
        """Refit the model under every prior set of a prior-set file and under the default priors.

        The refits are fanned out on Dask and cached, as `coupproof sensitivity` does; a refit already in the cache
        is read, not refitted.

        Parameters
        ----------
        prior_sets : str or os.PathLike, optional
            The prior-set file (TOML); default: the packaged one, models/priors/sensitivity.toml.
        draws : int, optional
            Draws per chain of each refit (default: 1000).
        tune : int, optional
            Tuning iterations per chain of each refit (default: 300).
        chains : int, optional
            Chains per refit (default: 2).
        seed : int, optional
            Random seed, the same for every prior set (default: inference.settings.DEFAULT_SEED).
        scheduler : str, optional
            A Dask scheduler address (tcp://host:8786), "serial", or None for a local cluster on this machine.
        cache : str or os.PathLike, optional
            The folder of cached refits; default: build/sensitivity/cache.

        Returns
        -------
        dict of str to Fit
            The fit under each prior set, "default" included.

        Raises
        ------
        models.priors.PriorError
            If the prior-set file cannot be read (an unknown parameter, distribution or argument).
        inference.refits.SensitivityError
            If a set's model cannot be built, or the Dask scheduler cannot be reached (both before any fitting).

        Examples
        --------
        >>> import coupproof as cp
        >>> fits = cp.Model("m4").refit_priors("my_sets.toml", scheduler="serial")
        >>> fits["default"].summary()
        """
        from inference.refits import Refit, check_builds, check_scheduler, load_prior_sets, run_refits
        from inference.settings import SamplerSettings
        from inference.store import load_fit as read_fit

        settings = SamplerSettings(draws=draws, tune=tune, chains=chains, seed=seed)
        sets = load_prior_sets(prior_sets)
        refits = [Refit(name, priors, settings, self.quadrature) for name, priors in sets.items()]
        for refit in refits:
            check_builds(self.data, refit)
        check_scheduler(scheduler)
        paths = run_refits(self.data, refits, Path(cache), self.panel_ref.checksum, scheduler)
        return {name: Fit(read_fit(path), self) for name, path in paths.items()}

    def fit_frequentist(self) -> list:
        """Fit every part of the model by maximum likelihood as the paper does: pooled, clustered SEs.

        SEs are clustered on the formula's grouping (with dyad-robust SEs on a dyadic design). For the multilevel
        model's own frequentist twin, see `fit_mle`.

        Returns
        -------
        list of inference.frequentist.FitResult
            One fit per part (a logit has one, a hurdle model two); each prints as its table of estimates, SEs, z
            and p, and `.table` is that table.
        """
        from inference.frequentist import fit_data

        return fit_data(self.data)

    def fit_laplace(self, draws: int = 1000, seed: int = 0) -> xr.Dataset:
        """Draw an approximate posterior in seconds from the Laplace approximation at the posterior mode.

        For exploration only, and labelled so (the dataset's `approximation` attr): the mode is found by L-BFGS on
        the exact log density and the covariance from the Hessian there (inference.warm_start). Far from NUTS
        where a posterior is skewed (a group sd near 0) or for non-centred groupings (their joint mode is not where
        the posterior is); `make bench` reports its distance to NUTS.

        Parameters
        ----------
        draws : int, optional
            Number of draws (default: 1000).
        seed : int, optional
            Random seed of the normal draws (default: 0).

        Returns
        -------
        xarray.Dataset
            One chain of `draws` draws of every free variable and deterministic (`coef`, the sds, ...).

        Examples
        --------
        >>> import coupproof as cp
        >>> approx = cp.Model("m4").fit_laplace(draws=2000)
        >>> approx["coef"].mean(("chain", "draw"))
        """
        from inference.warm_start import laplace, laplace_draws

        model = self.build().model
        return laplace_draws(model, laplace(model), draws=draws, seed=seed)

    def fit_mle(self) -> pd.DataFrame:
        """Fit the multilevel logit's frequentist twin: the random-intercept model by maximum likelihood.

        The group intercepts are integrated out by the kernel's exact quadrature (lme4's `glmer(nAGQ=)` is the
        anchor); it takes seconds.

        Returns
        -------
        pandas.DataFrame
            Estimate, SE (inverse negative Hessian), z and p of the intercept and slopes (original scale) and the
            group sd, by term; the log-likelihood, iterations and convergence in `.attrs`.

        Raises
        ------
        models.specs.SpecError
            If the model is not a logit with one group intercept and no year or further group intercepts.
        """
        from inference.marginal_mle import mle_table
        from models.specs import SpecError

        spec = self.spec
        family = spec.family_info
        if not family.marginal or family.is_hurdle or spec.group is None or spec.year_effects or spec.parsed.sampled:
            raise SpecError(f"model {spec.name}: the marginal MLE is for a logit with one group intercept and no "
                            "(1 | year); use fit_frequentist for the others")
        return mle_table(self.data, self.quadrature)


class Fit:
    """A fitted model: the DataTree (`.idata`) with its attrs, the model it came from, and its diagnostics.

    A fit is made by `Model.fit` or read by `load_fit`; a loaded fit rebuilds its model from its record on first use.

    Parameters
    ----------
    idata : xarray.DataTree
        The posterior and its companions (log-likelihood, group effects, ...), the fit's record in its attrs.
    model : Model, optional
        The model it was fitted from; default: rebuilt from the record when first needed.
    diagnostics : inference.diagnostics.Diagnostics, optional
        Its diagnostics; default: computed when first needed.
    panel : xarray.Dataset, str or os.PathLike, optional
        The panel to rebuild the model on; default: the panel file the fit records.

    Attributes
    ----------
    idata : xarray.DataTree
        The posterior and its companions.

    Examples
    --------
    >>> import coupproof as cp
    >>> fit = cp.load_fit("build/fits/m4_marginal.nc")
    >>> fit.summary()
    >>> fit.slopes("counterbalancing_a", by="threat_b")
    >>> figure = fit.plot_trace()
    """

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
        """The model's spec (formula, family, sample)."""
        return self._model.spec if self._model is not None else self.record.spec

    @property
    def model(self) -> Model:
        """The model, rebuilt from the fit's attrs and its panel on first use after loading."""
        if self._model is None:
            self._model = Model.from_fit(self.idata, self._panel)
        return self._model

    @property
    def data(self) -> ModelData:
        """The model's estimation data (outcome, design, labelled groups)."""
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
        """Summarise the posterior: mean, sd, 94% HDI, R-hat and ESS of each parameter.

        Parameters
        ----------
        var_names : list of str, optional
            The parameters to summarise; default: the population parameters.

        Returns
        -------
        pandas.DataFrame
            One row per parameter (and coefficient), as ArviZ's summary gives it.
        """
        import arviz as az

        from inference.diagnostics import HDI_PROB

        return az.summary(self.idata, var_names=var_names or self.population, ci_prob=HDI_PROB, ci_kind="hdi")

    def print_diagnostics(self) -> None:
        """Print the diagnostics table, the priors in words and the verdict on the console (a failed fit in red)."""
        from .display import print_diagnostics

        print_diagnostics(self.spec.name, self.diagnostics, self.record.wall_seconds, self.record.describe_priors(),
                          self.record.sampler.draws)

    def plot_trace(self, var_names: list[str] | None = None, **kwargs):
        """Draw the trace and marginal density of each population parameter, one row per coefficient.

        Each row is labelled with its parameter (`compact=True` draws a vector's elements on one axis instead).
        Nothing is saved, closed or switched: the figure is returned to show or save.

        Parameters
        ----------
        var_names : list of str, optional
            The parameters to draw; default: the population parameters.
        **kwargs
            Passed on to arviz_plots.plot_trace_dist.

        Returns
        -------
        matplotlib.figure.Figure
            The figure.
        """
        import arviz_plots as azp

        kwargs.setdefault("compact", False)
        plots = azp.plot_trace_dist(self.idata, var_names=var_names or self.population, backend="matplotlib",
                                    **kwargs)
        return plots.viz["figure"].item()

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fit to netCDF, atomically (a temporary file, then renamed).

        Parameters
        ----------
        path : str or os.PathLike
            The file, e.g. build/fits/m4_marginal.nc (`coupproof fit` names it <model>_<method>.nc).

        Returns
        -------
        pathlib.Path
            The file written.
        """
        from data_prep.io import check_output
        from inference.store import save_fit

        check_output(path, folder=False, inputs=[self.record.panel.path or None], what="fit")
        return save_fit(self.idata, path)

    def power_scaling(self) -> pd.DataFrame:
        """Measure prior and likelihood power-scaling sensitivity of every population parameter.

        Power-scaling (Kallioinen et al. 2023) asks how much each posterior moves when the prior or the likelihood is
        made a little stronger or weaker; ArviZ's diagnosis names a potential prior-data conflict or a weak
        likelihood.

        Returns
        -------
        pandas.DataFrame
            One row per parameter: prior and likelihood sensitivity and the diagnosis.
        """
        from inference.fitting import ensure_log_densities
        from reports.prior_sensitivity import power_scaling

        if {"log_prior", "log_likelihood_total"} <= set(self.idata.children):
            return power_scaling(self.idata)
        return power_scaling(ensure_log_densities(self.idata, self.data))

    def group_effects(self) -> pd.DataFrame:
        """List each group's effect with its labels, largest absolute effect first (marginal fits).

        Each effect's posterior mean and sd come from its conditional posterior; a dyad's labels are ccode_a,
        ccode_b, stateabb_a and stateabb_b: join on those. The index, `group`, is the group's position among the
        model's groups (`model.data.group_labels`), not the panel's dyad index.

        Returns
        -------
        pandas.DataFrame
            One row per group, indexed by `group`.

        Raises
        ------
        ValueError
            If the fit has no group effects (method plain, or saved without them).
        """
        if "group_effects" not in self.idata.children:
            raise ValueError(f"model {self.spec.name}: the fit has no group effects (method plain, or saved "
                             "without them)")
        table = self.idata["group_effects"].to_dataset().to_dataframe().rename_axis("group")
        return table.reindex(table["effect_mean"].abs().sort_values(ascending=False).index)

    def predictions(self, at: dict | None = None, **kwargs) -> pd.DataFrame:
        """Predict the outcome at typical values, varying the variables in `at` (see inference.effects).

        Parameters
        ----------
        at : dict, optional
            {variable: values} to vary, values a list or "range" (a grid over the variable's range); other variables
            stay at typical values.
        **kwargs
            Passed on to inference.effects.predictions (kinds, prob, every, points, draws; `newdata=` a DataFrame
            of rows to predict at, `average=True` the average over the sample's rows, or newdata's).

        Returns
        -------
        pandas.DataFrame
            One row per grid point, kind and quantity with the posterior mean and HDI (with `draws=True`, the
            draws as an xarray.DataArray).
        """
        from inference.effects import predictions

        return predictions(self.idata, self.data, at, **kwargs)

    def comparisons(self, variable: str, values=None, by: str | None = None, **kwargs) -> pd.DataFrame:
        """Contrast predictions between two values of `variable` (see inference.effects).

        Parameters
        ----------
        variable : str
            The variable whose values are contrasted.
        values : tuple or list of tuple, optional
            A pair (low, high) or a list of pairs; default: 0 and 1 for a 0/1 variable, each level against the
            first for categories, the mean and the mean + 1 sd otherwise.
        by : str, optional
            A variable across whose grid the contrast is given.
        **kwargs
            Passed on to inference.effects.comparisons (kinds, prob, every, points, draws; `newdata=` rows to
            contrast at, `average=True` the average contrast over the sample's rows: avg_comparisons).

        Returns
        -------
        pandas.DataFrame
            One row per grid point, kind and quantity with the posterior mean and HDI of the difference.
        """
        from inference.effects import comparisons

        return comparisons(self.idata, self.data, variable, values, by, **kwargs)

    def slopes(self, variable: str, by: str | None = None, **kwargs) -> pd.DataFrame:
        """Compute the derivative of predictions in `variable`, across `by` (see inference.effects).

        Parameters
        ----------
        variable : str
            The variable to differentiate in.
        by : str, optional
            A variable across whose range (25 points by default) the slope is given.
        **kwargs
            Passed on to inference.effects.slopes (kinds, prob, every, points, step, cross_partial, draws);
            `cross_partial=True` adds the interaction effect on the outcome's scale (Ai & Norton 2003); `newdata=`
            rows to differentiate at, `average=True` the average slope over the sample's rows (avg_slopes).

        Returns
        -------
        pandas.DataFrame
            One row per grid point, kind and quantity with the posterior mean and HDI of the slope.
        """
        from inference.effects import slopes

        return slopes(self.idata, self.data, variable, by, **kwargs)


def load_fit(path: str | os.PathLike, panel: xr.Dataset | str | os.PathLike | None = None) -> Fit:
    """Load a fit saved by `Fit.save` or `coupproof fit`.

    Its model is rebuilt from the fit's record on first use, on `panel`; a panel whose checksum differs from the
    fit's gives a warning.

    Parameters
    ----------
    path : str or os.PathLike
        The fit file, e.g. build/fits/m4_marginal.nc.
    panel : xarray.Dataset, str or os.PathLike, optional
        The panel to rebuild the model on; default: the panel file the fit records.

    Returns
    -------
    Fit
        The fit.

    Raises
    ------
    inference.record.FitFileError
        If the file is missing, cannot be read, is not a fit or was written by another version of coupproof.

    Examples
    --------
    >>> import coupproof as cp
    >>> fit = cp.load_fit("build/fits/m4_marginal.nc")
    >>> fit.record.sampler.draws, fit.record.diagnostics_passed
    """
    from inference.store import load_fit as read_fit

    return Fit(read_fit(path), panel=panel)


def _naming_the_table(error: SpecError, data: xr.Dataset, path: str | os.PathLike | None) -> str:
    """Word a data error about the user's own table for a table, naming its file.

    Columns the table lacks are named as columns, with the columns it has (a CSV read with the wrong separator shows
    up as one long column).
    """
    message = str(error)
    if isinstance(error, MissingVariables) and not is_project_panel(data):
        dims = [] if data.attrs.get("design") == TABLE_DESIGN else list(data.dims)  # a table's rows are not a column
        columns = [str(c) for c in [*dims, *data.data_vars] if c != "in_panel"]
        shown = ", ".join(columns[:12]) + (f" and {len(columns) - 12} more" if len(columns) > 12 else "")
        message = f"model {error.model}: the table has no column(s) {', '.join(error.missing)}; it has {shown}"
    return f"{path}: {message}" if path is not None else message


def _source_file(panel: xr.Dataset, checksum: str) -> str:
    """Name the file a panel was read from (xarray keeps it in `encoding`), if the panel still holds its content.

    The content is the file's when its checksum (`checksum`, the panel's content_checksum) is the one recorded at
    the build; "" for a panel built or changed in memory, so that a fit never names a file that does not hold its
    data.
    """
    source = str(panel.encoding.get("source", ""))
    if not source or not Path(source).is_file():
        return ""
    return source if checksum == str(panel.attrs.get("panel_checksum", "")) else ""


def paper_models() -> dict[str, ModelSpec]:
    """List the paper's six models (the packaged formulas of Tables 1 and 2).

    Returns
    -------
    dict of str to models.specs.ModelSpec
        m1 to m4 (Table 1) and h1, h2 (Table 2), by name.
    """
    return dict(PAPER_MODELS)
