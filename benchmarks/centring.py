"""`make bench`: sampled sender and receiver intercepts, non-centred against partially centred by information.

Sender and receiver intercepts beside an integrated dyad intercept are sampled; `QuadratureOptions(
sampled_centring="information")` centres each state by its share of the events (models.builders). Both are the
same model; this measures which mixes the state sds faster, on a simulated design where states hold several
events each (30 senders and 30 receivers, 6 years, sds 1.0 and 1.3) and, with --panel, on Model 4's sample with
sender, receiver and dyad intercepts (m4_srd; most states there hold no event). Per parameterisation: wall time,
leapfrog steps per draw, and each sd's posterior mean and bulk and tail ESS (one seed: ESS from 2 x 1,000 draws
varies by about a fifth between seeds).

Written: build/bench/centring.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

import coupproof as cp
from data_prep.io import atomic_write_text
from models.quadrature import SAMPLED_CENTRINGS, QuadratureOptions

from .bayes import machine

SPECS = Path(__file__).resolve().parents[1] / "models" / "dyadic_models.toml"


def simulated_table(states: int = 30, years: int = 6, seed: int = 5) -> pd.DataFrame:
    """Directed dyad-years of `states` states with sender and receiver effects (sds 1.0 and 1.3), a rare event."""
    rng = np.random.default_rng(seed)
    pairs = [(a, b) for a in range(states) for b in range(states) if a != b]
    frame = pd.DataFrame([(a, b, t) for a, b in pairs for t in range(years)], columns=["s1", "s2", "year"])
    sender, receiver = rng.normal(0, 1.0, states), rng.normal(0, 1.3, states)
    frame["x"] = rng.normal(size=len(frame))
    eta = -4.0 + 0.5 * frame["x"] + sender[frame["s1"]] + receiver[frame["s2"]]
    frame["y"] = rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float)
    return frame


def compare(make_model, sds: list[str], draws: int, tune: int, seed: int) -> dict:
    """Fit the model of `make_model(quadrature)` under each centring: wall seconds, steps per draw, each sd."""
    import arviz as az

    result = {}
    for centring in SAMPLED_CENTRINGS:
        model = make_model(QuadratureOptions(sampled_centring=centring))
        began = time.perf_counter()
        fitted = model.fit(draws=draws, tune=tune, chains=2, seed=seed, show=False)
        post, stats = fitted.idata["posterior"], fitted.idata["sample_stats"]
        entry = {"wall_seconds": round(time.perf_counter() - began, 1),
                 "steps_per_draw": round(float(np.asarray(stats["n_steps"]).mean()), 2),
                 "divergences": int(np.asarray(stats["diverging"]).sum())}
        for name in sds:
            values = post[name].to_dataset(name="x")
            entry[name] = {"mean": round(float(post[name].mean()), 3),
                           "ess_bulk": round(float(az.ess(values)["x"])),
                           "ess_tail": round(float(az.ess(values, method="tail")["x"]))}
        result[centring] = entry
    return result


def run(out: Path, panel: Path | None = None, draws: int = 1000, tune: int = 300, seed: int = 2) -> dict:
    table = simulated_table()
    result = {"benchmark": "sampled intercepts: non-centred against partially centred by information",
              "machine": machine(), "draws": draws, "tune": tune, "chains": 2, "seed": seed,
              "simulated": {"rows": len(table), "events": int(table["y"].sum()),
                            **compare(lambda q: cp.Model("y ~ x + (1 | s1:s2) + (1 | s1) + (1 | s2)", table,
                                                         name="simulated_srd", quadrature=q),
                                      ["s1_sd", "s2_sd", "s1_s2_sd"], draws, tune, seed)}}
    if panel is not None:
        data = cp.load_panel(panel)
        result["m4_srd"] = compare(lambda q: cp.Model("m4_srd", data, specs=SPECS, quadrature=q),
                                   ["state_a_sd", "state_b_sd", "dyad_sd"], draws, tune, seed)
    atomic_write_text(out, json.dumps(result, indent=2) + "\n")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("build/bench/centring.json"))
    parser.add_argument("--panel", type=Path, default=None, help="also Model 4 with sender, receiver and dyad "
                        "intercepts on this panel (about 2 x 8 minutes on 2 cores)")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=300)
    args = parser.parse_args()
    print(json.dumps(run(args.out, args.panel, args.draws, args.tune), indent=2))


if __name__ == "__main__":
    main()
