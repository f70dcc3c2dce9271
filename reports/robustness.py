"""Outputs of the robustness suite: one table per variant in the paper's layout, one long table of every estimate,
the key findings per variant (does the main table's sign and significance survive?), and a forest plot of the
two key interactions across variants."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import norm

from inference.diagnostics import HDI_PROB
from inference.frequentist import FitResult
from inference.record import fit_record
from models.robustness import Finding, Suite

ALPHA = 0.05  # the paper's significance level for "significant"
STARS = ((0.001, "***"), (0.01, "**"), (0.05, "*"))


def stars(p: float) -> str:
    return next((mark for level, mark in STARS if p < level), "")


def paper_layout(results: list[FitResult]) -> pd.DataFrame:
    """Coefficients with SEs in parentheses and stars (two-sided p < .05, .01, .001), then N and the
    log-likelihood: one column per model and part, as the paper's tables."""
    columns = {}
    for fit in results:
        table = fit.table
        cells = {term: f"{row.estimate:.3f} ({row.se:.3f}){stars(row.p)}" for term, row in table.iterrows()}
        cells["N"] = f"{fit.nobs:,}"
        cells["log-likelihood"] = "" if np.isnan(fit.loglik) else f"{fit.loglik:.2f}"
        cells["estimator"] = fit.family + ("" if fit.converged else " (did not converge)")
        columns[fit.model if fit.part in ("logit", "ordinal") else f"{fit.model} ({fit.part})"] = cells
    terms = list(dict.fromkeys(term for fit in results for term in fit.terms))
    return pd.DataFrame(columns).reindex([*terms, "N", "log-likelihood", "estimator"]).fillna("").rename_axis("term")


def estimate_rows(variant: str, results: list[FitResult], prob: float = HDI_PROB) -> pd.DataFrame:
    """Every frequentist estimate of a variant as long rows, with an interval of the same coverage as the
    posterior HDIs (so the two sit side by side): the estimator's own (Firth: profile penalised likelihood) where it
    has one at that level, else Wald's."""
    z = norm.ppf(0.5 + prob / 2)
    rows = []
    for fit in results:
        own = fit.intervals if fit.intervals and abs(fit.intervals["level"] - prob) < 1e-9 else None
        for i, (term, row) in enumerate(fit.table.iterrows()):
            lower, upper = (own["lower"][i], own["upper"][i]) if own else (row.estimate - z * row.se,
                                                                            row.estimate + z * row.se)
            rows.append({"variant": variant, "model": fit.model, "part": fit.part, "term": term,
                         "method": "frequentist", "estimate": row.estimate, "se_or_sd": row.se,
                         "lower": lower, "upper": upper, "p": row.p,
                         "converged": fit.converged, "estimator": fit.family})
    return pd.DataFrame(rows)


def posterior_rows(variant: str, tree, prob: float = HDI_PROB) -> pd.DataFrame:
    """Every coefficient of a Bayesian fit as long rows (posterior mean, sd, 94% HDI); `converged` is the fit's
    diagnostics gate, so a failed fit is flagged wherever its numbers appear."""
    from arviz_stats import hdi

    rows = []
    post = tree["posterior"]
    record = fit_record(tree)
    for family_part in record.family.parts:
        name, part = family_part.variable, family_part.name
        if name not in post:
            continue
        draws = post[name].stack(sample=("chain", "draw"))
        bounds = hdi(draws, prob=prob, dim="sample")
        for i, term in enumerate(draws[draws.dims[0]].values):
            values = draws.isel({draws.dims[0]: i})
            rows.append({"variant": variant, "model": record.model, "part": part, "term": str(term),
                         "method": "bayesian", "estimate": float(values.mean()), "se_or_sd": float(values.std()),
                         "lower": float(bounds[i, 0]), "upper": float(bounds[i, 1]),
                         "p": float("nan"), "pr_negative": float((values < 0).mean()),
                         "converged": record.diagnostics_passed,
                         "estimator": f"Bayesian {record.family.label}, {record.method} ({record.spec.formula})"})
    return pd.DataFrame(rows)


def key_term(terms: pd.Series) -> pd.Series:
    """Whether each term is an interaction (the key term of every model of the suite)."""
    return terms.str.contains(":")


def key_findings(estimates: pd.DataFrame, suite: Suite) -> pd.DataFrame:
    """Per variant and model: the key interaction, frequentist and Bayesian, and whether its sign and significance
    are as the main tables found (the suite's `findings`)."""
    rows = []
    estimates = estimates[key_term(estimates["term"]) & estimates["part"].isin(suite.key_parts)]
    for (variant, model), part in estimates.groupby(["variant", "model"], sort=False):
        finding = suite.findings.get(suite.base_model(model))
        freq = part[part["method"] == "frequentist"].head(1)
        bayes = part[part["method"] == "bayesian"].head(1)
        row = {"variant": variant, "model": model, "term": part["term"].iloc[0]}
        if not freq.empty:
            f = freq.iloc[0]
            row.update(freq_estimate=f["estimate"], freq_se=f["se_or_sd"], freq_p=f["p"],
                       freq_converged=bool(f["converged"]))
        if not bayes.empty:
            b = bayes.iloc[0]
            row.update(bayes_mean=b["estimate"], bayes_sd=b["se_or_sd"], bayes_lower=b["lower"],
                       bayes_upper=b["upper"], bayes_diagnostics_passed=bool(b["converged"]))
        row["main_table"] = finding.describe() if finding is not None else ""
        row["as_in_main_table"] = _as_in_main(finding, row)
        rows.append(row)
    return pd.DataFrame(rows)


def _as_in_main(finding: Finding | None, row: dict) -> str:
    """'yes' / 'no' for the frequentist estimate (and the Bayesian 94% HDI, which must exclude zero on the same side
    where the main table's estimate is significant, and include it where it is not), or '' without a finding."""
    if finding is None:
        return ""
    sign, significant = finding.sign, finding.significant

    def agrees(estimate: float, is_significant: bool) -> bool:
        return is_significant and np.sign(estimate) == sign if significant else not is_significant

    verdicts = []
    if "freq_p" in row:
        verdicts.append("yes" if agrees(row["freq_estimate"], row["freq_p"] < ALPHA) else "no")
    if "bayes_mean" in row:
        excludes = row["bayes_upper"] < 0 or row["bayes_lower"] > 0
        failed = "" if row["bayes_diagnostics_passed"] else ", FIT FAILED ITS DIAGNOSTICS"
        verdicts.append(f"Bayes: {'yes' if agrees(row['bayes_mean'], excludes) else 'no'}{failed}")
    return "; ".join(verdicts)


def plot_key_interactions(findings: pd.DataFrame, suite: Suite) -> Figure:
    """Forest plot: each variant's key interaction for the suite's `forest` models, the frequentist estimate with
    its interval and the posterior mean with its 94% HDI side by side. Estimates of different measures are on
    different scales: compare signs and intervals, not lengths across rows."""
    import matplotlib.pyplot as plt

    from models.specs import PAPER_MODELS

    findings = findings.assign(base=findings["model"].map(suite.base_model))
    findings = findings[findings["base"].isin(suite.forest)]
    bases = [b for b in suite.forest if findings["base"].eq(b).any()]
    fig, axes = plt.subplots(1, len(bases), figsize=(6.5 * len(bases), 0.42 * len(findings) / max(len(bases), 1) + 1.8),
                             squeeze=False)
    z = norm.ppf(0.5 + HDI_PROB / 2)
    for ax, base in zip(axes[0], bases):
        part = findings[findings["base"] == base].reset_index(drop=True)
        y = np.arange(len(part))[::-1]
        ax.errorbar(part["freq_estimate"], y + 0.15, xerr=z * part["freq_se"], fmt="o", color="black", capsize=2,
                    label=f"frequentist ({HDI_PROB:.0%} Wald)")
        failed = pd.Series(False, index=part.index)
        if "bayes_mean" in part and part["bayes_mean"].notna().any():
            failed = part["bayes_mean"].notna() & ~part["bayes_diagnostics_passed"].fillna(True).astype(bool)
            for bad, colour, label in ((False, "C0", "Bayesian (94% HDI)"),
                                       (True, "red", "Bayesian, FIT FAILED ITS DIAGNOSTICS")):
                shown = part["bayes_mean"].notna() & (failed == bad)
                if shown.any():
                    ax.errorbar(part.loc[shown, "bayes_mean"], y[shown.to_numpy()] - 0.15,
                                xerr=[part.loc[shown, "bayes_mean"] - part.loc[shown, "bayes_lower"],
                                      part.loc[shown, "bayes_upper"] - part.loc[shown, "bayes_mean"]],
                                fmt="s", color=colour, capsize=2, label=label)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, [f"{v} ({t}){' [failed]' if bad else ''}"
                          for v, t, bad in zip(part["model"], part["term"], failed)], fontsize=7)
        ax.set_title(f"{PAPER_MODELS[base].label}: {suite.findings[base].describe()} in the main table",
                     fontsize=10)
        ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
