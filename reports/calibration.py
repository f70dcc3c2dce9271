"""The calibration results (`coupproof validate`): a family's row of the summary table, PIT-ECDF plots with
simultaneous bands, and the report's "Calibration" section, drawn from the saved results (never recomputed)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from . import html
from .posterior_plots import png

READING = ("Simulation-based calibration (Talts et al. 2018; Modrak et al. 2023): parameters drawn from the prior, "
           "outcomes simulated on the real design by the non-centred model, each case's model refitted with its own "
           "method (the marginal likelihood for most families). For a calibrated model the rank of each true value "
           "among the posterior draws is uniform. Each quantity gets ArviZ's POT-C uniformity test; the p-values are "
           "Holm-adjusted within a case, which fails when any adjusted p-value is below the familywise level. The "
           "PIT-ECDF plots show the ECDF of the ranks minus the uniform CDF with simultaneous 95% bands (a curve "
           "leaving its band is miscalibration: above the band in the middle means posteriors too wide, a U or "
           "sloped shape means too narrow or biased).")
CALIBRATED = "calibrated"  # a case's verdict when every quantity passes
FAMILY_COLUMNS = ["case", "family", "simulations", "parameters passing", "worst parameter", "worst p (Holm)",
                  "events (median)", "fits with divergences", "fits that did not sample", "seconds per fit", "verdict"]


def family_row(name: str, label: str, tests: pd.DataFrame, sampler: dict) -> dict:
    """One line of the families table: how many quantities pass and the worst one."""
    worst = tests.loc[tests["p_holm"].idxmin()]
    passing = int(tests["passed"].sum())
    return {"case": name, "family": label, "simulations": int(tests["simulations"].iloc[0]),
            "parameters passing": f"{passing} of {len(tests)}", "worst parameter": worst["quantity"],
            "worst p (Holm)": float(worst["p_holm"]), "events (median)": sampler["events_median"],
            "fits with divergences": sampler["with_divergences"], "fits that did not sample": sampler["failed"],
            "seconds per fit": round(sampler["seconds_per_fit"], 1),
            "verdict": CALIBRATED if passing == len(tests) else "MISCALIBRATED"}


def plot_pit_ecdf(pits: xr.Dataset, title: str, failed: set[str] = frozenset(), prob: float = 0.95) -> bytes:
    """One panel per quantity: the ECDF of its PIT values minus the uniform CDF, inside ArviZ's simultaneous
    `prob` band (arviz_stats.ecdf_utils.ecdf_pit: Säilynoja, Bürkner & Vehtari 2022); quantities in `failed` in
    red. (arviz_plots' plot_ecdf_pit draws no band in its current release: its envelope method fails.)"""
    import matplotlib.pyplot as plt
    from arviz_stats.ecdf_utils import ecdf_pit

    names = list(pits.data_vars)
    columns = min(5, len(names))
    rows = -(-len(names) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.0 * rows), sharex=True, sharey=True,
                                squeeze=False)
    for ax, name in zip(axes.flat, names):
        x, ecdf, lower, upper = ecdf_pit(np.sort(np.asarray(pits[name])), prob, 1000)
        ax.fill_between(x, lower - x, upper - x, step="post", color="0.85")
        ax.step(x, ecdf - x, where="post", color="#b00020" if name in failed else "C0")
        ax.axhline(0.0, color="0.4", lw=0.6)
        ax.set_title(name, fontsize=7, color="#b00020" if name in failed else "black")
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    figure.supxlabel("PIT (fractional rank of the truth)", fontsize=8)
    figure.supylabel("ECDF - uniform", fontsize=8)
    figure.suptitle(f"{title}: {pits.sizes['simulation']} simulations, simultaneous {prob:.0%} bands", fontsize=9)
    figure.tight_layout()
    return png(figure)


def _highlight(families: pd.DataFrame) -> str:
    """The families table with miscalibrated rows in red."""
    text = html.table(families)
    for verdict in families["verdict"].unique():
        if verdict != CALIBRATED:
            text = text.replace(f"<td>{verdict}</td>", f'<td style="background:#b00020;color:white">{verdict}</td>')
    return text


def calibration_section(result) -> str | None:
    """The report's "Calibration" section from a calibration stage's saved result (`coupproof.stages.calibration
    .CalibrationResult`: families, each case's plot, recovery, the MLE comparison and the run's metadata); None
    when there is none."""
    if result is None:
        return None
    families, meta = result.families, result.meta
    parts = [html.paragraph(READING)]
    bad = families[families["verdict"] != CALIBRATED]
    for _, row in bad.iterrows():
        parts.append(html.banner(f"{row['case']} ({row['family']}) is miscalibrated: {row['worst parameter']} has "
                                 f"Holm-adjusted p = {row['worst p (Holm)']:.3g}; see its PIT-ECDF plot", "fail"))
    parts.append(_highlight(families))
    if meta:
        parts.append(html.paragraph(f"Settings: {json.dumps(meta.get('settings', {}))}. Design: "
                                    f"{meta.get('panel', '')} (checksum {str(meta.get('panel_checksum', ''))[:12]})."))
    for name in families["case"]:
        case = result.cases.get(name)
        if case is not None and case.plot is not None:
            parts.append(html.figure(case.plot, f"{name}: PIT-ECDF difference with simultaneous 95% bands"))
    if result.power is not None:
        parts.append(html.section("Power: how often the test flags known errors", html.paragraph(
            "Each case with injected errors is tested again, on the same simulations, with fits that depart from "
            "the simulator by a known amount (made from the case's own fits by importance weights; 'max_khat' "
            "above 0.7 marks unreliable weights). 'flagged' is the test on all the case's simulations; 'flag "
            "rate' the share of random subsets of half of them that it flags: its power against the error at "
            "half the count used, a conservative figure for the full count. A verdict of 'calibrated' rules out "
            "errors of this size only where the power is high."), html.table(result.power), level=3))
    if result.recovery is not None:
        parts.append(html.section("Recovery at a saved fit's posterior mean", html.paragraph(
            "Outcomes simulated on the full design of the recovery case's model with the population parameters "
            "fixed at the posterior mean of its saved fit; coverage of the central 50% and 94% intervals over the "
            "simulations (a calibrated fit covers about 50% and 94%) and the mean z-score of the truth."),
            html.table(result.recovery), level=3))
    if result.mle is not None:
        model = meta.get("mle_model", "the model")
        parts.append(html.section("Marginal maximum likelihood: kernel against an independent reference",
                                  html.paragraph(
                                      f"{model}'s marginal maximum-likelihood estimate from the kernel (its analytic "
                                      "gradient) next to an adaptive Gauss-Hermite reference written independently "
                                      "in NumPy (optimised from a pooled logit), with the kernel's standard errors; "
                                      "both optima's log-likelihoods are also evaluated by the dense trapezoid rule. "
                                      f"Optimiser details: {json.dumps(result.mle_details)}."),
                                  html.table(result.mle, digits=4), level=3))
    return html.section("Calibration", *parts, anchor="calibration")
