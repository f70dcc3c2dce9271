"""Dyadic dependence: does each model's key interaction survive sender and receiver intercepts beside the dyad's?

One row per model of `make dyadic`: the key interaction in the fit with dyad intercepts only (the base model of
`make fit`), in the fit with dyad, State A and State B intercepts, the three sds, and the pooled frequentist logit
with dyad-clustered and dyad-robust (Aronow, Samii & Assenova) SEs. Reads saved fits and the frequentist
comparison; never refits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import norm

from inference.record import fit_record

from .robustness import ALPHA, posterior_rows

SDS = ("dyad_sd", "state_a_sd", "state_b_sd")


def _key_row(tree, term: str, prefix: str) -> dict:
    """The key term's posterior mean, 94% HDI, Pr(< 0) and the fit's gate, with `prefix` on every name."""
    rows = posterior_rows("", tree)
    row = rows[(rows["term"] == term) & (rows["part"] == rows["part"].iloc[0])].iloc[0]
    return {f"{prefix}_mean": row["estimate"], f"{prefix}_lower": row["lower"], f"{prefix}_upper": row["upper"],
            f"{prefix}_pr_negative": row["pr_negative"], f"{prefix}_passed": bool(row["converged"])}


def verdict(row: pd.Series) -> str:
    """Whether the key interaction survives: the base fit's 94% HDI excludes 0, and so does the fit with sender and
    receiver intercepts, on the same side."""
    def side(lower: float, upper: float) -> int:
        return 1 if lower > 0 else -1 if upper < 0 else 0

    base, srd = side(row["base_lower"], row["base_upper"]), side(row["srd_lower"], row["srd_upper"])
    if not (row["base_passed"] and row["srd_passed"]):
        return "not judged (a fit failed its diagnostics gate)"
    if base == 0:
        return "no finding to survive (the base fit's HDI includes 0)"
    if srd == base:
        return "survives (HDI still excludes 0)"
    return "reversed" if srd == -base else "weakened (HDI includes 0)"


def dependence_table(dyadic_fits: Path, base_fits: Path, bases: dict[str, str],
                     freq_comparison: pd.DataFrame | None = None) -> pd.DataFrame:
    """The key interaction of every saved fit in `dyadic_fits` beside its base model's fit in `base_fits` (`bases`:
    model -> base model) and the pooled frequentist estimate with both SEs (the `coupproof freq` comparison, its
    logit or hurdle zero part). Fits without a base fit get empty base columns."""
    rows = []
    for path in sorted(Path(dyadic_fits).glob("*_marginal.nc")):
        with xr.open_datatree(path) as tree:  # read lazily: only the posterior's coefficients and sds
            spec = fit_record(tree, str(path)).spec
            term = spec.interaction_term
            if term is None:
                continue
            row = {"model": spec.name, "base": bases.get(spec.name, ""), "term": term,
                   **_key_row(tree, term, "srd")}
            post = tree["posterior"]
            row.update({sd: float(post[sd].mean()) if sd in post else np.nan for sd in SDS})
        base_path = Path(base_fits) / f"{row['base']}_marginal.nc"
        if row["base"] and base_path.is_file():
            with xr.open_datatree(base_path) as base_tree:
                row.update(_key_row(base_tree, term, "base"))
        if freq_comparison is not None:
            freq = freq_comparison[(freq_comparison["model"] == row["base"]) & (freq_comparison["term"] == term)
                                   & freq_comparison["part"].isin(["logit", "zero"])]
            if not freq.empty:
                f = freq.iloc[0]
                row.update(freq_estimate=f["ours"], freq_se_clustered=f["our_se"],
                           freq_se_dyad_robust=f.get("our_se_dyad_robust", np.nan))
                for kind in ("clustered", "dyad_robust"):
                    row[f"freq_p_{kind}"] = float(2 * norm.sf(abs(f["ours"] / row[f"freq_se_{kind}"])))
        rows.append(row)
    table = pd.DataFrame(rows)
    if not table.empty and "base_mean" in table:
        table["verdict"] = table.apply(verdict, axis=1)
        if "freq_p_dyad_robust" in table:
            table["freq_dyad_robust_significant"] = table["freq_p_dyad_robust"] < ALPHA
    return table
