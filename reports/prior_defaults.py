"""Do the default priors let the data speak? Each model's key interaction under the default priors, the
regularising set (the defaults until December 2026) and the wide set, measured against issue 17's criterion:

- the default's posterior mean lies within `TOLERANCE` frequentist standard errors of the wide set's, and
- power-scaling (Kallioinen et al. 2023) flags neither the interaction nor its constitutive terms under the default.

Hurdle models have a row for each part's interaction; their count parts rest on about 80 positive rows.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from inference.diagnostics import HDI_PROB, NOT_FLAGGED
from inference.frequentist import FitResult
from inference.record import fit_record


RULE = ("Default priors (models/priors/default.toml): Gelman, Jakulin, Pittau & Su (2008), 'A weakly informative "
        "default prior distribution for logistic and other regression models'. Every slope has an independent "
        "Student-t(7, 0, 2.5) prior (t rather than the paper's Cauchy tails: Ghosh, Li & Mitra 2018, on separation) "
        "on the scale of centred inputs divided by two standard deviations (binary inputs centred, 1 apart), "
        "interactions being products of those rescaled inputs; the hurdle count parts take the same scaling "
        "with Normal(0, 2.5) tails on the log scale (quasi-separation in about 80 rows). The intercept's Normal "
        "prior is on the base rate: the log-odds of the average group at the covariate means (intercept + "
        "sd^2/2). 'regularising' is the default until December 2026 (Normal(0, 1) per sd of every design column, "
        "the intercept prior on the group with effect 0); 'wide' is Normal(0, 10) per sd, the reference. The "
        "criterion: each interaction under the default within 0.25 frequentist SE of its mean under the wide set, "
        "and power-scaling flagging neither the interaction nor its constitutive terms.")
TOLERANCE = 0.25  # frequentist SEs between the default's and the wide set's posterior means
REFERENCE, DEFAULT = "wide", "default"


def _freq(freq: list[FitResult], model: str, part: str, term: str) -> tuple[float, float]:
    """Our frequentist estimate and clustered SE of `term` in the model's part (nan where there is none)."""
    for result in freq:
        if result.model == model and result.part == part and term in result.terms:
            row = result.table.loc[term]
            return float(row["estimate"]), float(row["se"])
    return float("nan"), float("nan")


def _flags(scaling: pd.DataFrame, model: str, variable: str, terms: tuple[str, ...]) -> str:
    """The terms power-scaling flags under the default priors, with their prior sensitivity; 'none' otherwise."""
    rows = scaling[(scaling["model"] == model) & scaling["parameter"].isin([f"{variable}[{t}]" for t in terms])]
    flagged = rows[rows["diagnosis"] != NOT_FLAGGED]
    return "; ".join(f"{r.parameter.split('[', 1)[1][:-1]} ({r.prior:.3f})" for r in flagged.itertuples()) or "none"


def _draws(fit, variable: str, term: str):
    return fit["posterior"][variable].sel({f"{variable}_term": term}).stack(sample=("chain", "draw"))


def interaction_rows(fits: dict[str, object], freq: list[FitResult], scaling: pd.DataFrame) -> list[dict]:
    """One row per interaction (and part) of a model fitted under each prior set in `fits` ({set: fit}, with
    "default" and "wide"): posterior means, each set's shift from the wide set in frequentist SEs, the
    power-scaling flags of the interaction and its constitutive terms under the default, and the verdict."""
    default = fits[DEFAULT]
    record = fit_record(default)
    spec, model = record.spec, record.model
    if spec.interaction is None:
        return []
    term, rows = spec.interaction_term, []
    for variable in ("coef", "count_coef"):
        if variable not in default["posterior"] or term not in default["posterior"][variable][f"{variable}_term"]:
            continue
        part = spec.family_info.part(variable).name
        means = {name: float(_draws(fit, variable, term).mean()) for name, fit in fits.items()}
        estimate, se = _freq(freq, model, part, term)
        shift = {name: (mean - means[REFERENCE]) / se for name, mean in means.items() if name != REFERENCE}
        flags = _flags(scaling, model, variable, (*spec.interaction, term))
        within = bool(abs(shift[DEFAULT]) <= TOLERANCE)
        rows.append({"model": model, "part": part, "term": term, "freq_estimate": estimate, "freq_se": se,
                     **{f"mean_{name}": mean for name, mean in means.items()},
                     "sd_default": float(_draws(default, variable, term).std()),
                     **{f"shift_{name}_se": value for name, value in shift.items()},
                     "within_tolerance": within, "flagged_under_default": flags,
                     "meets_criterion": within and flags == "none",
                     "diagnostics_passed": all(fit_record(fit).diagnostics_passed for fit in fits.values())})
    return rows


def plot_shifts(table: pd.DataFrame, fits: dict[str, dict[str, object]]) -> Figure:
    """Each interaction under every prior set (`fits`: {model: {set: fit}}): posterior mean and 94% HDI as the
    distance from the wide set's mean in frequentist SEs; the band is the criterion's +-TOLERANCE."""
    from arviz_stats import hdi

    rows = list(table.iloc[::-1].itertuples())
    fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(rows) + 1.5))
    for y, row in enumerate(rows):
        variable = "count_coef" if row.part == "count" else "coef"
        centre, sets = getattr(row, f"mean_{REFERENCE}"), list(fits[row.model])
        for i, name in enumerate(sets):
            draws = _draws(fits[row.model][name], variable, row.term)
            low, high = (hdi(draws, prob=HDI_PROB, dim="sample").values - centre) / row.freq_se
            mean = (float(draws.mean()) - centre) / row.freq_se
            ax.errorbar(mean, y + 0.2 * (i - (len(sets) - 1) / 2), xerr=[[mean - low], [high - mean]], fmt="o",
                        color=f"C{i}", capsize=2, label=name if y == 0 else None)
    ax.axvspan(-TOLERANCE, TOLERANCE, color="grey", alpha=0.2)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(range(len(rows)), [f"{row.model} ({row.part})" for row in rows])
    ax.set_xlabel("Interaction minus its mean under the wide set, in frequentist SEs\n(posterior mean and 94% HDI; "
                  f"band: +-{TOLERANCE})")
    ax.legend(frameon=False, fontsize=8, loc="best")
    return fig
