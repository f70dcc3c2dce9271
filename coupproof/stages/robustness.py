"""The robustness stage: every variant of a robustness suite (models/robustness.toml: the paper's section 5 and its
appendix) fitted as the paper did, the Bayesian versions on Dask with the refits' cache, and the key interactions
side by side with the main models'."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from inference.settings import SamplerSettings

from ..defaults import FITS, PANEL, ROBUSTNESS
from .base import Progress, at_least, read_png, read_table, write_markdown, write_png, write_table
from .fit import saved_fit_path
from .sensitivity import scheduler_label
ROBUST_SAMPLER = SamplerSettings(draws=600, tune=300)  # the Bayesian versions' default length


@dataclass(frozen=True)
class RobustnessSettings:
    """Which `variants` of the suite in `variant_file` (default: the packaged one; an empty tuple: all), built from
    the raw files in `data_dir` where a variant changes the panel, around the main `panel`. With `bayes`, each
    logit variant's Bayesian versions are fitted with `sampler` on `scheduler` (cached in `cache`), a fit that
    fails its diagnostics refitted at the retry rule's length up to `retries` times; the main models' saved fits
    in `fits` are shown as the reference where present."""

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
        at_least(self.retries, 0, "retries")


@dataclass
class RobustnessResult:
    """Each variant's frequentist results in the paper's layout (`tables`, with "main" for the main models), every
    estimate frequentist and Bayesian (`estimates`), the key findings, their forest plot and the run's timing."""

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
        """<variant>.csv/.md per variant, estimates.csv, key_findings.csv/.md, the forest plot and timing.json."""
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
    def read(cls, out: str | os.PathLike) -> "RobustnessResult | None":
        """What `write` wrote in `out`, or None where there are no key findings."""
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


def robustness(settings: RobustnessSettings, progress: Progress | None = None) -> RobustnessResult:
    """Fit every chosen variant (each checked, its panel built, before any fitting) and compare each key interaction
    with the main tables' finding."""
    from data_prep.panel import PanelOptions, build_panel, polity_limit, read_panel
    from data_prep.sources import RawData, resolve_data_dir
    from inference.frequentist import fit_data
    from inference.record import PanelRef
    from inference.refits import Refit, check_scheduler, run_fits
    from inference.robustness import bayes_jobs, fit_variant, prepare_variant
    from inference.store import load_fit, load_fit_with_record
    from models.priors import load_priors
    from models.robustness import get_variants, load_suite
    from models.specs import PAPER_MODELS
    from reports import robustness as rb
    from reports.posterior_plots import png

    from ..api import Model

    progress = progress or Progress()
    suite = load_suite(settings.variant_file)
    chosen = get_variants(",".join(settings.variants) or "all", suite.variants)
    base = read_panel(settings.panel)
    data_dir = resolve_data_dir(settings.data_dir)
    built: dict[tuple, object] = {}

    def build(options: dict):
        key = tuple(sorted(options.items()))
        if key not in built:
            values = {k: polity_limit(v) if k == "max_polity_a" else v for k, v in options.items()}
            with progress.status(f"Building a panel with {options} ..."):
                built[key] = build_panel(RawData(data_dir), PanelOptions(**values))
        return built[key]

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
            estimates.append(rb.posterior_rows(RobustnessResult.MAIN, load_fit(path)))
    for variant in chosen:
        with progress.status(f"Fitting {variant.label} ({variant.name}) ..."):
            results = fit_variant(variant, *prepared[variant.name])
        tables[variant.name] = results
        estimates.append(rb.estimate_rows(variant.name, results))
    frequentist_seconds = time.perf_counter() - began
    if jobs:
        progress.note(f"[bold]Bayesian fits of {len(jobs)} variant model(s)[/] "
                      f"({scheduler_label(settings.scheduler)}; cached in {settings.cache})")
        paths = run_fits([job for _, job in jobs], settings.cache, PanelRef.of(base).checksum, settings.scheduler,
                         lambda job, cached: progress.note(f"  {job[0].spec.name} ({job[1].settings.draws} draws): "
                                                           f"{'from cache' if cached else 'fitted'}"),
                         retries=settings.retries)
        for (variant_name, _job), path in zip(jobs, paths):
            fitted, record = load_fit_with_record(path)
            if not record.diagnostics_passed:
                progress.note(f"[bold white on red] FIT FAILED ITS DIAGNOSTICS [/] {record.model}: flagged in the "
                              "tables")
            estimates.append(rb.posterior_rows(variant_name, fitted))
    long = pd.concat(estimates, ignore_index=True)
    findings = rb.key_findings(long, suite)
    timing = {"variants": [v.name for v in chosen], "frequentist_seconds": round(frequentist_seconds, 1),
              "bayesian_fits": len(jobs),
              "bayesian_seconds": round(time.perf_counter() - began - frequentist_seconds, 1),
              "cpus": os.cpu_count(), "scheduler": settings.scheduler or "LocalCluster",
              "variant_file": str(settings.variant_file or "")}
    return RobustnessResult({name: rb.paper_layout(results) for name, results in tables.items()}, long, findings,
                            png(rb.plot_key_interactions(findings, suite)), timing)

