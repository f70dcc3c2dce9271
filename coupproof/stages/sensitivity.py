"""The prior-sensitivity stage: power-scaling of every saved fit, and refits under alternative prior sets.

Power-scaling (Kallioinen et al. 2023) asks how much each posterior moves when the prior or the likelihood is made a
little stronger or weaker. Some models are also refitted under every prior set of a prior-set file, fanned out on
Dask and cached.
"""

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
    """Say how a Dask scheduler option reads in progress lines.

    Parameters
    ----------
    scheduler : str or None
        A scheduler address, "serial", or None for a local cluster.

    Returns
    -------
    str
        The address, "serial" or "Dask LocalCluster".
    """
    return "serial" if scheduler == "serial" else scheduler or "Dask LocalCluster"


@dataclass(frozen=True)
class SensitivitySettings:
    """What to power-scale and refit: the options of `coupproof sensitivity`.

    `models` are refitted under every prior set; every saved fit of `specs` in `fits` is power-scaled.

    Parameters
    ----------
    models : tuple of str, optional
        The models to refit under every prior set (default: ("m4",)).
    prior_sets : pathlib.Path, optional
        The prior-set file (TOML); default: models/priors/sensitivity.toml.
    panel : pathlib.Path, optional
        The panel built by `coupproof data`; default: build/panel.nc.
    fits : pathlib.Path, optional
        The saved fits to power-scale (`coupproof fit`); default: build/fits.
    specs : pathlib.Path, optional
        Your own model specs (TOML); default: the packaged ones.
    sampler : inference.settings.SamplerSettings, optional
        The refits' NUTS settings; default: 1000 draws and 300 tuning iterations per chain.
    refits : bool, optional
        Whether to refit `models` (default: True); False gives the power-scaling of the saved fits only (seconds).
    scheduler : str, optional
        A Dask scheduler address (tcp://host:8786), "serial", or None for a local cluster on this machine.
    cache : pathlib.Path, optional
        The folder of cached refits; default: build/sensitivity/cache.

    Examples
    --------
    >>> import coupproof as cp
    >>> settings = cp.SensitivitySettings(models=("m4",), scheduler="serial")
    """

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
    """One model refitted under every prior set: its key term and effect curves per set, and the figures.

    Attributes
    ----------
    table : pandas.DataFrame
        Per prior set: the interaction's (else the first slope's) posterior mean, sd, 94% HDI and Pr(< 0), the
        group sd's posterior mean, and whether the fit passed its diagnostics.
    curves : pandas.DataFrame
        The marginal effect of the focal variable across its moderator under each set (empty for a model without
        such an interaction).
    figures : dict of str to bytes
        PNGs by key: "forest", "effects" and "power_scaling" (of the default fit).
    """

    table: pd.DataFrame
    curves: pd.DataFrame
    figures: dict[str, bytes] = field(default_factory=dict)

    FIGURES = {"forest": "prior_sets_{model}_forest", "effects": "prior_sets_{model}_effects",
               "power_scaling": "power_scaling_{model}"}


@dataclass
class SensitivityResult:
    """Power-scaling of the saved fits and each refitted model's prior-set results.

    Attributes
    ----------
    power_scaling : pandas.DataFrame or None
        One row per model and population parameter: prior and likelihood sensitivity and ArviZ's diagnosis (None
        where there is no saved fit).
    prior_sets : dict of str to PriorSetRefits
        Each refitted model's results, by model name.

    Examples
    --------
    >>> import coupproof as cp
    >>> result = cp.SensitivityResult.read("build/sensitivity")
    >>> result.power_scaling
    >>> result.prior_sets["m4"].table
    """

    power_scaling: pd.DataFrame | None
    prior_sets: dict[str, PriorSetRefits]

    POWER_SCALING = "power_scaling.csv"

    def write(self, out: str | os.PathLike) -> Path:
        """Write power_scaling.csv and, per refitted model, its tables and figures in `out`.

        A refitted model's files are prior_sets_<model>.csv, prior_sets_<model>_effects.csv, and
        prior_sets_<model>_forest.png, prior_sets_<model>_effects.png and power_scaling_<model>.png.

        Parameters
        ----------
        out : str or os.PathLike
            The output folder, e.g. build/sensitivity.

        Returns
        -------
        pathlib.Path
            The folder.
        """
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
        """Read what `write` wrote in `out`; parts not written are None or absent.

        Parameters
        ----------
        out : str or os.PathLike
            The folder, e.g. build/sensitivity.

        Returns
        -------
        SensitivityResult
            The results (`empty` where nothing was written).
        """
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
        """Whether there is nothing: no power-scaling and no refitted model."""
        return self.power_scaling is None and not self.prior_sets


def power_scale_saved(fits_dir: Path, specs: dict, panel, progress: Progress) -> pd.DataFrame | None:
    """Power-scale every saved fit of `specs` in `fits_dir`.

    Each fit is power-scaled on its own recorded spec, which a spec file may since have changed. A damaged fit fails
    before any work.

    Parameters
    ----------
    fits_dir : pathlib.Path
        The folder of saved fits.
    specs : dict of str to models.specs.ModelSpec
        The models whose saved fits to look for, by name.
    panel : xarray.Dataset
        The panel the fits' data are rebuilt on.
    progress : Progress
        Where the stage says what it is doing.

    Returns
    -------
    pandas.DataFrame or None
        One row per model and population parameter, or None where no fit is saved.

    Raises
    ------
    inference.record.FitFileError
        If a saved fit cannot be read or was written by another version.
    """
    from inference.fitting import ensure_log_densities
    from inference.store import load_fit
    from reports.prior_sensitivity import power_scaling

    from ..api import Model

    paths = {name: saved_fit_path(fits_dir, spec) for name, spec in specs.items()}
    saved = {name: load_fit(path, specs[name]) for name, path in paths.items() if path.exists()}
    tables = []
    for name, tree in saved.items():
        data = Model.from_fit(tree, panel).data
        with progress.status(f"Power-scaling {name} ..."):
            tables.append(power_scaling(ensure_log_densities(tree, data)))
    return pd.concat(tables, ignore_index=True) if tables else None


def sensitivity(settings: SensitivitySettings, progress: Progress | None = None) -> SensitivityResult:
    """Power-scale the saved fits, then refit `settings.models` under every prior set.

    Every set is checked against every model, and the scheduler reached, before any fitting; a refit already in the
    cache is read, not refitted. `coupproof sensitivity` runs this stage.

    Parameters
    ----------
    settings : SensitivitySettings
        The models, prior sets, saved fits, sampler settings and scheduler.
    progress : Progress, optional
        Where the stage says what it is doing; default: notes and status lines on stderr.

    Returns
    -------
    SensitivityResult
        The power-scaling and each model's prior-set results, held in memory until written.

    Raises
    ------
    models.priors.PriorError
        If the prior-set file cannot be read.
    models.specs.SpecError
        If a model is unknown or does not fit the panel.
    inference.refits.SensitivityError
        If a set's model cannot be built or the Dask scheduler cannot be reached.

    Examples
    --------
    >>> import coupproof as cp
    >>> result = cp.sensitivity(cp.SensitivitySettings(models=("m4",), refits=False))  # power-scaling only
    >>> result = cp.sensitivity(cp.SensitivitySettings(models=("m4",), scheduler="serial"))
    >>> result.write("build/sensitivity")
    """
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
