"""The prior-comparison stage: whether the default priors let the data speak.

Each model's key interaction under the default priors, the regularising set and the wide set (the reference), with
power-scaling of the default fits (reports.prior_defaults states the criterion).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from inference.settings import SamplerSettings

from ..defaults import FITS, FREQ, PANEL, SENSITIVITY
from .base import Progress, read_png, read_table, write_markdown, write_png, write_table
from .fit import saved_fit_path
from .frequentist import PAPER_MODELS, FrequentistResult
from .sensitivity import scheduler_label

# the refits' default length: the main fits' (make fit), which pass the ESS gate at it; at 600 draws about half
# failed it and were refitted at twice the length, which cost more than the longer first pass
COMPARE_SAMPLER = SamplerSettings(draws=1000, tune=300)


@dataclass(frozen=True)
class PriorComparisonSettings:
    """Which models to compare under which prior sets: the options of `coupproof priors`, checked on creation.

    Each model is refitted under each set of `sets`. A saved fit in `fits` made under today's default priors from
    this panel stands for the default set; other models are refitted under the default priors too.

    Parameters
    ----------
    models : tuple of str, optional
        The models to compare; default: the paper's six.
    sets : tuple of str, optional
        The prior sets compared with the default: packaged names or prior files (TOML); "wide" is the reference and
        must be among them (default: ("regularising", "wide")).
    panel : pathlib.Path, optional
        The panel built by `coupproof data`; default: build/panel.nc.
    fits : pathlib.Path, optional
        The saved fits under the default priors (`coupproof fit`); default: build/fits.
    freq : pathlib.Path, optional
        The frequentist results file, whose SEs measure the shifts; default: build/freq/fits.json.
    specs : pathlib.Path, optional
        Your own model specs (TOML); default: the packaged ones.
    sampler : inference.settings.SamplerSettings, optional
        The refits' NUTS settings; default: 1,000 draws and 300 tuning iterations per chain.
    retries : int, optional
        Refit a fit that fails its diagnostics at the retry rule's length (twice the draws and tuning), up to this
        many times (default: 1; 0 flags it at once).
    scheduler : str, optional
        A Dask scheduler address, "serial", or None for a local cluster on this machine.
    cache : pathlib.Path, optional
        The folder of cached refits; default: build/sensitivity/cache.

    Raises
    ------
    ValueError
        If `retries` is below 0, naming the option.

    Examples
    --------
    >>> import coupproof as cp
    >>> settings = cp.PriorComparisonSettings(models=("m4",), scheduler="serial")
    """

    models: tuple[str, ...] = PAPER_MODELS
    sets: tuple[str, ...] = ("regularising", "wide")
    panel: Path = PANEL
    fits: Path = FITS
    freq: Path = FrequentistResult.path(FREQ)
    specs: Path | None = None
    sampler: SamplerSettings = COMPARE_SAMPLER
    retries: int = 1
    scheduler: str | None = None
    cache: Path = SENSITIVITY / "cache"

    def __post_init__(self) -> None:
        self.sampler.retries(self.retries)

    def set_labels(self) -> dict[str, str]:
        """Label each prior set: a packaged set by its name, a prior file by its stem.

        Returns
        -------
        dict of str to str
            {label: set as given}.
        """
        return {Path(item).stem if str(item).endswith(".toml") else str(item): str(item) for item in self.sets}


@dataclass
class PriorComparisonResult:
    """The key interactions under each prior set, their shifts from the wide set, and the figure of the shifts.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per interaction (and part): its posterior mean under each set, each set's shift from the wide set
        in frequentist SEs, the power-scaling flags under the default priors and whether it meets the criterion.
    figure : bytes or None
        The figure of the shifts (PNG).

    Examples
    --------
    >>> import coupproof as cp
    >>> result = cp.PriorComparisonResult.read("build/sensitivity")  # None where there is none
    >>> result.met, len(result.table)
    """

    table: pd.DataFrame
    figure: bytes | None = None
    STEM = "prior_defaults"
    TITLE = "The key interactions under the default, regularising and wide priors"

    def write(self, out: str | os.PathLike) -> Path:
        """Write prior_defaults.csv, .md and .png in `out`.

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
        write_table(out / f"{self.STEM}.csv", self.table)
        write_markdown(out / f"{self.STEM}.md", self.TITLE, self.table)
        if self.figure is not None:
            write_png(out / f"{self.STEM}.png", self.figure)
        return out

    @classmethod
    def read(cls, out: str | os.PathLike) -> "PriorComparisonResult | None":
        """Read what `write` wrote in `out`.

        Parameters
        ----------
        out : str or os.PathLike
            The folder, e.g. build/sensitivity.

        Returns
        -------
        PriorComparisonResult or None
            The comparison, or None where there is none.
        """
        out = Path(out)
        table = read_table(out / f"{cls.STEM}.csv")
        return None if table is None else cls(table, read_png(out / f"{cls.STEM}.png"))

    @property
    def met(self) -> int:
        """How many interactions meet the criterion."""
        return int(self.table["meets_criterion"].sum())


def compare_priors(settings: PriorComparisonSettings, progress: Progress | None = None) -> PriorComparisonResult:
    """Refit every model under every prior set, power-scale the default fits and measure each interaction's shift.

    The default priors are refitted only where no saved fit stands for them. Everything (sets, models, the
    frequentist results, the panel, the scheduler) is checked before any fitting; a refit already in the cache is
    read, not refitted. `coupproof priors` runs this stage.

    Parameters
    ----------
    settings : PriorComparisonSettings
        The models, prior sets, saved fits, frequentist results, sampler settings and scheduler.
    progress : Progress, optional
        Where the stage says what it is doing; default: notes and status lines on stderr.

    Returns
    -------
    PriorComparisonResult
        The comparison and its figure, held in memory until written.

    Raises
    ------
    models.priors.PriorError
        If `sets` lacks "wide" or names "default", a prior file cannot be read, or no model has a two-way
        interaction to compare.
    ValueError
        If the frequentist results file is missing or damaged (run `coupproof freq` first).
    inference.refits.SensitivityError
        If a set's model cannot be built or the Dask scheduler cannot be reached.

    Examples
    --------
    >>> import coupproof as cp
    >>> result = cp.compare_priors(cp.PriorComparisonSettings(models=("m4",), scheduler="serial"))
    >>> result.write("build/sensitivity")
    >>> result.met  # how many interactions meet the criterion
    """
    from data_prep.panel import read_panel
    from inference.fitting import ensure_log_densities
    from inference.frequentist import load_results
    from inference.record import PanelRef
    from inference.refits import Refit, check_builds, check_scheduler, run_fits
    from inference.store import load_fit, load_fit_with_record
    from models.priors import PriorError, load_priors, priors_config
    from models.specs import get_spec, load_specs
    from reports import prior_defaults as pd_
    from reports.posterior_plots import png
    from reports.prior_sensitivity import power_scaling

    from ..api import Model

    progress = progress or Progress()
    labels = settings.set_labels()
    if pd_.REFERENCE not in labels:
        raise PriorError(f"--sets must include '{pd_.REFERENCE}', the reference the defaults are measured against")
    if pd_.DEFAULT in labels:
        raise PriorError(f"--sets: '{pd_.DEFAULT}' is always compared; name the other sets")
    prior_sets = {pd_.DEFAULT: load_priors(), **{label: load_priors(item) for label, item in labels.items()}}
    known = load_specs(settings.specs)
    chosen = [get_spec(name, known) for name in settings.models]
    freq_results, _metadata = load_results(settings.freq)
    ds = read_panel(settings.panel)
    checksum = PanelRef.of(ds).checksum
    datasets = {spec.name: Model(spec, ds).data for spec in chosen}
    saved = {}  # the default fits in `fits`, where made under today's default priors from this panel
    for spec in chosen:
        path = saved_fit_path(settings.fits, spec)
        if path.is_file():
            tree, record = load_fit_with_record(path, spec)
            if priors_config(record.priors) == priors_config(prior_sets[pd_.DEFAULT]) and \
                    record.panel.checksum == checksum:
                saved[spec.name] = tree
    jobs = [(datasets[spec.name], Refit(name, priors, settings.sampler)) for spec in chosen
            for name, priors in prior_sets.items() if name != pd_.DEFAULT or spec.name not in saved]
    for data, refit in jobs:
        check_builds(data, refit)
    check_scheduler(settings.scheduler)
    refitted = dict.fromkeys(refit.prior_set for _, refit in jobs)
    progress.note(f"[bold]{len(jobs)} refit(s)[/] of {', '.join(datasets)} under {', '.join(refitted) or 'no set'} "
                  f"({scheduler_label(settings.scheduler)}; cached in {settings.cache}); default fits read from "
                  f"{settings.fits}: {', '.join(saved) or 'none'}")
    paths = run_fits(jobs, settings.cache, checksum, settings.scheduler, lambda job, cached: progress.note(
        f"  {job[0].spec.name} under {job[1].prior_set}: {'from cache' if cached else 'fitted'}"),
        retries=settings.retries)
    by_model: dict[str, dict] = {name: {} for name in datasets}
    for (data, refit), path in zip(jobs, paths):
        by_model[data.spec.name][refit.prior_set] = load_fit(path)
    rows = []
    for name, data in datasets.items():
        fitted = {set_name: saved[name] if set_name == pd_.DEFAULT and name in saved else by_model[name][set_name]
                  for set_name in prior_sets}
        with progress.status(f"Power-scaling {name} ..."):
            scaling = power_scaling(ensure_log_densities(fitted[pd_.DEFAULT], data))
        rows += pd_.interaction_rows(fitted, freq_results, scaling)
        by_model[name] = fitted
    table = pd.DataFrame(rows)
    if table.empty:
        raise PriorError(f"none of {', '.join(datasets)} has a two-way interaction to compare")
    return PriorComparisonResult(table, png(pd_.plot_shifts(table, by_model)))


