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
from matplotlib.figure import Figure

from inference.diagnostics import HDI_PROB as PROB
from inference.effects import PosteriorDraws
from inference.fitting import population_names
from inference.record import fit_record
from models.builders import CENTRED_INTERCEPT
from models.design import ModelData
from models.specs import ModelSpec

from .frequentist import interaction_variables
from .posterior_effects import MARGINAL_EFFECT_COLUMNS, marginal_effect_curves
from .posterior_plots import variable_label


# The intercepts and cut points as their priors state them (the average row's log-odds, the positive rows' average
# log count, the average category shares): where a fit samples one, power-scaling reports it in place of the
# original-scale intercept or cut points at x = 0, functions of the slopes whose sensitivity only repeats theirs
# (Table 2 Model 2's count part: 0.085 at x = 0, 0.017 as sampled).
CENTRED = {CENTRED_INTERCEPT: "coef[Intercept]", f"count_{CENTRED_INTERCEPT}": "count_coef[Intercept]",
           "category_probs": "cutpoints"}


def _replaced(parameter: str, names) -> bool:
    """Whether a parameter (`cutpoints[0|1]`, `coef[Intercept]`) is one a sampled quantity of CENTRED stands for."""
    return any(parameter == CENTRED[v] or parameter.startswith(CENTRED[v] + "[") for v in names)


def psense_tree(tree) -> xr.DataTree:
    """What psense needs from a fit: the population parameters (the intercepts as their priors state them, where
    sampled so), their log prior densities and the log-likelihood of every draw (the sum over groups or rows and,
    for hurdles, the count part)."""
    post = tree["posterior"].to_dataset()
    names = [v for v in population_names(fit_record(tree).spec) if v in post] + [v for v in CENTRED if v in post]
    return xr.DataTree.from_dict({
        "posterior": post[names],
        "log_prior": tree["log_prior"].to_dataset(),
        "log_likelihood": tree["log_likelihood_total"].to_dataset()})


def power_scaling(tree) -> pd.DataFrame:
    """Prior and likelihood sensitivity of every population parameter with ArviZ's diagnosis (the intercepts and cut
    points as their priors state them where the fit samples them so: CENTRED)."""
    import arviz_stats as azs

    table = azs.psense_summary(psense_tree(tree))
    table = table.reset_index().rename(columns={"index": "parameter"})
    sampled = {p.split("[")[0] for p in table["parameter"]} & set(CENTRED)
    table = table[~table["parameter"].map(lambda p: _replaced(p, sampled))].reset_index(drop=True)
    table.insert(0, "model", fit_record(tree).model)
    return table


def focus_term(spec: ModelSpec, tree) -> str:
    """The coefficient the prior-set comparison follows: the spec's key effect, else the interaction, else the first
    slope."""
    terms = [str(t) for t in tree["posterior"]["coef_term"].values]
    if spec.effect and spec.effect in terms:
        return spec.effect
    if spec.interaction_term is not None:
        return spec.interaction_term
    slopes = [t for t in terms if t != "Intercept"]
    return slopes[0] if slopes else terms[0]


def prior_set_table(fits: dict[str, object]) -> pd.DataFrame:
    """Per prior set: the interaction's (else the first slope's) posterior mean, sd, 94% HDI and Pr(< 0), the
    group sd's posterior mean (a column named after it, e.g. dyad_sd), and the diagnostics."""
    from arviz_stats import hdi

    rows = []
    for name, tree in fits.items():
        post, record = tree["posterior"], fit_record(tree)
        spec = record.spec
        term = focus_term(spec, tree)
        draws = post["coef"].sel(coef_term=term).stack(sample=("chain", "draw"))
        low, high = hdi(draws, prob=PROB, dim="sample").values
        group_sd = {spec.group_sd: float(post[spec.group_sd].mean())} if spec.group and spec.group_sd in post else {}
        rows.append({"model": record.model, "prior_set": name, "term": term,
                     "mean": float(draws.mean()), "sd": float(draws.std()), "hdi_lower": float(low),
                     "hdi_upper": float(high), "pr_negative": float((draws < 0).mean()), **group_sd,
                     "diagnostics_passed": record.diagnostics_passed})
    return pd.DataFrame(rows)


def effect_curves_by_set(fits: dict[str, object], data: ModelData, kind: str = "population") -> pd.DataFrame:
    """The marginal effect of the focal variable across the model's moderator under each prior set (the
    conditional curve for models without a group); empty for models without such an interaction."""
    found = interaction_variables(data)
    if isinstance(found, str):
        return pd.DataFrame(columns=[*MARGINAL_EFFECT_COLUMNS, "prior_set"])
    frames = []
    for name, tree in fits.items():
        draws = PosteriorDraws.from_tree(tree, data, every=2)
        kinds = (kind,) if draws.group_sd is not None else ("conditional",)
        frames.append(marginal_effect_curves(draws, data, found[1], kinds=kinds).assign(prior_set=name))
    return pd.concat(frames, ignore_index=True)


def plot_power_scaling(tree):
    """ArviZ's power-scaling plot of the interaction (else the first slope): its posterior with the prior and the
    likelihood scaled (an arviz_plots PlotCollection; save it with posterior_plots.save_arviz)."""
    import arviz_plots as azp

    term = focus_term(fit_record(tree).spec, tree)
    plot = azp.plot_psense_dist(psense_tree(tree), var_names=["coef"], coords={"coef_term": [term]},
                                backend="matplotlib")
    return plot


def plot_forest(table: pd.DataFrame, labels: dict[str, str] | None = None) -> Figure:
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
    term = variable_label(table["term"].iloc[0], labels) if "term" in table else "Interaction"
    ax.set_xlabel(f"Coefficient of {term} ({table['model'].iloc[0]}),\nposterior mean and 94% HDI")
    return fig


def plot_effects_by_set(curves: pd.DataFrame, labels: dict[str, str] | None = None) -> Figure:
    """Overlaid marginal-effect curves, one per prior set (posterior means; the default's 94% HDI shaded); a note
    instead for a model without such an interaction."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    if curves.empty:
        ax.text(0.5, 0.5, "No effect curves: the model has no interaction of two numeric variables",
                ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    for i, (name, part) in enumerate(curves.groupby("prior_set", sort=False)):
        if name == "default":
            ax.fill_between(part["value"], part["lower"], part["upper"], color="grey", alpha=0.2)
        ax.plot(part["value"], part["effect"], color="black" if name == "default" else f"C{i}",
                lw=2 if name == "default" else 1.2, label=name)
    ax.axhline(0, color="grey", lw=0.8)
    first = curves.iloc[0]
    outcome = variable_label(first["outcome"], labels)
    ax.set_xlabel(f"{variable_label(first['moderator'], labels)} (model {first['model']})")
    ax.set_ylabel(f"Effect of {variable_label(first['focal'], labels)}\non Pr({outcome}) ({first['kind']})")
    ax.legend(frameon=False, fontsize=7, ncol=2)
    return fig
