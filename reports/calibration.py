"""The calibration results (`coupproof validate`): per-family uniformity tables, PIT-ECDF plots with simultaneous
bands, recovery coverage and the marginal maximum-likelihood cross-check, written to build/validate/ and read back
into the report's "Calibration" section (never recomputed there)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from data_prep.io import atomic_write, atomic_write_text

from . import html

READING = ("Simulation-based calibration (Talts et al. 2018; Modrak et al. 2023): parameters drawn from the prior, "
           "outcomes simulated on the real design by the non-centred model, each case's model refitted with its own "
           "method (the marginal likelihood for most families). For a calibrated model the rank of each true value "
           "among the posterior draws is uniform. Each quantity gets ArviZ's POT-C uniformity test; the p-values are "
           "Holm-adjusted within a case, which fails when any adjusted p-value is below the familywise level. The "
           "PIT-ECDF plots show the ECDF of the ranks minus the uniform CDF with simultaneous 95% bands (a curve "
           "leaving its band is miscalibration: above the band in the middle means posteriors too wide, a U or "
           "sloped shape means too narrow or biased).")
FAMILY_COLUMNS = ["case", "family", "simulations", "parameters passing", "worst parameter", "worst p (Holm)",
                  "events (median)", "fits with divergences", "verdict"]


def family_row(name: str, label: str, tests: pd.DataFrame, sampler: dict) -> dict:
    """One line of the families table: how many quantities pass and the worst one."""
    worst = tests.loc[tests["p_holm"].idxmin()]
    passing = int(tests["passed"].sum())
    return {"case": name, "family": label, "simulations": int(tests["simulations"].iloc[0]),
            "parameters passing": f"{passing} of {len(tests)}", "worst parameter": worst["quantity"],
            "worst p (Holm)": float(worst["p_holm"]), "events (median)": sampler["events_median"],
            "fits with divergences": sampler["with_divergences"],
            "verdict": "calibrated" if passing == len(tests) else "MISCALIBRATED"}


def plot_pit_ecdf(pits: xr.Dataset, path: Path, title: str, failed: set[str] = frozenset(),
                  prob: float = 0.95) -> Path:
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
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=90, bbox_inches="tight"))
    plt.close(figure)
    return path


def write_case(out: Path, name: str, pits: xr.Dataset, tests: pd.DataFrame, label: str) -> None:
    """A case's PIT values (netCDF: `pit` by quantity and simulation), tests (CSV) and plot."""
    stacked = pits.to_dataarray("quantity").rename("pit").to_dataset()  # names such as I(x ** 2 / 100) as labels
    atomic_write(out / f"pit_{name}.nc", lambda tmp: stacked.to_netcdf(tmp, engine="h5netcdf"))
    atomic_write_text(out / f"uniformity_{name}.csv", tests.to_csv(index=False))
    plot_pit_ecdf(pits, out / f"pit_ecdf_{name}.png", label, set(tests.loc[~tests["passed"], "quantity"]))


def write_tables(out: Path, families: pd.DataFrame, recovery: pd.DataFrame | None, mle: pd.DataFrame | None,
                 meta: dict) -> None:
    """The summary tables (CSV and Markdown) and the run's metadata."""
    atomic_write_text(out / "families.csv", families.to_csv(index=False))
    atomic_write_text(out / "families.md", families.to_markdown(index=False, floatfmt=".3g") + "\n")
    if recovery is not None:
        atomic_write_text(out / "recovery.csv", recovery.to_csv(index=False))
    if mle is not None:
        atomic_write_text(out / "mle.csv", mle.to_csv(index=False))
        atomic_write_text(out / "mle.json", json.dumps(mle.attrs, indent=2, default=str))
    atomic_write_text(out / "validate.json", json.dumps(meta, indent=2, default=str))


def _highlight(families: pd.DataFrame) -> str:
    """The families table with miscalibrated rows in red."""
    text = html.table(families)
    for verdict in families["verdict"].unique():
        if verdict != "calibrated":
            text = text.replace(f"<td>{verdict}</td>", f'<td style="background:#b00020;color:white">{verdict}</td>')
    return text


def calibration_section(folder: Path) -> str | None:
    """The report's "Calibration" section from the saved results; None when there are none."""
    folder = Path(folder)
    families_path = folder / "families.csv"
    if not families_path.is_file():
        return None
    families = pd.read_csv(families_path)
    meta = json.loads((folder / "validate.json").read_text()) if (folder / "validate.json").is_file() else {}
    parts = [html.paragraph(READING)]
    bad = families[families["verdict"] != "calibrated"]
    for _, row in bad.iterrows():
        parts.append(html.banner(f"{row['case']} ({row['family']}) is miscalibrated: {row['worst parameter']} has "
                                 f"Holm-adjusted p = {row['worst p (Holm)']:.3g}; see its PIT-ECDF plot", "fail"))
    parts.append(_highlight(families))
    if meta:
        parts.append(html.paragraph(f"Settings: {json.dumps(meta.get('settings', {}))}. Design: "
                                    f"{meta.get('panel', '')} (checksum {str(meta.get('panel_checksum', ''))[:12]})."))
    for name in families["case"]:
        plot = folder / f"pit_ecdf_{name}.png"
        if plot.is_file():
            parts.append(html.figure(plot, f"{name}: PIT-ECDF difference with simultaneous 95% bands"))
    recovery = folder / "recovery.csv"
    if recovery.is_file():
        parts.append(html.section("Recovery at Model 4's posterior mean", html.paragraph(
            "Outcomes simulated on the full Model 4 design with the population parameters fixed at the posterior "
            "mean of the saved Model 4 fit; coverage of the central 50% and 94% intervals over the simulations (a "
            "calibrated fit covers about 50% and 94%) and the mean z-score of the truth."),
            html.table(pd.read_csv(recovery)), level=3))
    mle = folder / "mle.csv"
    if mle.is_file():
        extra = json.loads((folder / "mle.json").read_text()) if (folder / "mle.json").is_file() else {}
        parts.append(html.section("Marginal maximum likelihood: kernel against an independent reference",
                                  html.paragraph(
                                      "Model 4's marginal maximum-likelihood estimate from the kernel (its analytic "
                                      "gradient) next to an adaptive Gauss-Hermite reference written independently "
                                      "in NumPy (optimised from a pooled logit), with the kernel's standard errors; "
                                      "both optima's log-likelihoods are also evaluated by the dense trapezoid rule. "
                                      f"Optimiser details: {json.dumps(extra)}."),
                                  html.table(pd.read_csv(mle), digits=4), level=3))
    return html.section("Calibration", *parts, anchor="calibration")

