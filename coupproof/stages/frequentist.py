"""The frequentist stage: every model fitted by maximum likelihood with SEs clustered on the formula's grouping (the
paper's logits with dyad-clustered SEs, hurdle models, ordinal logits), compared with the paper's tables, and the
paper's figures drawn for the models that name them (`figures` in their spec)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..defaults import FREQ, PANEL
from .base import Progress, read_png, read_table, write_markdown, write_png, write_table

PAPER_MODELS = ("m1", "m2", "m3", "m4", "h1", "h2")  # models/paper_models.toml's, in the paper's order


@dataclass(frozen=True)
class FrequentistSettings:
    """Which models (names of `specs`, default the paper's six) on which panel."""

    models: tuple[str, ...] = PAPER_MODELS
    panel: Path = PANEL
    specs: Path | None = None


@dataclass
class FrequentistResult:
    """The fitted parts of every model (`fits`, with the panel's provenance in `metadata`), their comparison with
    the paper, and each paper figure's curves and drawing by figure name."""

    fits: list  # inference.frequentist.FitResult, one per fitted part
    metadata: dict
    comparison: pd.DataFrame
    curves: dict[str, pd.DataFrame]
    figures: dict[str, bytes]

    RESULTS = "fits.json"
    COMPARISON = "comparison"

    def write(self, out: str | os.PathLike) -> Path:
        """fits.json, comparison.csv/.md, and <figure>.csv/.png per paper figure, in `out`."""
        from inference.frequentist import save_results

        out = Path(out)
        save_results(self.fits, out / self.RESULTS, self.metadata)
        write_table(out / f"{self.COMPARISON}.csv", self.comparison)
        write_markdown(out / f"{self.COMPARISON}.md", "Our estimates against McWard & Yoon (2023)", self.comparison)
        for name, curves in self.curves.items():
            write_table(out / f"{name}.csv", curves)
            write_png(out / f"{name}.png", self.figures[name])
        return out

    @classmethod
    def read(cls, out: str | os.PathLike) -> "FrequentistResult":
        """The results written by `write` (a missing or damaged fits.json raises ValueError naming it)."""
        from inference.frequentist import load_results
        from models.specs import FIGURE_KINDS

        out = Path(out)
        fits, metadata = load_results(out / cls.RESULTS)
        comparison = read_table(out / f"{cls.COMPARISON}.csv")
        names = sorted(p.stem for p in out.glob("*.csv") if p.stem.endswith(FIGURE_KINDS))
        return cls(fits, metadata, comparison if comparison is not None else pd.DataFrame(),
                   {name: pd.read_csv(out / f"{name}.csv") for name in names},
                   {name: png for name in names if (png := read_png(out / f"{name}.png")) is not None})

    @classmethod
    def path(cls, out: str | os.PathLike) -> Path:
        """The results file the report and the prior comparison read."""
        return Path(out) / cls.RESULTS


def paper_figures(models: list, results: list) -> tuple[dict[str, pd.DataFrame], dict[str, bytes]]:
    """The curves and drawing of every paper figure named by a fitted model's spec (one panel per model), other
    covariates at typical values, with 95% delta-method bands."""
    from reports.frequentist import (interaction_variables, marginal_effect_curve, plot_marginal_effects,
                                     plot_predicted_probabilities, predicted_probability_curve)
    from reports.posterior_plots import png

    logits = {fit.model: fit for fit in results if fit.part == "logit"}
    members: dict[str, list] = {}
    for model in models:
        for figure in model.spec.figures:
            if model.spec.name in logits:
                members.setdefault(figure, []).append(model)
    curves, figures = {}, {}
    for figure, drawn in members.items():
        frames = []
        for model in drawn:
            found = interaction_variables(model.data)
            if isinstance(found, str):
                raise ValueError(f"model {model.spec.name}: figure {figure}: {found}")
            if figure.endswith("marginal_effects"):
                frames.append(marginal_effect_curve(logits[model.spec.name], model.data, found[1]))
            else:
                frames.append(predicted_probability_curve(logits[model.spec.name], model.data, found[1]))
        curves[figure] = pd.concat(frames, ignore_index=True)
        plot = plot_marginal_effects if figure.endswith("marginal_effects") else plot_predicted_probabilities
        figures[figure] = png(plot(curves[figure]))
    return curves, figures


def frequentist(settings: FrequentistSettings, progress: Progress | None = None) -> FrequentistResult:
    """Fit every model's parts by maximum likelihood and compare them with the paper (every spec is checked
    against the panel before any fitting)."""
    from data_prep.panel import read_panel
    from inference.record import PanelRef
    from models.specs import get_spec, load_specs
    from reports.frequentist import compare_with_paper

    from ..api import Model

    progress = progress or Progress()
    known = load_specs(settings.specs)
    chosen = [get_spec(name, known) for name in settings.models]
    ds = read_panel(settings.panel)
    models = [Model(spec, ds) for spec in chosen]
    results = []
    began = time.perf_counter()
    for model in models:
        with progress.status(f"Fitting {model.spec.label} ({model.spec.name}) ..."):
            results.extend(model.fit_frequentist())
    elapsed = time.perf_counter() - began
    panel = PanelRef.of(ds, str(settings.panel))
    metadata = {"panel": panel.path, "panel_checksum": panel.checksum, "substitutes": panel.substitutes,
                "fit_seconds": round(elapsed, 2), "formulas": {m.spec.name: m.spec.formula for m in models}}
    curves, figures = paper_figures(models, results)
    return FrequentistResult(results, metadata, compare_with_paper(results), curves, figures)
