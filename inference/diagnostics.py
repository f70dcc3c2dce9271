"""Convergence diagnostics after every fit, from ArviZ: R-hat, bulk and tail ESS, MCSE, divergences, E-BFMI.

A fit fails when any population parameter has R-hat > RHAT_MAX or bulk/tail ESS < its ESS target (ESS_MIN unless
the sampler settings give another), when any transition diverged, or when a chain's E-BFMI is below BFMI_MIN.
`--strict` turns a failure into a non-zero exit. The thresholds are named here once; everything that states or
applies them reads them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

RHAT_MAX = 1.01
HDI_PROB = 0.94  # credible intervals everywhere: 94% HDI, the ArviZ default
ESS_MIN = 400  # bulk and tail ESS of every population parameter, unless a fit's settings ask for more
BFMI_MIN = 0.3  # E-BFMI below this in a chain: the sampler explores the energy distribution poorly (Betancourt 2016)
PARETO_K_MAX = 0.7  # PSIS-LOO: a Pareto k above this makes that group's estimate unreliable (Vehtari et al. 2017)
NOT_FLAGGED = "\N{CHECK MARK}"  # ArviZ's power-scaling diagnosis of a parameter that is not sensitive


@dataclass
class Diagnostics:
    """Per-parameter table plus the sampler-level checks and the verdict."""

    table: pd.DataFrame
    divergences: int
    bfmi: list[float]
    problems: list[str]
    rhat_max: float = RHAT_MAX
    ess_min: int = ESS_MIN

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def short_of_draws(self) -> bool:
        """Whether the only problems are effective sample sizes below the gate (more draws would meet it), as a
        short exploratory fit has; R-hat, divergences and E-BFMI are not that."""
        return bool(self.problems) and all(p.startswith(("ess_bulk", "ess_tail")) for p in self.problems)

    def draws_for_gate(self, draws: int) -> int:
        """About how many draws per chain would bring the lowest ESS to the gate (ESS grows with the draws), with a
        tenth to spare, rounded up to hundreds."""
        lowest = float(np.nanmin(self.table[["ess_bulk", "ess_tail"]].to_numpy()))
        return int(np.ceil(draws * 1.1 * self.ess_min / max(lowest, 1.0) / 100) * 100)


def diagnose(idata, var_names: list[str], rhat_max: float = RHAT_MAX, ess_min: int = ESS_MIN) -> Diagnostics:
    """Diagnostics of the population parameters `var_names` of a fitted DataTree / InferenceData."""
    import arviz as az

    table = az.summary(idata, var_names=var_names, kind="all", ci_prob=HDI_PROB, ci_kind="hdi")
    table = table.apply(pd.to_numeric, errors="coerce")
    divergences = int(np.asarray(idata["sample_stats"]["diverging"]).sum()) if "diverging" in idata["sample_stats"] else 0
    try:
        bfmi = [float(v) for v in np.atleast_1d(np.asarray(az.bfmi(idata)["energy"]))]
    except Exception:  # noqa: BLE001 - energy is missing for some samplers
        bfmi = []
    problems = []
    bad_rhat = table.index[table["r_hat"] > rhat_max].tolist()
    if bad_rhat:
        problems.append(f"R-hat > {rhat_max} for {', '.join(bad_rhat)}")
    for column in ("ess_bulk", "ess_tail"):
        low = table.index[table[column] < ess_min].tolist()
        if low:
            problems.append(f"{column} < {ess_min} for {', '.join(low)}")
    if divergences:
        problems.append(f"{divergences} divergent transition(s)")
    low_bfmi = [b for b in bfmi if b < BFMI_MIN]
    if low_bfmi:
        problems.append(f"E-BFMI below {BFMI_MIN} in {len(low_bfmi)} chain(s)")
    return Diagnostics(table, divergences, bfmi, problems, rhat_max, ess_min)
