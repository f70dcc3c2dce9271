"""Side-by-side comparison of our frequentist estimates with the paper's, and the Figure 1 and Figure 3 analogs.

Reads saved fits (inference.frequentist.save_results) and the panel; never refits. The paper's numbers come from
reports/reference/mcward_yoon_2023_tables.csv.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from inference.effects import CURVE_POINTS, design_derivative, focal_levels, grid_frame, observed_range
from inference.frequentist import FitResult
from models.design import ModelData

REFERENCE = Path(__file__).resolve().parent / "reference" / "mcward_yoon_2023_tables.csv"
Z95 = norm.ppf(0.975)


def compare_with_paper(results: list[FitResult], reference: Path = REFERENCE) -> pd.DataFrame:
    """Every paper coefficient next to ours (with our dyad-clustered SE and, on a dyadic design, Aronow, Samii &
    Assenova's dyad-robust SE): difference in paper SEs, sign agreement, within 2 paper SEs.

    Also rows for N and (where reported) the log-likelihood. Our parts without a paper counterpart are listed
    with empty paper columns.
    """
    paper = pd.read_csv(reference)
    rows = []
    for fit in results:
        table = fit.table
        extra = {"N": fit.nobs, "loglik": fit.loglik}
        for term in [*fit.terms, "N", "loglik"]:
            ours = extra.get(term, table["estimate"].get(term))
            rows.append({"model": fit.model, "part": fit.part, "term": term, "ours": ours,
                         "our_se": table["se"].get(term, np.nan),
                         "our_se_dyad_robust": table.get("se_dyad_robust", pd.Series(dtype=float)).get(term, np.nan)})
    ours = pd.DataFrame(rows)
    merged = ours.merge(paper, on=["model", "part", "term"], how="left")
    fitted_models = set(ours["model"])
    paper_only = paper[paper["model"].isin(fitted_models)].merge(ours[["model", "part", "term"]], how="left",
                                                                 indicator=True)
    merged = pd.concat([merged, paper_only[paper_only["_merge"] == "left_only"].drop(columns="_merge")],
                       ignore_index=True)
    merged = merged.rename(columns={"estimate": "paper", "se": "paper_se"})
    merged["diff_in_paper_se"] = (merged["ours"] - merged["paper"]) / merged["paper_se"]
    coefficient = merged["paper_se"].notna() & merged["ours"].notna()
    merged["sign_agrees"] = pd.Series(np.sign(merged["ours"]) == np.sign(merged["paper"]), dtype="object") \
        .where(coefficient, None)
    merged["within_2_paper_se"] = pd.Series(merged["diff_in_paper_se"].abs() <= 2, dtype="object") \
        .where(coefficient, None)
    merged = merged[merged["ours"].notna() | merged["paper"].notna()]
    return merged[["model", "part", "term", "ours", "our_se", "our_se_dyad_robust", "paper", "paper_se",
                   "diff_in_paper_se", "sign_agrees", "within_2_paper_se"]].reset_index(drop=True)


def term_variable(data: ModelData, term: str) -> str | None:
    """The one numeric panel variable a term of the formula reads ('x' for 'x' or 'np.log1p(x)'); None when it
    reads none, several, or a category."""
    tokens = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", term))
    found = [v for v in data.rows.columns if v in tokens and v != data.spec.outcome]
    if len(found) != 1 or f"C({found[0]})" in term.replace(" ", ""):
        return None
    return found[0] if pd.api.types.is_numeric_dtype(data.rows[found[0]]) else None


def interaction_variables(data: ModelData) -> tuple[str, str] | str:
    """The (focal, moderator) panel variables of the spec's interaction, or a one-line reason why effect curves
    do not apply to this model."""
    spec = data.spec
    if not spec.family_info.has("effect_curves"):
        return (f"effect curves on the probability scale are drawn for binary and hurdle outcomes, not the "
                f"{spec.family} family")
    if spec.interaction is None:
        return "the formula has no two-way interaction to centre the effect curves on"
    variables = tuple(term_variable(data, term) for term in spec.interaction)
    if None in variables or variables[0] == variables[1]:
        return (f"the interaction {spec.interaction_term} does not read two distinct numeric variables, so there "
                "is no slope to draw across a moderator")
    return variables


def curve_variables(data: ModelData, focal: str | None = None, moderator: str | None = None) -> tuple[str, str]:
    """The focal variable and the moderator of effect curves: those given, else the spec's interaction's (focal
    first); a ValueError naming why when one is wanted and the model has no interaction of two numeric variables."""
    if focal is not None and moderator is not None:
        return focal, moderator
    found = interaction_variables(data)
    if isinstance(found, str):
        raise ValueError(f"model {data.spec.name}: {found}")
    return focal or found[0], moderator or found[1]


def curve_columns(data: ModelData, focal: str, moderator: str, values) -> dict:
    """The columns every effect curve (frequentist and posterior) starts with: model, outcome, focal, moderator
    and the moderator's `value`s."""
    return {"model": data.spec.name, "outcome": data.spec.outcome, "focal": focal, "moderator": moderator,
            "value": values}


def _estimates(fit: FitResult, columns) -> tuple[pd.Series, pd.DataFrame]:
    """The fit's estimates and covariance in the order of the design's columns."""
    missing = [c for c in columns if c not in fit.terms]
    if missing:
        raise ValueError(f"model {fit.model}: the frequentist fit has no estimate for {', '.join(missing)}; was it "
                         "fitted with another formula?")
    columns = list(columns)
    return fit.table["estimate"][columns], fit.covariance.loc[columns, columns]


def marginal_effect_curve(fit: FitResult, data: ModelData, moderator: str, points: int = CURVE_POINTS,
                          focal: str | None = None) -> pd.DataFrame:
    """d Pr(y = 1) / d focal (default: the interaction's first variable) across the observed range of
    `moderator`, other variables at typical values (the grid and the design's derivative of inference.effects),
    with 95% delta-method bands. Also the log-odds effect (b_focal + b_int * z for the paper's models) and its
    band."""
    focal, moderator = curve_variables(data, focal, moderator)
    grid = observed_range(data, moderator, points)
    rows = grid_frame(data, {moderator: grid})
    X, dX = data.new_design(rows), design_derivative(data, rows, focal)
    beta, cov = _estimates(fit, X.columns)
    X, dX, b, V = X.to_numpy(), dX.to_numpy(), beta.to_numpy(), cov.to_numpy()
    p = expit(X @ b)
    density = p * (1 - p)
    slope = dX @ b
    effect = density * slope
    grad = (density * (1 - 2 * p) * slope)[:, None] * X + density[:, None] * dX
    se = np.sqrt(np.einsum("ij,jk,ik->i", grad, V, grad))
    se_logodds = np.sqrt(np.einsum("ij,jk,ik->i", dX, V, dX))
    return pd.DataFrame({**curve_columns(data, focal, moderator, grid), "effect": effect, "lower": effect - Z95 * se,
                         "upper": effect + Z95 * se, "logodds_effect": slope, "logodds_lower": slope - Z95 * se_logodds,
                         "logodds_upper": slope + Z95 * se_logodds})


def predicted_probability_curve(fit: FitResult, data: ModelData, moderator: str, points: int = CURVE_POINTS,
                                focal: str | None = None) -> pd.DataFrame:
    """Pr(y = 1) across `moderator` at the focal variable's `focal_levels` (0, its mean and mean + 1 sd), other
    variables at typical values; 95% bands from the delta method on the logit scale."""
    focal, moderator = curve_variables(data, focal, moderator)
    grid = observed_range(data, moderator, points)
    frames = []
    for label, level in focal_levels(data, focal).items():
        X = data.new_design(grid_frame(data, {moderator: grid, focal: [level]}))
        beta, cov = _estimates(fit, X.columns)
        eta = X.to_numpy() @ beta.to_numpy()
        se = np.sqrt(np.einsum("ij,jk,ik->i", X.to_numpy(), cov.to_numpy(), X.to_numpy()))
        frames.append(pd.DataFrame({**curve_columns(data, focal, moderator, grid), "focal_level": label,
                                    "focal_value": level, "probability": expit(eta), "lower": expit(eta - Z95 * se),
                                    "upper": expit(eta + Z95 * se)}))
    return pd.concat(frames, ignore_index=True)


def _outcome_label(curves: pd.DataFrame, labels: dict[str, str] | None) -> str:
    """'Pr(<outcome's long name>)' of a set of curves."""
    from .posterior_plots import variable_label

    return f"Pr({variable_label(str(curves['outcome'].iloc[0]), labels)})"


def plot_marginal_effects(curves: pd.DataFrame, labels: dict[str, str] | None = None):
    """Figure 1 analog: one panel per model and moderator, effect on the probability with its band; axes named by
    the variables' long names (`labels`, default the packaged variables')."""
    import matplotlib.pyplot as plt

    from .posterior_plots import variable_label

    panels = list(dict.fromkeys(zip(curves["model"], curves["moderator"])))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    for ax, (model, moderator) in zip(axes[0], panels):
        part = curves[(curves["model"] == model) & (curves["moderator"] == moderator)]
        ax.fill_between(part["value"], part["lower"], part["upper"], alpha=0.25, color="C0")
        ax.plot(part["value"], part["effect"], color="C0")
        ax.axhline(0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel(f"{variable_label(moderator, labels)} (model {model})")
        ax.set_ylabel(f"Marginal effect of {variable_label(part['focal'].iloc[0], labels)}\n"
                      f"on {_outcome_label(part, labels)}")
    fig.suptitle("Marginal effects (other covariates at typical values; 95% delta-method band)")
    fig.tight_layout()
    return fig


def plot_predicted_probabilities(curves: pd.DataFrame, labels: dict[str, str] | None = None):
    """Figure 3 analog: predicted probability across the moderator at three levels of the focal variable."""
    import matplotlib.pyplot as plt

    from .posterior_plots import variable_label

    focal = variable_label(curves["focal"].iloc[0], labels)
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (label, part) in enumerate(curves.groupby("focal_level", sort=False)):
        ax.fill_between(part["value"], part["lower"], part["upper"], alpha=0.2, color=f"C{i}")
        ax.plot(part["value"], part["probability"], color=f"C{i}", label=f"{focal}: {label}")
    moderator = curves["moderator"].iloc[0]
    ax.set_xlabel(f"{variable_label(moderator, labels)} (model {curves['model'].iloc[0]})")
    ax.set_ylabel(_outcome_label(curves, labels))
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


