"""`make bench` for the Bayesian models, on the real panel (Table 1 Model 4 by default).

1. A full fit with the marginalised model (nutpie, low-rank mass matrix): wall time, the smallest bulk and tail
   ESS over the population parameters, the largest R-hat, divergences, and ESS per second.
2. The plain non-centred model with nutpie in the same run (fewer draws, as the issue allows): the same figures.
3. The cost of one log-density gradient at the marginal fit's posterior mean and at larger dyad sds, for the fast
   kernel, the plain model, and (value only) the naive quadrature that evaluates every row at every node.

The issue's goals: Model 4 with R-hat <= 1.01, bulk and tail ESS >= 1000 and no divergences in <= 5 minutes on
the 2-core machine, and >= 20x the plain model's ESS per second. The results say whether each was met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from data_prep.io import atomic_write_text
from data_prep.panel import panel_to_frame, read_panel
from models.builders import build_model, with_intercept
from models.design import ModelData, model_data
from models.priors import load_priors
from models.quadrature import QuadratureOptions, dyad_layouts, log_marginal_numpy
from models.specs import get_spec

from .fitting import SamplerSettings, fit

GOAL_SECONDS = 300
GOAL_ESS = 1000
GOAL_RHAT = 1.01
GOAL_RATIO = 20


def fit_record(data: ModelData, settings: SamplerSettings, method: str) -> tuple[dict, object]:
    """Fit once and summarise: wall time (model build, compilation, sampling, dyad post-processing) and ESS."""
    began = time.perf_counter()
    idata, diagnostics = fit(data, load_priors(), settings, method)
    wall = time.perf_counter() - began
    table = diagnostics.table
    ess = float(min(table["ess_bulk"].min(), table["ess_tail"].min()))
    record = {
        "method": method, "sampler": settings.sampler, "adaptation": settings.adaptation,
        "draws": settings.draws, "tune": settings.tune, "chains": settings.chains,
        "wall_seconds": round(wall, 1), "sampling_seconds": float(idata.attrs["sampling_seconds"]),
        "min_ess_bulk": round(float(table["ess_bulk"].min()), 1), "min_ess_tail": round(float(table["ess_tail"].min()), 1),
        "max_rhat": round(float(table["r_hat"].max()), 4), "divergences": diagnostics.divergences,
        "leapfrog_steps_per_draw": round(float(np.asarray(idata["sample_stats"]["n_steps"]).mean()), 2)
        if "n_steps" in idata["sample_stats"] else None,
        "min_ess_per_second": round(ess / wall, 3),
        "posterior_mean": {str(k): round(float(v), 4) for k, v in table["mean"].items()},
        "posterior_mcse": {str(k): round(float(v), 4) for k, v in table["mcse_mean"].items()},
    }
    return record, idata


def _timed(f, repeats: int) -> float:
    f()
    began = time.perf_counter()
    for _ in range(repeats):
        f()
    return round((time.perf_counter() - began) / repeats * 1e3, 2)


def gradient_costs(data: ModelData, coef: np.ndarray, sigmas: list[float], repeats: int = 10) -> dict:
    """Milliseconds per log-density gradient (compiled PyTensor function, numba backend) at these coefficients
    (standardised scale, intercept first) and dyad sds; the naive quadrature's value alone for comparison."""
    import pytensor

    costs: dict = {}
    priors = load_priors()
    for method in ("marginal", "plain"):
        built = build_model(data, priors, method)
        model = built.model
        logp = model.logp()
        f = pytensor.function(model.value_vars, [logp, *pytensor.grad(logp, model.value_vars)], mode="NUMBA")
        for sigma in sigmas:
            point = dict(model.initial_point())
            point.update(intercept=coef[0], beta=coef[1:], **{f"{data.spec.group_sd}_signed": sigma})
            args = [point[v.name] for v in model.value_vars]
            costs[f"{method}_gradient_ms_sigma_{sigma:g}"] = _timed(lambda: f(*args), repeats)
    built = build_model(data, priors, "marginal")
    eta = with_intercept(built.standardiser.transform(data.X)) @ coef
    y = data.y.to_numpy()
    options = QuadratureOptions()
    layouts = dyad_layouts(data.groups, y)
    for sigma in sigmas:
        def naive():
            for layout in layouts:
                log_marginal_numpy(layout.gather(eta), layout.gather(y), layout.mask, sigma,
                                   options.rule(layout.events, sigma))
        costs[f"naive_value_only_ms_sigma_{sigma:g}"] = _timed(naive, 1)
    return costs


def run(panel: Path, out: Path, model: str = "m4", draws: int = 1250, tune: int = 300, plain_draws: int = 200,
        plain_tune: int = 200) -> dict:
    data = model_data(panel_to_frame(read_panel(panel)), get_spec(model))
    marginal, idata = fit_record(data, SamplerSettings(draws=draws, tune=tune), "marginal")
    plain, _ = fit_record(data, SamplerSettings(draws=plain_draws, tune=plain_tune), "plain")
    post = idata["posterior"]
    coef = np.concatenate([[float(post["intercept"].mean())], np.asarray(post["beta"].mean(("chain", "draw")))])
    sigma = round(float(post[data.spec.group_sd].mean()), 2)
    ratio = marginal["min_ess_per_second"] / max(plain["min_ess_per_second"], 1e-9)
    result = {
        "benchmark": f"Bayesian fit of {model} on the real panel",
        "rows": int(len(data.y)), "dyads": int(data.n_groups), "events": int((data.y > 0).sum()),
        "marginal": marginal, "plain": plain,
        "ess_per_second_ratio": round(ratio, 1),
        "gradient_costs_at_posterior_mean": gradient_costs(data, coef, [sigma, 1.0, 2.0, 3.0]),
        "goals": {
            f"marginal wall <= {GOAL_SECONDS} s": marginal["wall_seconds"] <= GOAL_SECONDS,
            f"bulk and tail ESS >= {GOAL_ESS}": min(marginal["min_ess_bulk"], marginal["min_ess_tail"]) >= GOAL_ESS,
            f"R-hat <= {GOAL_RHAT}": marginal["max_rhat"] <= GOAL_RHAT,
            "no divergences": marginal["divergences"] == 0,
            f"ESS/s >= {GOAL_RATIO}x plain": ratio >= GOAL_RATIO,
        },
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }
    atomic_write_text(out, json.dumps(result, indent=2) + "\n")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--panel", type=Path, default=Path("build/panel.nc"))
    parser.add_argument("--out", type=Path, default=Path("build/bench/bayes.json"))
    parser.add_argument("--model", default="m4")
    parser.add_argument("--draws", type=int, default=1250)
    parser.add_argument("--tune", type=int, default=300)
    parser.add_argument("--plain-draws", type=int, default=200)
    parser.add_argument("--plain-tune", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(run(args.panel, args.out, args.model, args.draws, args.tune, args.plain_draws, args.plain_tune),
                     indent=2))


if __name__ == "__main__":
    main()
