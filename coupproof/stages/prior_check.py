"""The prior predictive check stage: whether the priors put each observed outcome where it could come from.

For each chosen model (and each Bayesian version of the chosen robustness variants) the outcome is simulated from
the priors on the model's own design, and the observed event rate (count mean, category shares) is compared with
the central 90% of its prior predictive distribution (inference.prior_predictive).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from inference.settings import DEFAULT_SEED

from ..defaults import PANEL
from .base import Progress, at_least, read_png, read_table, write_markdown, write_png, write_table


@dataclass(frozen=True)
class PriorCheckSettings:
    """Which models' priors to check, on which panel: the options of `coupproof prior-check`.

    Parameters
    ----------
    models : tuple of str, optional
        Names of models in `specs`; default: none (give models, variants or both).
    variants : tuple of str, optional
        Robustness variants (models/robustness.toml) whose Bayesian versions are checked too; their panels are
        built from the raw files in `data_dir` where the variant asks for other panel options.
    panel : pathlib.Path, optional
        The panel the models are fitted on; default: build/panel.nc.
    specs : pathlib.Path, optional
        Your own model specs (TOML); default: the packaged ones.
    priors : str, optional
        A packaged prior set or a prior file; default: the default priors.
    data_dir : pathlib.Path, optional
        Raw data directory for the variants' panels; default: ../shared/data/raw or COUPPROOF_DATA_DIR.
    simulations : int, optional
        Prior predictive draws per model (default: 400).
    seed : int, optional
        Random seed.

    Raises
    ------
    ValueError
        If `simulations` is below 20 or neither models nor variants are given.

    Examples
    --------
    >>> import coupproof as cp
    >>> settings = cp.PriorCheckSettings(models=("m2", "m4"), variants=("monadic",))
    """

    models: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    panel: Path = PANEL
    specs: Path | None = None
    priors: str | None = None
    data_dir: Path | None = None
    simulations: int = 400
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        at_least(self.simulations, 20, "simulations")
        if not self.models and not self.variants:
            raise ValueError("--models and --variants name nothing to check; give at least one model or variant")


@dataclass
class PriorCheckResult:
    """The prior predictive check of every chosen model: one row per model and quantity, and a figure.

    Attributes
    ----------
    table : pandas.DataFrame
        model, label, quantity, in_data, prior_low / prior_median / prior_high (the central 90% and median of the
        prior predictive distribution), percentile (of the value in the data), simulations, inside.
    figure : bytes
        The intervals against the observed values (PNG).
    metadata : dict
        The panel, priors, simulations, seed and time taken.

    Examples
    --------
    >>> import coupproof as cp
    >>> check = cp.PriorCheckResult.read("build/prior_check")
    >>> check.table[~check.table.inside]  # the priors in conflict with their data
    """

    table: pd.DataFrame
    figure: bytes
    metadata: dict

    NAME = "prior_predictive"

    @property
    def passed(self) -> bool:
        """Whether every observed value lies inside its central prior predictive interval."""
        return bool(self.table["inside"].all())

    def write(self, out: str | os.PathLike) -> Path:
        """Write prior_predictive.csv, .md, .png and .json in `out`.

        Parameters
        ----------
        out : str or os.PathLike
            The output folder, e.g. build/prior_check.

        Returns
        -------
        pathlib.Path
            The folder.
        """
        import json

        from data_prep.io import atomic_write_text
        from reports.prior_predictive import markdown_table

        out = Path(out)
        write_table(out / f"{self.NAME}.csv", self.table)
        write_markdown(out / f"{self.NAME}.md", "Prior predictive check: observed values against the priors",
                       markdown_table(self.table), floatfmt="")
        write_png(out / f"{self.NAME}.png", self.figure)
        atomic_write_text(out / f"{self.NAME}.json", json.dumps(self.metadata, indent=2))
        return out

    @classmethod
    def read(cls, out: str | os.PathLike) -> "PriorCheckResult | None":
        """Read the results written by `write`.

        Parameters
        ----------
        out : str or os.PathLike
            The folder, e.g. build/prior_check.

        Returns
        -------
        PriorCheckResult or None
            The results, or None where the folder holds none.
        """
        import json

        out = Path(out)
        table = read_table(out / f"{cls.NAME}.csv")
        if table is None:
            return None
        meta = out / f"{cls.NAME}.json"
        return cls(table, read_png(out / f"{cls.NAME}.png") or b"",
                   json.loads(meta.read_text()) if meta.is_file() else {})


def check_priors(settings: PriorCheckSettings, progress: Progress | None = None) -> PriorCheckResult:
    """Simulate each chosen model's outcome from its priors and compare it with the observed outcome.

    `coupproof prior-check` runs this stage; `make prior-check` runs it on every packaged study and variant.

    Parameters
    ----------
    settings : PriorCheckSettings
        The models, variants, panel, priors and number of simulations.
    progress : Progress, optional
        Where the stage says what it is doing; default: a progress bar on stderr.

    Returns
    -------
    PriorCheckResult
        One row per model and quantity, and the figure, held in memory until written.

    Raises
    ------
    models.specs.SpecError
        If a model is unknown or does not fit the panel.
    models.priors.PriorError
        If the priors cannot be used.
    models.robustness.VariantError
        If a variant is unknown.

    Examples
    --------
    >>> import coupproof as cp
    >>> check = cp.check_priors(cp.PriorCheckSettings(models=("m4",)))
    >>> check.passed
    """
    from data_prep.panel import panel_frame, read_panel
    from inference.prior_predictive import prior_predictive
    from inference.record import PanelRef
    from inference.robustness import prepare_variant
    from models.design import model_data
    from models.priors import load_priors
    from models.robustness import get_variants, load_suite
    from models.specs import get_spec, load_specs
    from reports.posterior_plots import png
    from reports.prior_predictive import plot_prior_predictive

    from .robustness import panel_builder

    progress = progress or Progress()
    priors = load_priors(settings.priors)
    known = load_specs(settings.specs)
    specs = [get_spec(name, known) for name in settings.models]
    variants = get_variants(",".join(settings.variants), load_suite().variants) if settings.variants else []
    panel = read_panel(settings.panel)
    frame = panel_frame(panel)
    datasets = [model_data(frame, spec) for spec in specs]  # every model checked against the panel first
    build = panel_builder(settings.data_dir, progress)
    for variant in variants:
        datasets += prepare_variant(variant, panel, build, bayes=True)[1]
    began = time.perf_counter()
    tables = []
    with progress.bar("Prior predictive simulations", len(datasets)) as advance:
        for data in datasets:
            tables.append(prior_predictive(data, priors, settings.simulations, settings.seed).table())
            advance()
    table = pd.concat(tables, ignore_index=True)
    metadata = {"panel": str(settings.panel), "panel_checksum": PanelRef.of(panel).checksum,
                "priors": settings.priors or "default", "simulations": settings.simulations,
                "seed": settings.seed, "variants": list(settings.variants),
                "seconds": round(time.perf_counter() - began, 1)}
    return PriorCheckResult(table, png(plot_prior_predictive(table)), metadata)
