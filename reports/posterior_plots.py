"""Figures of the Bayesian report. Each plot function only draws (the numbers come from posterior_effects,
posterior_tables and predictive) and returns the matplotlib figure; `save` writes a PNG atomically. ArviZ draws its
own diagnostics and checks (`save_arviz`).

Axes are named by the panel variables' long names (`labels`, variable -> long_name, built once from the panel by
`panel_labels`); without them, the packaged variables' long names, else the variable's own name."""

from __future__ import annotations

import io
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from data_prep.io import atomic_write

from .posterior_effects import KIND_LABELS

KIND_COLOURS = {"conditional": "C0", "population": "C1"}


def png(fig: Figure) -> bytes:
    """A figure rendered as PNG bytes, then closed: results hold their figures as PNG until they are written."""
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=110, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def png_arviz(plot_collection) -> bytes:
    """An arviz_plots PlotCollection (matplotlib backend) rendered as PNG bytes, then closed (it saves to a path
    only, so through a temporary file)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "figure.png"
        plot_collection.savefig(path, format="png", dpi=90, bbox_inches="tight")
        plt.close("all")
        return path.read_bytes()


def save(fig: Figure, path: Path) -> Path:
    """Write a figure as PNG (atomically) and close it."""
    png_bytes = png(fig)
    return atomic_write(path, lambda tmp: tmp.write_bytes(png_bytes))


def save_arviz(plot_collection, path: Path) -> Path:
    """Write an arviz_plots PlotCollection as PNG (atomically) and close it."""
    png_bytes = png_arviz(plot_collection)
    return atomic_write(path, lambda tmp: tmp.write_bytes(png_bytes))


def panel_labels(panel) -> dict[str, str]:
    """Each panel variable's long name (its `long_name` attr), to label axes and tables."""
    return {str(name): str(panel[name].attrs["long_name"]) for name in panel.data_vars
            if "long_name" in panel[name].attrs}


def default_labels() -> dict[str, str]:
    """The long names of the variables `coupproof data` builds (what a panel's attrs hold for them)."""
    from data_prep.variables import VARIABLES

    return {name: variable.long_name for name, variable in VARIABLES.items()}


def variable_label(name: str, labels: dict[str, str] | None = None) -> str:
    """A variable's or term's long name: an interaction's parts joined by ' × ', the variables inside a transform
    named (np.log1p(Counterbalancing, A)); a name without a long name stays as it is."""
    labels = default_labels() if labels is None else labels

    def one(part: str) -> str:
        if part in labels:
            return labels[part]
        return re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda m: labels.get(m.group(0), m.group(0)), part)

    return " × ".join(one(part) for part in str(name).split(":"))


def _axis_label(curves: pd.DataFrame, labels: dict[str, str] | None) -> str:
    """The moderator's long name and the model, for the x axis of effect curves."""
    return f"{variable_label(curves['moderator'].iloc[0], labels)} (model {curves['model'].iloc[0]})"


def _focal_label(curves: pd.DataFrame, labels: dict[str, str] | None) -> str:
    """The focal variable's long name (curves without a focal column are the paper's: counterbalancing)."""
    return variable_label(curves["focal"].iloc[0] if "focal" in curves else "counterbalancing_a", labels)


def plot_marginal_effects(curves: pd.DataFrame, freq: pd.DataFrame | None, labels: dict[str, str] | None = None,
                          outcome: str = "Pr(outcome)") -> Figure:
    """Figure 1 analog: the posterior effect of the focal variable on `outcome` across the moderator, conditional
    and population-averaged (94% HDI), with the frequentist curve (95% delta-method band) dashed."""
    panels = list(dict.fromkeys(zip(curves["model"], curves["moderator"])))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (model, moderator) in zip(axes[0], panels):
        part = curves[(curves["model"] == model) & (curves["moderator"] == moderator)]
        for kind, group in part.groupby("kind", sort=False):
            colour = KIND_COLOURS[kind]
            ax.fill_between(group["value"], group["lower"], group["upper"], color=colour, alpha=0.2)
            ax.plot(group["value"], group["effect"], color=colour, label=f"Bayesian, {KIND_LABELS[kind]}")
        if freq is not None:
            ref = freq[(freq["model"] == model) & (freq["moderator"] == moderator)]
            if not ref.empty:
                ax.plot(ref["value"], ref["effect"], color="black", ls="--", label="frequentist (95% band)")
                ax.plot(ref["value"], ref["lower"], color="black", ls=":", lw=0.8)
                ax.plot(ref["value"], ref["upper"], color="black", ls=":", lw=0.8)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel(_axis_label(part, labels))
        ax.set_ylabel(f"Effect of {_focal_label(part, labels)}\non {outcome}")
        ax.legend(frameon=False, fontsize=8)
    fig.suptitle("Marginal effect, other covariates at typical values (94% HDI)")
    return fig


def plot_predicted_probabilities(curves: pd.DataFrame, value: str = "probability", ylabel: str = "Pr(outcome)",
                                 labels: dict[str, str] | None = None) -> Figure:
    """Figure 3 analog: the outcome across the moderator at three levels of the focal variable, one panel per
    kind."""
    kinds = list(dict.fromkeys(curves["kind"]))
    focal = _focal_label(curves, labels)
    fig, axes = plt.subplots(1, len(kinds), figsize=(5.5 * len(kinds), 4), squeeze=False, sharey=True)
    for ax, kind in zip(axes[0], kinds):
        part = curves[curves["kind"] == kind]
        for i, (label, group) in enumerate(part.groupby("counterbalancing", sort=False)):
            ax.fill_between(group["value"], group["lower"], group["upper"], color=f"C{i}", alpha=0.2)
            ax.plot(group["value"], group[value], color=f"C{i}", label=f"{focal}: {label}")
        ax.set_title(KIND_LABELS[kind])
        ax.set_xlabel(_axis_label(part, labels))
        ax.set_ylabel(ylabel)
        ax.legend(frameon=False, fontsize=8)
    return fig


def plot_concessions(curves: pd.DataFrame, labels: dict[str, str] | None = None) -> Figure:
    """Hurdle models: Pr(any count) and the expected count across the moderator (named after the outcome)."""
    quantities = list(dict.fromkeys(curves["quantity"]))
    kinds = list(dict.fromkeys(curves["kind"]))
    focal = _focal_label(curves, labels)
    outcome = variable_label(curves["outcome"].iloc[0], labels) if "outcome" in curves else "concessions"
    fig, axes = plt.subplots(len(quantities), len(kinds), figsize=(5.5 * len(kinds), 3.6 * len(quantities)),
                             squeeze=False)
    for row, quantity in enumerate(quantities):
        for col, kind in enumerate(kinds):
            ax = axes[row][col]
            part = curves[(curves["quantity"] == quantity) & (curves["kind"] == kind)]
            for i, (label, group) in enumerate(part.groupby("counterbalancing", sort=False)):
                ax.fill_between(group["value"], group["lower"], group["upper"], color=f"C{i}", alpha=0.2)
                ax.plot(group["value"], group["estimate"], color=f"C{i}", label=f"{focal}: {label}")
            ax.set_title(f"{outcome}: {quantity}, {KIND_LABELS[kind]}", fontsize=10)
            ax.set_xlabel(_axis_label(part, labels))
            ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return fig


def plot_replicated_counts(tables: dict[str, pd.DataFrame], title: str, ylabel: str = "Events") -> Figure:
    """Observed events per group (dots) against the posterior predictive mean and 94% interval."""
    fig, axes = plt.subplots(1, len(tables), figsize=(5.5 * len(tables), 3.8), squeeze=False)
    for ax, (name, table) in zip(axes[0], tables.items()):
        x = range(len(table))
        ax.errorbar(x, table["expected"], yerr=[table["expected"] - table["lower"], table["upper"] - table["expected"]],
                    fmt="s", color="C0", capsize=3, label="replicated (94%)")
        ax.plot(x, table["observed"], "o", color="black", label="observed")
        ax.set_xticks(list(x), table["group"], rotation=30, ha="right", fontsize=8)
        ax.set_title(name)
        ax.set_ylabel(ylabel)
        ax.legend(frameon=False, fontsize=8)
    fig.suptitle(title)
    return fig


def plot_calibration(tables: dict[str, pd.DataFrame]) -> Figure:
    """Observed event rate against the mean predicted probability, by decile of prediction (log scales)."""
    fig, ax = plt.subplots(figsize=(5, 4.5))
    low = min(t.loc[t["predicted"] > 0, "predicted"].min() for t in tables.values())
    high = max(t["predicted"].max() for t in tables.values())
    for i, (name, table) in enumerate(tables.items()):
        shown = table["observed"] > 0
        ax.plot(table.loc[shown, "predicted"], table.loc[shown, "observed"], "o-", color=f"C{i}", label=name)
    ax.plot([low, high], [low, high], color="grey", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Mean predicted probability (decile of rows)")
    ax.set_ylabel("Observed rate (deciles without events not shown)")
    ax.legend(frameon=False, fontsize=8)
    return fig
