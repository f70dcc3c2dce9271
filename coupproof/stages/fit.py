"""The fit stage: Bayesian fits of models on a panel, saved as `<model>_<method>.nc`.

Each fit is refitted at the retry rule's length while it fails its diagnostics gate (up to `retries` times).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from inference.settings import SamplerSettings

from ..defaults import PANEL
from .base import Progress, at_least


@dataclass(frozen=True)
class FitSettings:
    """What to fit and how: the options of `coupproof fit`, checked on creation.

    Parameters
    ----------
    models : tuple of str, optional
        Names of models in `specs` (default: ("m4",)).
    panel : pathlib.Path, optional
        The panel built by `coupproof data`; default: build/panel.nc.
    specs : pathlib.Path, optional
        Your own model specs (TOML, see docs/models.md); default: the packaged ones.
    method : str, optional
        "marginal" (group intercepts integrated out) or "plain" (non-centred) for every model; default: each
        spec's own.
    priors : str or os.PathLike, optional
        A prior file (TOML) or a packaged set's name ("regularising", "wide"); default: the default priors.
    sampler : inference.settings.SamplerSettings, optional
        The NUTS settings (sampler, draws, tune, chains, seed, target_accept, adaptation, ess_min); default:
        SamplerSettings().
    loglik_every : int, optional
        Keep every k-th draw's per-group log-likelihood, for LOO (default: 2).
    retries : int, optional
        Refit a fit that fails its diagnostics at the retry rule's length (`SamplerSettings.longer`: twice the
        draws and tuning), up to this many times (default: 0, keep it flagged at once).
    formula : str, optional
        A formula to fit instead of named models (with `family`, and `models` its one name).
    family : str, optional
        The formula's family (default: bernoulli).
    data : pathlib.Path, optional
        Your own table file (.csv, .parquet, .dta, .rds/.rda, .nc) instead of `panel`.

    Raises
    ------
    ValueError
        If `loglik_every` is below 1 or `retries` below 0, naming the option.

    Examples
    --------
    >>> import coupproof as cp
    >>> from inference.settings import SamplerSettings
    >>> settings = cp.FitSettings(models=("m4",), sampler=SamplerSettings(draws=1000, tune=300), retries=1)
    """

    models: tuple[str, ...] = ("m4",)
    panel: Path = PANEL
    specs: Path | None = None
    method: str | None = None
    priors: str | os.PathLike | None = None
    sampler: SamplerSettings = field(default_factory=SamplerSettings)
    loglik_every: int = 2
    retries: int = 0
    formula: str = ""
    family: str = ""
    data: Path | None = None

    def __post_init__(self) -> None:
        at_least(self.loglik_every, 1, "loglik_every")
        self.sampler.retries(self.retries)
        if self.family and not self.formula:
            raise ValueError("family is for a formula; a named model's family is in its spec")
        if self.formula and len(self.models) != 1:
            raise ValueError("a formula is one model: give it one name")


def fit_path(folder: str | os.PathLike, name: str, method: str) -> Path:
    """Say where a model's fit is saved: `<folder>/<name>_<method>.nc` (the one definition of fit file names).

    Parameters
    ----------
    folder : str or os.PathLike
        The folder of saved fits, e.g. build/fits.
    name : str
        The model's name.
    method : str
        "marginal" or "plain".

    Returns
    -------
    pathlib.Path
        The fit's file.
    """
    return Path(folder) / f"{name}_{method}.nc"


def saved_fit_path(folder: str | os.PathLike, spec) -> Path:
    """Find a model's saved fit in `folder`: the spec's own method first, the other one where only that exists.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder of saved fits, e.g. build/fits.
    spec : models.specs.ModelSpec
        The model's spec.

    Returns
    -------
    pathlib.Path
        The fit's file (the own method's path when neither exists).
    """
    own = fit_path(folder, spec.name, spec.fit_method)
    other = fit_path(folder, spec.name, "plain" if spec.fit_method == "marginal" else "marginal")
    return other if not own.exists() and other.exists() else own


@dataclass
class FitsResult:
    """Fits by model name; `write(out)` saves each as `<name>_<method>.nc`, `read(out, specs)` loads them.

    Attributes
    ----------
    fits : dict of str to coupproof.Fit
        The fits by model name.

    Examples
    --------
    >>> import coupproof as cp
    >>> from models.specs import PAPER_MODELS
    >>> fits = cp.FitsResult.read("build/fits", {"m4": PAPER_MODELS["m4"]})
    >>> fits.fits["m4"].summary()
    """

    fits: dict  # model name -> coupproof.Fit

    def paths(self, out: str | os.PathLike) -> dict[str, Path]:
        """Say where `write` puts each fit.

        Parameters
        ----------
        out : str or os.PathLike
            The folder of saved fits.

        Returns
        -------
        dict of str to pathlib.Path
            Each fit's file by model name.
        """
        return {name: fit_path(out, name, fit.record.method) for name, fit in self.fits.items()}

    def write(self, out: str | os.PathLike) -> list[Path]:
        """Save every fit in `out` (atomically, one file each).

        Parameters
        ----------
        out : str or os.PathLike
            The folder of saved fits, e.g. build/fits.

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        return [self.fits[name].save(path) for name, path in self.paths(out).items()]

    @classmethod
    def read(cls, out: str | os.PathLike, specs: dict, missing_ok: bool = False) -> "FitsResult":
        """Load the saved fits of `specs` in `out`: each model's own method's file, else the other method's.

        Parameters
        ----------
        out : str or os.PathLike
            The folder of saved fits.
        specs : dict of str to models.specs.ModelSpec
            The models to load, by name.
        missing_ok : bool, optional
            Whether to leave out a model without a saved fit (default: False, an error).

        Returns
        -------
        FitsResult
            The fits by model name.

        Raises
        ------
        inference.record.FitFileError
            If a fit is not saved (unless `missing_ok`), cannot be read or was written by another version.
        """
        from ..api import load_fit

        fits = {}
        for name, spec in specs.items():
            path = saved_fit_path(out, spec)
            if missing_ok and not path.exists():
                continue
            fits[name] = load_fit(path)
        return cls(fits)

    @property
    def failed(self) -> list[str]:
        """The models whose fit failed its diagnostics gate."""
        return [name for name, fit in self.fits.items() if not fit.record.diagnostics_passed]


def prepare_models(settings: FitSettings, panel=None) -> list:
    """Make every model of the settings on the panel, checked (spec, priors, method, data) before any sampling.

    Parameters
    ----------
    settings : FitSettings
        The models, specs, priors, method and panel.
    panel : xarray.Dataset, optional
        The panel, if already read; default: read from `settings.panel`.

    Returns
    -------
    list of coupproof.Model
        One model per name in `settings.models`.

    Raises
    ------
    models.specs.SpecError
        If a model is unknown or does not fit the panel or the method.
    models.priors.PriorError
        If the priors cannot be read.
    """
    from data_prep.panel import read_panel
    from data_prep.user_table import load_data
    from models.priors import load_priors
    from models.specs import ModelSpec, get_spec, load_specs

    from ..api import Model

    if settings.formula:
        chosen = [ModelSpec(settings.models[0], settings.formula, family=settings.family or "bernoulli")]
    else:
        known = load_specs(settings.specs)
        chosen = [get_spec(name, known) for name in settings.models]
    priors = load_priors(settings.priors)
    source = settings.data or settings.panel
    if panel is None:  # a project panel where --panel names it (checked as one), any table where --data does
        panel = load_data(settings.data) if settings.data else read_panel(settings.panel)
    return [Model(spec, panel, priors=priors, method=settings.method, panel_path=source) for spec in chosen]


def fit_size(model, settings: FitSettings) -> int:
    """Estimate the bytes a model's saved fit and its retries take, for the free-space check before sampling.

    Uncompressed: the group log-likelihood of every `loglik_every`-th draw and a few hundred population quantities
    per draw, for the first attempt and every retry.

    Parameters
    ----------
    model : coupproof.Model
        The model (its number of groups).
    settings : FitSettings
        The sampler settings, `loglik_every` and `retries`.

    Returns
    -------
    int
        About how many bytes.

    Examples
    --------
    >>> fit_size(cp.Model("m4", cp.load_panel()), cp.FitSettings(retries=1)) / 1e6  # MB
    """
    draws = sum(s.draws for s in [settings.sampler, *settings.sampler.retries(settings.retries)])
    per_draw = max(model.data.n_groups, 1) / settings.loglik_every + 500
    return int(8 * draws * settings.sampler.chains * per_draw) + 10_000_000


def fit_until_passed(model, settings: FitSettings, progress: Progress,
                     on_failed: Callable[[int, object], None] | None = None):
    """Fit one model, refitting it at the retry rule's length while it fails its gate (at most `retries` times).

    Parameters
    ----------
    model : coupproof.Model
        The model.
    settings : FitSettings
        The sampler settings, `loglik_every` and `retries`.
    progress : Progress
        Where the stage says what it is doing (a quiet one also keeps the diagnostics from being printed).

    on_failed : collections.abc.Callable, optional
        Called as `on_failed(attempt, fit)` with each attempt that failed its gate before a retry (1 for the
        first), so that its sampling time is kept (the command line saves it beside the final fit).

    Returns
    -------
    coupproof.Fit
        The first fit that passes its gate, or the last one tried (flagged).
    """
    sampler = settings.sampler
    for attempt in range(settings.retries + 1):
        result = model.fit(draws=sampler.draws, tune=sampler.tune, chains=sampler.chains, sampler=sampler.sampler,
                           seed=sampler.seed, target_accept=sampler.target_accept, adaptation=sampler.adaptation,
                           warm_start=sampler.warm_start, loglik_every=settings.loglik_every,
                           ess_min=sampler.ess_min, show=not progress.quiet)
        if result.diagnostics.passed or attempt == settings.retries:
            return result
        if on_failed is not None:
            on_failed(attempt + 1, result)
        sampler = sampler.longer()
        progress.note(f"[yellow]Refitting {model.spec.name} at {sampler.draws} draws and {sampler.tune} tuning "
                      "iterations per chain[/] (retries)")
    raise AssertionError("unreachable")


def fit_models(settings: FitSettings, progress: Progress | None = None,
               on_fit: Callable[[str, object], None] | None = None, models: list | None = None,
               on_failed: Callable[[str, int, object], None] | None = None) -> FitsResult:
    """Fit every model of `settings`, each checked first, and each refitted while it fails its diagnostics.

    `coupproof fit` runs this stage and saves each fit as it is made.

    Parameters
    ----------
    settings : FitSettings
        The models, panel, priors and sampler settings.
    progress : Progress, optional
        Where the stage says what it is doing; default: notes and the diagnostics on stderr.
    on_fit : collections.abc.Callable, optional
        Called as `on_fit(name, fit)` after each model (the command line saves the fit there, so that a later
        failure keeps the earlier fits).
    models : list of coupproof.Model, optional
        The models, already checked; default: `prepare_models(settings)`.
    on_failed : collections.abc.Callable, optional
        Called as `on_failed(name, attempt, fit)` with each attempt that failed its gate before a retry.

    Returns
    -------
    FitsResult
        The fits by model name, held in memory until written.

    Raises
    ------
    models.specs.SpecError
        If a model is unknown or does not fit the panel (before any sampling).
    models.priors.PriorError
        If the priors cannot be read (before any sampling).

    Examples
    --------
    >>> import coupproof as cp
    >>> from inference.settings import SamplerSettings
    >>> fits = cp.fit_models(cp.FitSettings(models=("m4",), sampler=SamplerSettings(draws=1000, tune=300), retries=1))
    >>> fits.write("build/fits")  # build/fits/m4_marginal.nc
    >>> fits.failed  # the models whose fit failed its diagnostics gate
    """
    progress = progress or Progress()
    models = prepare_models(settings) if models is None else models
    fits = {}
    for model in models:
        data = model.data
        groups = f"{data.n_groups:,} groups ({model.spec.group}), " if model.spec.group else ""
        title = f"{model.spec.label} ({model.spec.name})" if model.spec.label else model.spec.name
        left_out = f" ({data.incomplete:,} with a missing value left out)" if data.incomplete else ""
        progress.note(f"[bold]Fitting {title}[/]: {len(data.y):,} rows{left_out}, {groups}"
                      f"{int((data.y > 0).sum())} events, family {model.spec.family}, method {model.method}, "
                      f"{settings.sampler.sampler}")
        failed = None if on_failed is None else functools.partial(on_failed, model.spec.name)
        fits[model.spec.name] = fit_until_passed(model, settings, progress, failed)
        if on_fit is not None:
            on_fit(model.spec.name, fits[model.spec.name])
    return FitsResult(fits)


