"""The prior-sensitivity stage: power-scaling (Kallioinen et al. 2023) of every saved fit, and refits of some
models under every prior set of a prior-set file, fanned out on Dask and cached."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from inference.settings import SamplerSettings

from ..defaults import FITS, PANEL, SENSITIVITY
from .base import Progress, read_png, read_table, write_png, write_table
from .fit import saved_fit_path
REFIT_SAMPLER = SamplerSettings(draws=1000, tune=300)  # the refits' default length


def scheduler_label(scheduler: str | None) -> str:
    """How a Dask scheduler option reads in progress lines."""
    return "serial" if scheduler == "serial" else scheduler or "Dask LocalCluster"


@dataclass(frozen=True)
class SensitivitySettings:
    """`models` are refitted under every set of `prior_sets` (default: models/priors/sensitivity.toml) with
    `sampler`, on `scheduler` (a Dask address, "serial", or None for a LocalCluster), cached in `cache`; every
    saved fit of `specs` in `fits` is power-scaled. `refits=False` skips the refits (power-scaling only)."""

    models: tuple[str, ...] = ("m4",)
    prior_sets: Path | None = None
    panel: Path = PANEL
    fits: Path = FITS
    specs: Path | None = None
    sampler: SamplerSettings = REFIT_SAMPLER
    refits: bool = True
    scheduler: str | None = None
    cache: Path = SENSITIVITY / "cache"


@dataclass
class PriorSetRefits:
    """One model refitted under every prior set: the focus term per set, the effect curves per set, and the
    figures (forest, effects, power-scaling of the default fit)."""

    table: pd.DataFrame
    curves: pd.DataFrame
    figures: dict[str, bytes] = field(default_factory=dict)

    FIGURES = {"forest": "prior_sets_{model}_forest", "effects": "prior_sets_{model}_effects",
               "power_scaling": "power_scaling_{model}"}


@dataclass
class SensitivityResult:
    """Power-scaling of the saved fits (None without any) and each refitted model's prior-set results."""

    power_scaling: pd.DataFrame | None
    prior_sets: dict[str, PriorSetRefits]

    POWER_SCALING = "power_scaling.csv"

    def write(self, out: str | os.PathLike) -> Path:
        """power_scaling.csv, and per refitted model prior_sets_<model>.csv, prior_sets_<model>_effects.csv and
        the figures, in `out`."""
        out = Path(out)
        if self.power_scaling is not None:
            write_table(out / self.POWER_SCALING, self.power_scaling)
        for model, refits in self.prior_sets.items():
            write_table(out / f"prior_sets_{model}.csv", refits.table)
            write_table(out / f"prior_sets_{model}_effects.csv", refits.curves)
            for key, png in refits.figures.items():
                write_png(out / f"{PriorSetRefits.FIGURES[key].format(model=model)}.png", png)
        return out

    @classmethod
    def read(cls, out: str | os.PathLike) -> "SensitivityResult":
        """What `write` wrote in `out` (parts not written are None or absent)."""
        out = Path(out)
        models = sorted(p.stem.removeprefix("prior_sets_") for p in out.glob("prior_sets_*.csv")
                        if not p.stem.endswith("_effects"))
        prior_sets = {}
        for model in models:
            curves = read_table(out / f"prior_sets_{model}_effects.csv")
            figures = {key: png for key, name in PriorSetRefits.FIGURES.items()
                       if (png := read_png(out / f"{name.format(model=model)}.png")) is not None}
            prior_sets[model] = PriorSetRefits(pd.read_csv(out / f"prior_sets_{model}.csv"),
                                               curves if curves is not None else pd.DataFrame(), figures)
        return cls(read_table(out / cls.POWER_SCALING), prior_sets)

    @property
    def empty(self) -> bool:
        return self.power_scaling is None and not self.prior_sets


def power_scale_saved(fits_dir: Path, specs: dict, panel, progress: Progress) -> pd.DataFrame | None:
    """Power-scaling of every saved fit of `specs` in `fits_dir` (each on its own recorded spec, which a spec file
    may since have changed); None when there is none. A damaged fit fails before any work."""
    from inference.fitting import ensure_log_densities
    from inference.store import load_fit
    from reports.prior_sensitivity import power_scaling

    from ..api import Model

    paths = {name: saved_fit_path(fits_dir, spec) for name, spec in specs.items()}
    saved = {name: load_fit(path) for name, path in paths.items() if path.exists()}
    tables = []
    for name, tree in saved.items():
        data = Model.from_fit(tree, panel).data
        with progress.status(f"Power-scaling {name} ..."):
            tables.append(power_scaling(ensure_log_densities(tree, data)))
    return pd.concat(tables, ignore_index=True) if tables else None


def sensitivity(settings: SensitivitySettings, progress: Progress | None = None) -> SensitivityResult:
    """Power-scaling of the saved fits, then refits of `settings.models` under every prior set (every set is
    checked against every model, and the scheduler reached, before any fitting)."""
    from data_prep.panel import read_panel
    from inference.diagnostics import NOT_FLAGGED
    from inference.record import PanelRef
    from inference.refits import Refit, check_builds, check_scheduler, load_prior_sets, run_refits
    from inference.store import load_fit
    from models.specs import get_spec, load_specs
    from reports import prior_sensitivity as ps
    from reports.posterior_plots import png, png_arviz

    from ..api import Model

    progress = progress or Progress()
    sets = load_prior_sets(settings.prior_sets)
    known = load_specs(settings.specs)
    chosen = [get_spec(name, known) for name in settings.models] if settings.refits else []
    ds = read_panel(settings.panel)
    datasets = {spec.name: Model(spec, ds).data for spec in chosen}
    refits = [Refit(name, priors, settings.sampler) for name, priors in sets.items()]
    for data in datasets.values():
        for refit in refits:
            check_builds(data, refit)
    check_scheduler(settings.scheduler)
    scaling = power_scale_saved(settings.fits, known, ds, progress)
    if scaling is None:
        progress.note(f"[yellow]No saved fits in {settings.fits} to power-scale; run 'make fit' first.[/]")
    else:
        flagged = scaling[scaling["diagnosis"] != NOT_FLAGGED]
        progress.note(f"Power-scaling of {scaling['model'].nunique()} fit(s): {len(flagged)} parameter(s) flagged "
                      "(prior-data conflict or weak likelihood)")
    results = {}
    for name, data in datasets.items():
        progress.note(f"[bold]Refitting {name} under {len(refits)} prior sets[/] "
                      f"({scheduler_label(settings.scheduler)})")
        paths = run_refits(data, refits, settings.cache, PanelRef.of(ds).checksum, settings.scheduler,
                           lambda set_name, cached: progress.note(
                               f"  {set_name}: {'from cache' if cached else 'fitted'}"))
        refitted = {set_name: load_fit(path) for set_name, path in paths.items()}
        table = ps.prior_set_table(refitted)
        curves = ps.effect_curves_by_set(refitted, data)
        results[name] = PriorSetRefits(table, curves, {
            "forest": png(ps.plot_forest(table)), "effects": png(ps.plot_effects_by_set(curves)),
            "power_scaling": png_arviz(ps.plot_power_scaling(refitted["default"]))})
    return SensitivityResult(scaling, results)
