"""Figures of the Bayesian report. Each function only draws (the numbers come from posterior_effects,
posterior_tables and predictive) and saves a PNG atomically; ArviZ draws its own diagnostics and checks."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from data_prep.io import atomic_write

from .posterior_effects import KIND_LABELS

KIND_COLOURS = {"conditional": "C0", "population": "C1"}


def save(fig, path: Path) -> Path:
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png", bbox_inches="tight"))
    plt.close(fig)
    return path


def save_arviz(plot_collection, path: Path) -> Path:
    """Save an arviz_plots PlotCollection (matplotlib backend)."""
    atomic_write(path, lambda tmp: plot_collection.savefig(tmp, format="png", dpi=90, bbox_inches="tight"))
    plt.close("all")
    return path


def _threat_label(moderator: str, model: str) -> str:
    return f"External threat to {moderator[-1].upper()} (model {model})"


def plot_marginal_effects(curves: pd.DataFrame, freq: pd.DataFrame | None, path: Path) -> Path:
    """Figure 1 analog: the posterior effect of counterbalancing on Pr(pact) across threat, conditional and
    population-averaged (94% HDI), with the frequentist curve (95% delta-method band) dashed."""
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
        ax.set_xlabel(_threat_label(moderator, model))
        ax.set_ylabel("Effect of counterbalancing on Pr(pact)")
        ax.legend(frameon=False, fontsize=8)
    fig.suptitle("Marginal effect of counterbalancing, other covariates at sample means (94% HDI)")
    return save(fig, path)


def plot_predicted_probabilities(curves: pd.DataFrame, path: Path, value: str = "probability",
                                 ylabel: str = "Pr(new defense pact)") -> Path:
    """Figure 3 analog: the outcome across threat at three levels of counterbalancing, one panel per kind."""
    kinds = list(dict.fromkeys(curves["kind"]))
    fig, axes = plt.subplots(1, len(kinds), figsize=(5.5 * len(kinds), 4), squeeze=False, sharey=True)
    for ax, kind in zip(axes[0], kinds):
        part = curves[curves["kind"] == kind]
        for i, (label, group) in enumerate(part.groupby("counterbalancing", sort=False)):
            ax.fill_between(group["value"], group["lower"], group["upper"], color=f"C{i}", alpha=0.2)
            ax.plot(group["value"], group[value], color=f"C{i}", label=f"counterbalancing {label}")
        ax.set_title(KIND_LABELS[kind])
        ax.set_xlabel(_threat_label(part["moderator"].iloc[0], part["model"].iloc[0]))
        ax.set_ylabel(ylabel)
        ax.legend(frameon=False, fontsize=8)
    return save(fig, path)


def plot_concessions(curves: pd.DataFrame, path: Path) -> Path:
    """Hurdle models: Pr(any concession) and the expected number of concessions across threat."""
    quantities = list(dict.fromkeys(curves["quantity"]))
    kinds = list(dict.fromkeys(curves["kind"]))
    fig, axes = plt.subplots(len(quantities), len(kinds), figsize=(5.5 * len(kinds), 3.6 * len(quantities)),
                             squeeze=False)
    for row, quantity in enumerate(quantities):
        for col, kind in enumerate(kinds):
            ax = axes[row][col]
            part = curves[(curves["quantity"] == quantity) & (curves["kind"] == kind)]
            for i, (label, group) in enumerate(part.groupby("counterbalancing", sort=False)):
                ax.fill_between(group["value"], group["lower"], group["upper"], color=f"C{i}", alpha=0.2)
                ax.plot(group["value"], group["estimate"], color=f"C{i}", label=f"counterbalancing {label}")
            ax.set_title(f"{quantity}, {KIND_LABELS[kind]}", fontsize=10)
            ax.set_xlabel(_threat_label(part["moderator"].iloc[0], part["model"].iloc[0]))
            ax.legend(frameon=False, fontsize=7)
    return save(fig, path)


def plot_replicated_counts(tables: dict[str, pd.DataFrame], path: Path, title: str) -> Path:
    """Observed events per group (dots) against the posterior predictive mean and 94% interval."""
    fig, axes = plt.subplots(1, len(tables), figsize=(5.5 * len(tables), 3.8), squeeze=False)
    for ax, (name, table) in zip(axes[0], tables.items()):
        x = range(len(table))
        ax.errorbar(x, table["expected"], yerr=[table["expected"] - table["lower"], table["upper"] - table["expected"]],
                    fmt="s", color="C0", capsize=3, label="replicated (94%)")
        ax.plot(x, table["observed"], "o", color="black", label="observed")
        ax.set_xticks(list(x), table["group"], rotation=30, ha="right", fontsize=8)
        ax.set_title(name)
        ax.set_ylabel("New pacts")
        ax.legend(frameon=False, fontsize=8)
    fig.suptitle(title)
    return save(fig, path)


def plot_calibration(tables: dict[str, pd.DataFrame], path: Path) -> Path:
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
    return save(fig, path)
