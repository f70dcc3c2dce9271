"""The prior predictive check as a reader sees it: a table in words and a figure of each model's central prior
predictive interval against the value in the data."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from inference.prior_predictive import CENTRAL

from .formatting import present


def markdown_table(table: pd.DataFrame) -> pd.DataFrame:
    """The check's table as shown: the model's label, the quantity, the value in the data, the prior predictive
    median with its central interval, the data's percentile and whether it lies inside."""
    return present(table, hide=("model", "simulations"))[0]


def plot_prior_predictive(table: pd.DataFrame) -> Figure:
    """One panel per quantity: each model's central prior predictive interval (line) and median (dot), the value
    in the data as a cross (red where it lies outside); event rates on a log scale."""
    quantities = list(dict.fromkeys(table["quantity"]))
    heights = [max(1.2, 0.28 * (table["quantity"] == q).sum() + 0.6) for q in quantities]
    fig, axes = plt.subplots(len(quantities), 1, figsize=(8, sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, quantity in zip(axes[:, 0], quantities):
        rows = table[table["quantity"] == quantity].reset_index(drop=True)
        y = np.arange(len(rows))[::-1]
        ax.hlines(y, rows["prior_low"], rows["prior_high"], color="0.45", lw=2,
                  label=f"prior predictive, central {CENTRAL:.0%}")
        ax.plot(rows["prior_median"], y, "o", color="0.2", ms=4, label="prior predictive median")
        colours = np.where(rows["inside"].astype(bool), "tab:blue", "tab:red")
        ax.scatter(rows["in_data"], y, marker="x", s=45, c=colours, zorder=3, label="in the data")
        ax.set_yticks(y, rows["label"].str.slice(0, 60))
        if quantity == "event rate" and (rows[["prior_low", "in_data"]] > 0).all().all():
            ax.set_xscale("log")
        ax.set_title(quantity, loc="left", fontsize=10)
    axes[0, 0].legend(loc="lower right", fontsize=7, frameon=False)
    fig.tight_layout()
    return fig
