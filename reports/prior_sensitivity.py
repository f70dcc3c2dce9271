"""How much the priors matter: power-scaling sensitivity of saved fits, and the interaction and its marginal
effect across refits under alternative prior sets (tables and figures; the refits come from inference.refits).

Power-scaling (Kallioinen et al. 2023, `arviz_stats.psense_summary`) perturbs the prior and the likelihood by
raising them to a power near 1 and measures how much each posterior moves: a parameter sensitive to both
signals prior-data conflict; one sensitive to the prior but not the likelihood, a weak likelihood.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from inference.diagnostics import HDI_PROB as PROB
from inference.fitting import POPULATION
from inference.store import fit_spec
from models.design import ModelData

from .posterior_effects import EffectDraws, marginal_effect_curves
from .posterior_plots import save



def psense_tree(tree) -> xr.DataTree:
    """What psense needs from a fit: the population parameters, their log prior densities and the log-likelihood
    of every draw (the sum over dyads and, for hurdles, the count part)."""
    post = tree["posterior"].to_dataset()
    return xr.DataTree.from_dict({
        "posterior": post[[v for v in POPULATION if v in post]],
        "log_prior": tree["log_prior"].to_dataset(),
        "log_likelihood": tree["log_likelihood_total"].to_dataset()})


def power_scaling(tree) -> pd.DataFrame:
    """Prior and likelihood sensitivity of every population parameter with ArviZ's diagnosis."""
    import arviz_stats as azs

    table = azs.psense_summary(psense_tree(tree))
    table = table.reset_index().rename(columns={"index": "parameter"})
    table.insert(0, "model", tree.attrs.get("model", ""))
    return table


def prior_set_table(fits: dict[str, object]) -> pd.DataFrame:
    """Per prior set: the interaction's posterior mean, sd, 94% HDI and Pr(< 0), dyad_sd, and diagnostics."""
    from arviz_stats import hdi

    rows = []
    for name, tree in fits.items():
        post = tree["posterior"]
        draws = post["coef"].sel(coef_term=fit_spec(tree).interaction_term).stack(sample=("chain", "draw"))
        low, high = hdi(draws, prob=PROB, dim="sample").values
        rows.append({"model": tree.attrs.get("model", ""), "prior_set": name, "mean": float(draws.mean()),
                     "sd": float(draws.std()), "hdi_lower": float(low), "hdi_upper": float(high),
                     "pr_negative": float((draws < 0).mean()), "dyad_sd": float(post["dyad_sd"].mean()),
                     "diagnostics_passed": bool(int(tree.attrs.get("diagnostics_passed", 0)))})
    return pd.DataFrame(rows)


def effect_curves_by_set(fits: dict[str, object], data: ModelData, kind: str = "population") -> pd.DataFrame:
    """The marginal effect of counterbalancing across the model's moderator under each prior set."""
    moderator = data.spec.interaction[1]
    frames = []
    for name, tree in fits.items():
        curve = marginal_effect_curves(EffectDraws.from_fit(tree, every=2), data, moderator, kinds=(kind,))
        frames.append(curve.assign(prior_set=name))
    return pd.concat(frames, ignore_index=True)


def plot_power_scaling(tree, path):
    """ArviZ's power-scaling plot of the interaction: its posterior with the prior and the likelihood scaled."""
    import arviz_plots as azp

    from .posterior_plots import save_arviz

    term = fit_spec(tree).interaction_term
    plot = azp.plot_psense_dist(psense_tree(tree), var_names=["coef"], coords={"coef_term": [term]}, backend="matplotlib")
    return save_arviz(plot, path)


def plot_forest(table: pd.DataFrame, path):
    """The interaction under each prior set: posterior mean and 94% HDI, Pr(< 0) written beside."""
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(table) + 1.2))
    y = np.arange(len(table))[::-1]
    ax.errorbar(table["mean"], y, xerr=[table["mean"] - table["hdi_lower"], table["hdi_upper"] - table["mean"]],
                fmt="o", color="C0", capsize=3)
    for yi, row in zip(y, table.itertuples()):
        ax.annotate(f"Pr(<0) = {row.pr_negative:.3f}", (row.hdi_upper, yi), xytext=(6, -3),
                    textcoords="offset points", fontsize=8)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, table["prior_set"])
    ax.set_xlabel(f"Interaction coefficient ({table['model'].iloc[0]}), posterior mean and 94% HDI")
    return save(fig, path)


def plot_effects_by_set(curves: pd.DataFrame, path):
    """Overlaid marginal-effect curves, one per prior set (posterior means; the default's 94% HDI shaded)."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for i, (name, part) in enumerate(curves.groupby("prior_set", sort=False)):
        if name == "default":
            ax.fill_between(part["value"], part["lower"], part["upper"], color="grey", alpha=0.2)
        ax.plot(part["value"], part["effect"], color="black" if name == "default" else f"C{i}",
                lw=2 if name == "default" else 1.2, label=name)
    ax.axhline(0, color="grey", lw=0.8)
    moderator = curves["moderator"].iloc[0]
    ax.set_xlabel(f"External threat to {moderator[-1].upper()} (model {curves['model'].iloc[0]})")
    ax.set_ylabel("Effect of counterbalancing on Pr(pact)\n(population-averaged)")
    ax.legend(frameon=False, fontsize=7, ncol=2)
    return save(fig, path)
