"""The frequentist stage: every model fitted by maximum likelihood with SEs clustered on the formula's grouping.

The paper's logits with dyad-clustered SEs, hurdle models and ordinal logits, compared with the paper's tables, and
the paper's figures drawn for the models that name them (`figures` in their spec).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..defaults import PANEL
from .base import Progress, read_png, read_table, write_markdown, write_png, write_table

PAPER_MODELS = ("m1", "m2", "m3", "m4", "h1", "h2")  # models/paper_models.toml's, in the paper's order


@dataclass(frozen=True)
class FrequentistSettings:
    """Which models to fit by maximum likelihood, on which panel: the options of `coupproof freq`.

    Parameters
    ----------
    models : tuple of str, optional
        Names of models in `specs`; default: the paper's six (m1 to m4 of Table 1, h1 and h2 of Table 2).
    panel : pathlib.Path, optional
        The panel built by `coupproof data`; default: build/panel.nc.
    specs : pathlib.Path, optional
        Your own model specs (TOML, see docs/models.md); default: the packaged ones.

    Examples
    --------
    >>> import coupproof as cp
    >>> settings = cp.FrequentistSettings(models=("m2", "m4"))
    """

    models: tuple[str, ...] = PAPER_MODELS
    panel: Path = PANEL
    specs: Path | None = None


@dataclass
class FrequentistResult:
    """The fitted parts of every model, their comparison with the paper, and the paper's figures.

    Attributes
    ----------
    fits : list of inference.frequentist.FitResult
        One per fitted part of each model (a logit has one, a hurdle model two): estimates, clustered covariance,
        fit statistics.
    metadata : dict
        The panel's provenance (path, checksum, substituted sources), the fitting time and each model's formula.
    comparison : pandas.DataFrame
        Our estimates against the paper's, one row per coefficient (empty when no paper model was fitted).
    curves : dict of str to pandas.DataFrame
        Each paper figure's curves by figure name (e.g. figure1_marginal_effects).
    figures : dict of str to bytes
        Each paper figure's drawing (PNG) by figure name.

    Examples
    --------
    >>> import coupproof as cp
    >>> freq = cp.FrequentistResult.read("build/freq")
    >>> freq.comparison
    """

    fits: list  # inference.frequentist.FitResult, one per fitted part
    metadata: dict
    comparison: pd.DataFrame
    curves: dict[str, pd.DataFrame]
    figures: dict[str, bytes]

    RESULTS = "fits.json"
    COMPARISON = "comparison"

    def write(self, out: str | os.PathLike) -> Path:
        """Write fits.json, comparison.csv and .md, and <figure>.csv and .png per paper figure, in `out`.

        Parameters
        ----------
        out : str or os.PathLike
            The output folder, e.g. build/freq.

        Returns
        -------
        pathlib.Path
            The folder.
        """
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
        """Read the results written by `write`.

        Parameters
        ----------
        out : str or os.PathLike
            The folder, e.g. build/freq.

        Returns
        -------
        FrequentistResult
            The results (an empty comparison where none was written).

        Raises
        ------
        ValueError
            If fits.json is missing or damaged, naming it.
        """
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
        """Say where the results file is that the report and the prior comparison read.

        Parameters
        ----------
        out : str or os.PathLike
            The folder, e.g. build/freq.

        Returns
        -------
        pathlib.Path
            Its fits.json.
        """
        return Path(out) / cls.RESULTS


def paper_figures(models: list, results: list) -> tuple[dict[str, pd.DataFrame], dict[str, bytes]]:
    """Draw every paper figure named by a fitted model's spec, one panel per model.

    The curves hold the other covariates at typical values, with 95% delta-method bands.

    Parameters
    ----------
    models : list of coupproof.Model
        The fitted models.
    results : list of inference.frequentist.FitResult
        Their fitted parts; a figure is drawn from a model's logit.

    Returns
    -------
    tuple of dict
        The curves (pandas.DataFrame) and the drawings (PNG bytes), each by figure name.

    Raises
    ------
    ValueError
        If a model's figure cannot be drawn (e.g. its formula has no two-way interaction of two variables), naming
        the model, the figure and the reason.
    """
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
    """Fit every model's parts by maximum likelihood and compare them with the paper.

    Every spec is checked against the panel before any fitting; `coupproof freq` runs this stage.

    Parameters
    ----------
    settings : FrequentistSettings
        The models and the panel.
    progress : Progress, optional
        Where the stage says what it is doing; default: a status line on stderr.

    Returns
    -------
    FrequentistResult
        The fitted parts, the comparison with the paper and the paper's figures, held in memory until written.

    Raises
    ------
    models.specs.SpecError
        If a model is unknown or does not fit the panel.
    data_prep.sources.DataError
        If the panel file is missing or cannot be read.

    Examples
    --------
    >>> import coupproof as cp
    >>> freq = cp.frequentist(cp.FrequentistSettings(models=("m2", "m4")))
    >>> freq.write("build/freq")
    >>> freq.comparison  # ours against the paper, one row per coefficient
    """
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
