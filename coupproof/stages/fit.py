"""The fit stage: Bayesian fits of models on a panel, each refitted at the retry rule's length while it fails its
diagnostics gate (up to `retries` times), saved as `<model>_<method>.nc`."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from inference.settings import SamplerSettings

from ..defaults import FITS, PANEL
from .base import Progress, at_least


@dataclass(frozen=True)
class FitSettings:
    """What to fit and how. `models` are names of `specs` (default: the paper's models); `method` overrides each
    spec's (marginal or plain); `priors` is a prior file or a packaged set's name (default: the default priors);
    `loglik_every` keeps every k-th draw's per-group log-likelihood (for LOO); `retries` refits a fit that fails
    its diagnostics at the retry rule's length (`SamplerSettings.longer`), up to that many times."""

    models: tuple[str, ...] = ("m4",)
    panel: Path = PANEL
    specs: Path | None = None
    method: str | None = None
    priors: str | os.PathLike | None = None
    sampler: SamplerSettings = field(default_factory=SamplerSettings)
    loglik_every: int = 2
    retries: int = 0

    def __post_init__(self) -> None:
        at_least(self.loglik_every, 1, "loglik_every")
        at_least(self.retries, 0, "retries")


def fit_path(folder: str | os.PathLike, name: str, method: str) -> Path:
    """Where a model's fit is saved: `<folder>/<name>_<method>.nc` (the one definition of fit file names)."""
    return Path(folder) / f"{name}_{method}.nc"


def saved_fit_path(folder: str | os.PathLike, spec) -> Path:
    """A model's saved fit in `folder`: the spec's own method first, the other one where only that exists (the
    own method's path when neither does)."""
    own = fit_path(folder, spec.name, spec.fit_method)
    other = fit_path(folder, spec.name, "plain" if spec.fit_method == "marginal" else "marginal")
    return other if not own.exists() and other.exists() else own


@dataclass
class FitsResult:
    """Fits by model name; `write(out)` saves each as `<name>_<method>.nc`, `read(out, specs)` loads them."""

    fits: dict  # model name -> coupproof.Fit

    def paths(self, out: str | os.PathLike) -> dict[str, Path]:
        """Where `write` puts each fit."""
        return {name: fit_path(out, name, fit.record.method) for name, fit in self.fits.items()}

    def write(self, out: str | os.PathLike) -> list[Path]:
        """Save every fit in `out` (atomically, one file each)."""
        return [self.fits[name].save(path) for name, path in self.paths(out).items()]

    @classmethod
    def read(cls, out: str | os.PathLike, specs: dict, missing_ok: bool = False) -> "FitsResult":
        """The saved fits of `specs` ({name: ModelSpec}) in `out` (their own method's file, else the other's); a fit
        not saved raises FitFileError unless `missing_ok`, which leaves it out."""
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
    """Every model of the settings on the panel (coupproof.Model), checked (spec, priors, method, data) before any
    sampling."""
    from data_prep.panel import read_panel
    from models.priors import load_priors
    from models.specs import get_spec, load_specs

    from ..api import Model

    known = load_specs(settings.specs)
    chosen = [get_spec(name, known) for name in settings.models]
    priors = load_priors(settings.priors)
    ds = read_panel(settings.panel) if panel is None else panel
    return [Model(spec, ds, priors=priors, method=settings.method, panel_path=settings.panel) for spec in chosen]


def fit_until_passed(model, settings: FitSettings, progress: Progress):
    """One model's fit, refitted at the retry rule's length while it fails its gate (at most `retries` times)."""
    sampler = settings.sampler
    for attempt in range(settings.retries + 1):
        result = model.fit(draws=sampler.draws, tune=sampler.tune, chains=sampler.chains, sampler=sampler.sampler,
                           seed=sampler.seed, target_accept=sampler.target_accept, adaptation=sampler.adaptation,
                           loglik_every=settings.loglik_every, ess_min=sampler.ess_min, show=not progress.quiet)
        if result.diagnostics.passed or attempt == settings.retries:
            return result
        sampler = sampler.longer()
        progress.note(f"[yellow]Refitting {model.spec.name} at {sampler.draws} draws and {sampler.tune} tuning "
                      "iterations per chain[/] (retries)")
    raise AssertionError("unreachable")


def fit_models(settings: FitSettings, progress: Progress | None = None,
               on_fit: Callable[[str, object], None] | None = None, models: list | None = None) -> FitsResult:
    """Fit every model of `settings` (checked first: `prepare_models`, unless `models` are given); `on_fit(name,
    fit)` runs after each one (the command line saves it there, so that a later failure keeps the earlier fits)."""
    progress = progress or Progress()
    models = prepare_models(settings) if models is None else models
    fits = {}
    for model in models:
        data = model.data
        groups = f"{data.n_groups:,} groups ({model.spec.group}), " if model.spec.group else ""
        progress.note(f"[bold]Fitting {model.spec.label} ({model.spec.name})[/]: {len(data.y):,} rows, {groups}"
                      f"{int((data.y > 0).sum())} events, family {model.spec.family}, method {model.method}, "
                      f"{settings.sampler.sampler}")
        fits[model.spec.name] = fit_until_passed(model, settings, progress)
        if on_fit is not None:
            on_fit(model.spec.name, fits[model.spec.name])
    return FitsResult(fits)


