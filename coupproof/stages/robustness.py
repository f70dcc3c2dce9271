"""The robustness stage: every variant of a robustness suite fitted as the paper did.

The suite is models/robustness.toml (the paper's section 5 and its appendix); the Bayesian versions run on Dask with
the refits' cache, and the key interactions are set side by side with the main models'.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from inference.settings import SamplerSettings

from ..defaults import FITS, PANEL, ROBUSTNESS
from .base import Progress, read_png, read_table, write_markdown, write_png, write_table
from .fit import saved_fit_path
from .sensitivity import scheduler_label

# the Bayesian versions' default length: the main fits' (make fit); at 600 draws 9 of 20 failed the ESS gate and
# were refitted at twice the length
ROBUST_SAMPLER = SamplerSettings(draws=1000, tune=300)


@dataclass(frozen=True)
class RobustnessSettings:
    """Which robustness variants to fit, and how: the options of `coupproof robustness`, checked on creation.

    A variant that changes the panel has its panel built from the raw files; the others use the main panel.

    Parameters
    ----------
    variants : tuple of str, optional
        Names of variants in the suite (e.g. "raw_count", "polity_5"); default: an empty tuple, every variant.
    variant_file : pathlib.Path, optional
        Your own variant file (TOML, the packaged one's form); default: models/robustness.toml.
    panel : pathlib.Path, optional
        The main panel built by `coupproof data`; default: build/panel.nc.
    data_dir : pathlib.Path, optional
        The raw data directory, for the variants that change the panel; default: $COUPPROOF_DATA_DIR or
        ../shared/data/raw.
    bayes : bool, optional
        Whether to fit each logit variant's Bayesian versions too, on Dask and cached (default: True).
    sampler : inference.settings.SamplerSettings, optional
        The Bayesian fits' NUTS settings; default: 1,000 draws and 300 tuning iterations per chain.
    retries : int, optional
        Refit a Bayesian fit that fails its diagnostics at the retry rule's length (twice the draws and tuning), up
        to this many times (default: 1; 0 flags it at once).
    scheduler : str, optional
        A Dask scheduler address, "serial", or None for a local cluster on this machine.
    fits : pathlib.Path, optional
        The main models' saved fits (`coupproof fit`), shown as the reference where present; default: build/fits.
    cache : pathlib.Path, optional
        The folder of cached Bayesian fits; default: build/robustness/cache.

    Raises
    ------
    ValueError
        If `retries` is below 0, naming the option.
    models.robustness.VariantError
        If the variant file cannot be used or names no such variant (checked on creation, before any work).

    Examples
    --------
    >>> import coupproof as cp
    >>> settings = cp.RobustnessSettings(variants=("raw_count", "polity_5"), bayes=False)
    """

    variants: tuple[str, ...] = ()
    variant_file: Path | None = None
    panel: Path = PANEL
    data_dir: Path | None = None
    bayes: bool = True
    sampler: SamplerSettings = ROBUST_SAMPLER
    retries: int = 1
    scheduler: str | None = None
    fits: Path = FITS
    cache: Path = ROBUSTNESS / "cache"

    def __post_init__(self) -> None:
        self.sampler.retries(self.retries)
        self.chosen()  # the variant file and the variants' names are checked now, before any path or panel

    def chosen(self) -> tuple:
        """Read the suite of `variant_file` and pick the chosen variants.

        Returns
        -------
        tuple of (models.robustness.Suite, list of models.robustness.Variant)
            The suite and the variants to fit, in the file's order for all of them, else in the order given.
        """
        from models.robustness import get_variants, load_suite

        suite = load_suite(self.variant_file)
        return suite, get_variants(",".join(self.variants) or "all", suite.variants)


@dataclass
class RobustnessResult:
    """Each variant's results in the paper's layout, every estimate, the key findings and their forest plot.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        Each variant's frequentist results in the paper's layout, by variant name ("main" for the main models).
    estimates : pandas.DataFrame
        Every estimate, frequentist and Bayesian, one row per variant, model, part and term.
    findings : pandas.DataFrame
        Per variant and model: the key interaction, frequentist and Bayesian, and whether its sign and
        significance are as in the main tables.
    forest : bytes or None
        The forest plot of the key interactions (PNG).
    timing : dict
        The run: the variants, frequentist and Bayesian seconds, the number of Bayesian fits, CPUs, the scheduler
        and the variant file.

    Examples
    --------
    >>> import coupproof as cp
    >>> result = cp.RobustnessResult.read("build/robustness")  # None where there are no key findings
    >>> result.findings
    """

    tables: dict[str, pd.DataFrame]
    estimates: pd.DataFrame
    findings: pd.DataFrame
    forest: bytes | None = None
    timing: dict = field(default_factory=dict)

    FINDINGS = "key_findings"
    ESTIMATES = "estimates.csv"
    FOREST = "forest_key_interactions.png"
    TIMING = "timing.json"
    MAIN = "main"

    def write(self, out: str | os.PathLike) -> Path:
        """Write each variant's table, the estimates, the key findings, the forest plot and the timing in `out`.

        The files are <variant>.csv and .md per variant, estimates.csv, key_findings.csv and .md,
        forest_key_interactions.png and timing.json.

        Parameters
        ----------
        out : str or os.PathLike
            The output folder, e.g. build/robustness.

        Returns
        -------
        pathlib.Path
            The folder.
        """
        out = Path(out)
        for name, layout in self.tables.items():
            write_table(out / f"{name}.csv", layout, index=True)
            write_markdown(out / f"{name}.md", name, layout, index=True)
        write_table(out / self.ESTIMATES, self.estimates)
        write_table(out / f"{self.FINDINGS}.csv", self.findings)
        write_markdown(out / f"{self.FINDINGS}.md", "Key interactions across the robustness variants", self.findings)
        if self.forest is not None:
            write_png(out / self.FOREST, self.forest)
        from data_prep.io import atomic_write_text

        atomic_write_text(out / self.TIMING, json.dumps(self.timing, indent=1) + "\n")
        return out

    @classmethod
    def read(cls, out: str | os.PathLike) -> RobustnessResult | None:
        """Read what `write` wrote in `out`.

        Parameters
        ----------
        out : str or os.PathLike
            The folder, e.g. build/robustness.

        Returns
        -------
        RobustnessResult or None
            The results, or None where there are no key findings.
        """
        out = Path(out)
        findings = read_table(out / f"{cls.FINDINGS}.csv")
        if findings is None:
            return None
        tables = {}
        for name in dict.fromkeys(findings["variant"]):
            table = read_table(out / f"{name}.csv")
            if table is not None:
                tables[name] = table.set_index(table.columns[0]).rename_axis("term")
        timing = json.loads((out / cls.TIMING).read_text()) if (out / cls.TIMING).is_file() else {}
        estimates = read_table(out / cls.ESTIMATES)
        return cls(tables, estimates if estimates is not None else pd.DataFrame(), findings,
                   read_png(out / cls.FOREST), timing)


def panel_builder(data_dir: Path | None, progress: Progress):
    """Make a function that builds the panel of a variant's options from the raw files, once per set of options.

    Parameters
    ----------
    data_dir : pathlib.Path or None
        The raw data directory (None: the default, or COUPPROOF_DATA_DIR).
    progress : Progress
        Where a build is announced.

    Returns
    -------
    collections.abc.Callable
        options (dict) -> xarray.Dataset, the panel built with them (remembered for the next call).
    """
    from data_prep.panel import PanelOptions, build_panel, polity_limit
    from data_prep.sources import RawData, resolve_data_dir

    data_dir = resolve_data_dir(data_dir)
    built: dict[tuple, object] = {}

    def build(options: dict):
        key = tuple(sorted(options.items()))
        if key not in built:
            values = {k: polity_limit(v) if k == "max_polity_a" else v for k, v in options.items()}
            with progress.status(f"Building a panel with {options} ..."):
                built[key] = build_panel(RawData(data_dir), PanelOptions(**values))
        return built[key]

    return build


def robustness(settings: RobustnessSettings, progress: Progress | None = None) -> RobustnessResult:
    """Fit every chosen variant and compare each key interaction with the main tables' finding.

    Every variant is checked, and its panel built, before any fitting; a Bayesian fit already in the cache is read,
    not refitted. `coupproof robustness` runs this stage.

    Parameters
    ----------
    settings : RobustnessSettings
        The variants, panels, Bayesian fits' settings and scheduler.
    progress : Progress, optional
        Where the stage says what it is doing; default: notes and status lines on stderr.

    Returns
    -------
    RobustnessResult
        The tables, estimates, key findings, forest plot and timing, held in memory until written.

    Raises
    ------
    models.robustness.VariantError
        If a variant is unknown or the variant file cannot be read.
    data_prep.sources.DataError
        If the panel or a raw file a variant needs is missing or damaged.
    inference.refits.SensitivityError
        If the Dask scheduler cannot be reached.

    Examples
    --------
    >>> import coupproof as cp
    >>> result = cp.robustness(cp.RobustnessSettings(variants=("raw_count",), bayes=False))
    >>> result.write("build/robustness")
    >>> result.findings  # key interactions against the main tables
    """
    from data_prep.panel import read_panel
    from inference.frequentist import fit_data
    from inference.record import PanelRef
    from inference.refits import Refit, check_scheduler, run_fits
    from inference.robustness import bayes_jobs, fit_variant, prepare_variant
    from inference.store import load_fit, load_fit_with_record
    from models.priors import load_priors
    from models.specs import PAPER_MODELS
    from reports import robustness as rb
    from reports.posterior_plots import png

    from ..api import Model

    progress = progress or Progress()
    suite, chosen = settings.chosen()
    base = read_panel(settings.panel)
    build = panel_builder(settings.data_dir, progress)
    prepared = {v.name: prepare_variant(v, base, build) for v in chosen}  # every variant checked before fitting
    jobs: list = []
    if settings.bayes:
        refit = Refit("default", load_priors(), settings.sampler)
        jobs = [(v.name, job) for v in chosen for job in bayes_jobs(v, prepared[v.name][0], refit)]
        check_scheduler(settings.scheduler)
    began = time.perf_counter()
    main = [r for name in suite.main for r in fit_data(Model(name, base).data)]
    tables, estimates = {RobustnessResult.MAIN: main}, [rb.estimate_rows(RobustnessResult.MAIN, main)]
    for name in suite.main:  # the main models' Bayesian fits, where made (read, never refitted)
        path = saved_fit_path(settings.fits, PAPER_MODELS[name])
        if path.is_file():
            estimates.append(rb.posterior_rows(RobustnessResult.MAIN, load_fit(path, PAPER_MODELS[name])))
    for variant in chosen:
        with progress.status(f"Fitting {variant.label} ({variant.name}) ..."):
            results = fit_variant(variant, *prepared[variant.name])
        tables[variant.name] = results
        estimates.append(rb.estimate_rows(variant.name, results))
    frequentist_seconds = time.perf_counter() - began
    from_cache: list[bool] = []  # each fit as run_fits reports it, read from the cache or not (retries after the rest)
    fit_seconds = 0.0  # the fits' own wall times, whenever they were made
    if jobs:
        progress.note(f"[bold]Bayesian fits of {len(jobs)} variant model(s)[/] "
                      f"({scheduler_label(settings.scheduler)}; cached in {settings.cache})")

        def told(job, cached: bool) -> None:
            from_cache.append(cached)
            progress.note(f"  {job[0].spec.name} ({job[1].settings.draws} draws): "
                          f"{'from cache' if cached else 'fitted'}")

        paths = run_fits([job for _, job in jobs], settings.cache, PanelRef.of(base).checksum, settings.scheduler,
                         told, retries=settings.retries)
        for (variant_name, _job), path in zip(jobs, paths):
            fitted, record = load_fit_with_record(path)
            fit_seconds += record.wall_seconds
            if not record.diagnostics_passed:
                progress.note(f"[bold white on red] FIT FAILED ITS DIAGNOSTICS [/] {record.model}: flagged in the "
                              "tables")
            estimates.append(rb.posterior_rows(variant_name, fitted))
    long = pd.concat(estimates, ignore_index=True)
    findings = rb.key_findings(long, suite)
    timing = {"variants": [v.name for v in chosen], "frequentist_seconds": round(frequentist_seconds, 1),
              "bayesian_fits": len(jobs), "bayesian_from_cache": sum(from_cache[:len(jobs)]),
              "bayesian_fit_seconds": round(fit_seconds, 1),
              "bayesian_seconds": round(time.perf_counter() - began - frequentist_seconds, 1),
              "cpus": os.cpu_count(), "scheduler": settings.scheduler or "LocalCluster",
              "variant_file": str(settings.variant_file or "")}
    return RobustnessResult({name: rb.paper_layout(results) for name, results in tables.items()}, long, findings,
                            png(rb.plot_key_interactions(findings, suite)), timing)

