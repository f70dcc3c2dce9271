"""Side-by-side comparison of our frequentist estimates with the paper's, and the Figure 1 and Figure 3 analogs.

Reads saved fits (inference.frequentist.save_results) and the panel; never refits. The paper's numbers come from
reports/reference/mcward_yoon_2023_tables.csv.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from inference.frequentist import FitResult
from models.design import ModelData

REFERENCE = Path(__file__).resolve().parent / "reference" / "mcward_yoon_2023_tables.csv"
Z95 = norm.ppf(0.975)


def compare_with_paper(results: list[FitResult], reference: Path = REFERENCE) -> pd.DataFrame:
    """Every paper coefficient next to ours: difference in paper SEs, sign agreement, within 2 paper SEs.

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
                         "our_se": table["se"].get(term, np.nan)})
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
    return merged[["model", "part", "term", "ours", "our_se", "paper", "paper_se", "diff_in_paper_se",
                   "sign_agrees", "within_2_paper_se"]].reset_index(drop=True)


def typical_values(data: ModelData) -> pd.Series:
    """Sample means of every design column (binary controls at their means: 'typical values')."""
    return data.X.mean()


def marginal_effect_curve(fit: FitResult, data: ModelData, moderator: str, points: int = 101) -> pd.DataFrame:
    """d Pr(pact) / d counterbalancing across the observed range of `moderator`, other covariates at their means,
    with 95% delta-method bands. Also the log-odds effect (b_cb + b_int * z) and its band."""
    spec = data.spec
    focal, term = spec.interaction[0], spec.interaction_term
    beta, cov = fit.table["estimate"], fit.covariance
    grid = np.linspace(data.X[moderator].min(), data.X[moderator].max(), points)
    rows = []
    base = typical_values(data)
    for z in grid:
        x = base.copy()
        x[moderator], x[term] = z, base[focal] * z
        p = float(expit(x @ beta))
        slope = beta[focal] + beta[term] * z
        effect = p * (1 - p) * slope
        grad = p * (1 - p) * (1 - 2 * p) * slope * x
        grad[focal] += p * (1 - p)
        grad[term] += p * (1 - p) * z
        se = float(np.sqrt(grad @ cov @ grad))
        d_logodds = pd.Series(0.0, index=beta.index)
        d_logodds[focal], d_logodds[term] = 1.0, z
        se_logodds = float(np.sqrt(d_logodds @ cov @ d_logodds))
        rows.append({"model": spec.name, "moderator": moderator, "value": z, "effect": effect,
                     "lower": effect - Z95 * se, "upper": effect + Z95 * se, "logodds_effect": slope,
                     "logodds_lower": slope - Z95 * se_logodds, "logodds_upper": slope + Z95 * se_logodds})
    return pd.DataFrame(rows)


def predicted_probability_curve(fit: FitResult, data: ModelData, moderator: str, points: int = 101) -> pd.DataFrame:
    """Pr(pact) across `moderator` at counterbalancing 0, its mean and mean + 1 sd, other covariates at means;
    95% bands from the delta method on the logit scale."""
    spec = data.spec
    focal, term = spec.interaction[0], spec.interaction_term
    beta, cov = fit.table["estimate"], fit.covariance
    base = typical_values(data)
    mean, sd = data.X[focal].mean(), data.X[focal].std()
    levels = {"none (0)": 0.0, f"mean ({mean:.2f})": mean, f"mean + 1 sd ({mean + sd:.2f})": mean + sd}
    grid = np.linspace(data.X[moderator].min(), data.X[moderator].max(), points)
    rows = []
    for label, level in levels.items():
        X = pd.DataFrame([base] * points)
        X[focal], X[moderator], X[term] = level, grid, level * grid
        eta = X.to_numpy() @ beta.to_numpy()
        se = np.sqrt(np.einsum("ij,jk,ik->i", X.to_numpy(), cov.to_numpy(), X.to_numpy()))
        rows.append(pd.DataFrame({"model": spec.name, "moderator": moderator, "value": grid,
                                  "counterbalancing": label, "counterbalancing_value": level,
                                  "probability": expit(eta), "lower": expit(eta - Z95 * se),
                                  "upper": expit(eta + Z95 * se)}))
    return pd.concat(rows, ignore_index=True)


def plot_marginal_effects(curves: pd.DataFrame, path: Path) -> Path:
    """Figure 1 analog: one panel per moderator, effect on the probability with its band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    moderators = list(dict.fromkeys(curves["moderator"]))
    fig, axes = plt.subplots(1, len(moderators), figsize=(5 * len(moderators), 4), squeeze=False)
    for ax, moderator in zip(axes[0], moderators):
        part = curves[curves["moderator"] == moderator]
        ax.fill_between(part["value"], part["lower"], part["upper"], alpha=0.25, color="C0")
        ax.plot(part["value"], part["effect"], color="C0")
        ax.axhline(0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel(f"External threat, {moderator[-1].upper()} (model {part['model'].iloc[0]})")
        ax.set_ylabel("Marginal effect of counterbalancing on Pr(pact)")
    fig.suptitle("Marginal effect of counterbalancing (other covariates at sample means; 95% delta-method band)")
    fig.tight_layout()
    return _save(fig, path)


def plot_predicted_probabilities(curves: pd.DataFrame, path: Path) -> Path:
    """Figure 3 analog: predicted probability across the moderator at three levels of counterbalancing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (label, part) in enumerate(curves.groupby("counterbalancing", sort=False)):
        ax.fill_between(part["value"], part["lower"], part["upper"], alpha=0.2, color=f"C{i}")
        ax.plot(part["value"], part["probability"], color=f"C{i}", label=f"counterbalancing {label}")
    moderator = curves["moderator"].iloc[0]
    ax.set_xlabel(f"External threat, {moderator[-1].upper()} (model {curves['model'].iloc[0]})")
    ax.set_ylabel("Pr(new defense pact)")
    ax.legend(frameon=False)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    from data_prep.io import atomic_write

    import matplotlib.pyplot as plt

    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    plt.close(fig)
    return path
