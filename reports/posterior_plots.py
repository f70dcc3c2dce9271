"""Figures of the Bayesian report. Each plot function only draws (the numbers come from inference.effects through
posterior_effects, from posterior_tables and predictive) and returns the matplotlib figure; `save` writes a PNG
atomically. ArviZ draws its own diagnostics and checks (`save_arviz`). `plot_effects` draws any frame of
inference.effects (predictions, comparisons, slopes).

Axes are named by the panel variables' long names (`labels`, variable -> long_name, built once from the panel by
`panel_labels`); without them, the packaged variables' long names, else the variable's own name."""

from __future__ import annotations

import io
import re
from itertools import cycle
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from data_prep.io import atomic_write
from inference.effects import SUMMARY_COLUMNS, format_value

KIND_COLOURS = {"conditional": "C0", "population": "C1"}
KIND_LABELS = {"conditional": "conditional (group effect 0)", "population": "population-averaged"}


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
    """Each panel variable's long name (its `long_name` attr), to label axes and tables; variables without one are
    left out (every labelling falls back to the variable's own name)."""
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
    """The long name of the focal variable of a set of curves."""
    return variable_label(curves["focal"].iloc[0], labels)


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
        for i, (label, group) in enumerate(part.groupby("focal_level", sort=False)):
            ax.fill_between(group["value"], group["lower"], group["upper"], color=f"C{i}", alpha=0.2)
            ax.plot(group["value"], group[value], color=f"C{i}", label=f"{focal}: {label}")
        ax.set_title(KIND_LABELS[kind])
        ax.set_xlabel(_axis_label(part, labels))
        ax.set_ylabel(ylabel)
        ax.legend(frameon=False, fontsize=8)
    return fig


def plot_counts(curves: pd.DataFrame, labels: dict[str, str] | None = None) -> Figure:
    """Hurdle models: Pr(any count) and the expected count across the moderator (named after the outcome)."""
    quantities = list(dict.fromkeys(curves["quantity"]))
    kinds = list(dict.fromkeys(curves["kind"]))
    focal = _focal_label(curves, labels)
    outcome = variable_label(curves["outcome"].iloc[0], labels)
    fig, axes = plt.subplots(len(quantities), len(kinds), figsize=(5.5 * len(kinds), 3.6 * len(quantities)),
                             squeeze=False)
    for row, quantity in enumerate(quantities):
        for col, kind in enumerate(kinds):
            ax = axes[row][col]
            part = curves[(curves["quantity"] == quantity) & (curves["kind"] == kind)]
            for i, (label, group) in enumerate(part.groupby("focal_level", sort=False)):
                ax.fill_between(group["value"], group["lower"], group["upper"], color=f"C{i}", alpha=0.2)
                ax.plot(group["value"], group["estimate"], color=f"C{i}", label=f"{focal}: {label}")
            ax.set_title(f"{outcome}: {quantity}, {KIND_LABELS[kind]}", fontsize=10)
            ax.set_xlabel(_axis_label(part, labels))
            ax.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    return fig


def plot_effects(frame: pd.DataFrame, x: str | None = None, labels: dict[str, str] | None = None) -> Figure:
    """One panel per quantity of a frame of inference.effects: the estimate against `x` (default: the first grid
    column) with its HDI band, conditional and population-averaged in two colours; other grid columns and contrasts
    give one line each (categories on x: points with HDI bars, side by side). Axes are named by `labels` (e.g.
    `panel_labels(panel)`), else the column names. Returns the figure (not saved, not closed)."""
    labels = labels or {}
    grid = [c for c in frame.columns if c not in SUMMARY_COLUMNS]
    x = x or (grid[0] if grid else None)
    if x is None or x not in frame:
        raise ValueError(f"nothing to plot against: give x, one of the frame's grid columns ({grid or 'none'})")
    lines = [c for c in (*grid, "contrast") if c in frame and c != x]
    quantities = list(dict.fromkeys(frame["quantity"]))
    fig, axes = plt.subplots(1, len(quantities), figsize=(4.2 * len(quantities), 3.4), squeeze=False)
    numeric = pd.api.types.is_numeric_dtype(frame[x])
    positions = None if numeric else {v: i for i, v in enumerate(dict.fromkeys(frame[x]))}
    n_lines = frame.groupby(["kind", *lines], sort=False).ngroups
    for ax, quantity in zip(axes[0], quantities):
        rows = frame[frame["quantity"] == quantity]
        number = 0
        for kind, by_kind in rows.groupby("kind", sort=False):
            styles, markers = cycle(["-", "--", ":", "-."]), cycle("os^D")
            groups = by_kind.groupby(lines, sort=False) if lines else [((), by_kind)]
            for key, line in groups:
                key = key if isinstance(key, tuple) else (key,)
                suffix = ", ".join(f"{labels.get(c, c)}={format_value(v)}" for c, v in zip(lines, key))
                label = KIND_LABELS.get(kind, kind) + (f"; {suffix}" if suffix else "")
                colour = KIND_COLOURS.get(kind, "C2")
                if numeric:
                    _draw_curve(ax, line.sort_values(x), x, colour, next(styles), label)
                else:
                    offset = 0.3 * ((number + 0.5) / n_lines - 0.5) * 2
                    _draw_points(ax, line, x, positions, offset, colour, next(markers), label)
                number += 1
        if positions is not None:
            ax.set_xticks(list(positions.values()), [format_value(v) for v in positions])
        ax.set_title(_panel_title(frame, quantity, labels), fontsize=9)
        ax.set_xlabel(labels.get(x, x))
        ax.set_ylabel(_value_label(frame, quantity))
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _panel_title(frame: pd.DataFrame, quantity: str, labels: dict[str, str]) -> str:
    """What a panel of `plot_effects` shows: the derivative, the change or the quantity itself."""
    variable = frame.attrs.get("variable")
    name = labels.get(variable, variable)
    if frame.attrs.get("effect") == "slope":
        if quantity.startswith("cross-partial: ") and frame.attrs.get("grid"):
            moderator = labels.get(frame.attrs["grid"][0], frame.attrs["grid"][0])
            return f"d\u00b2 {quantity.removeprefix('cross-partial: ')} / d {name} d {moderator}"
        return f"d {quantity} / d {name}"
    if frame.attrs.get("effect") == "comparison":
        return f"{quantity}: change with {name}"
    return quantity


def _value_label(frame: pd.DataFrame, quantity: str) -> str:
    """The y axis of a panel of `plot_effects`."""
    effect = frame.attrs.get("effect")
    if effect == "comparison":
        return f"difference in {quantity}"
    if effect == "slope" and not quantity.startswith("cross-partial"):
        return f"slope of {quantity}"
    return quantity


def _draw_curve(ax, line: pd.DataFrame, x: str, colour: str, style: str, label: str) -> None:
    """The estimate as a line over a numeric x with its HDI as a band."""
    ax.plot(line[x], line["estimate"], color=colour, linestyle=style, label=label)
    ax.fill_between(line[x], line["lower"], line["upper"], color=colour, alpha=0.2, linewidth=0)


def _draw_points(ax, line: pd.DataFrame, x: str, positions: dict, offset: float, colour: str, marker: str,
                 label: str) -> None:
    """The estimate as points with HDI bars at the categories of x, shifted by `offset` so lines sit apart."""
    where = np.array([positions[v] for v in line[x]], dtype=float) + offset
    errors = [line["estimate"] - line["lower"], line["upper"] - line["estimate"]]
    ax.errorbar(where, line["estimate"], yerr=errors, color=colour, fmt=marker, capsize=3, markersize=4, label=label)


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
