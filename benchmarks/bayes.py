"""`make bench` for the Bayesian models, on the real panel (the six paper models by default).

1. A full fit of each model with the marginalised likelihood (nutpie, low-rank mass matrix): wall time, gradient
   cost at the posterior mean, leapfrog steps per draw, the smallest bulk and tail ESS over the population
   parameters, the largest R-hat, divergences, and ESS per second.
2. The plain non-centred version of Model 4 with nutpie in the same run (fewer draws): the same figures.
   And Model 4 warm-started from its Laplace fit (`warm_start="laplace"`) at the usual tuning and at a third of it:
   the same figures, before and after in one run.
3. For Model 4, the cost of one log-density gradient at the posterior mean and at larger dyad sds, for the fast
   kernel, the plain model, and (value only) the naive quadrature that evaluates every row at every node.
4. For each model, the Laplace approximation (`Model.fit_laplace`, inference.warm_start): its wall time and its
   distance to the NUTS fit (largest difference of a coefficient's mean in NUTS posterior sds, the range of the
   coefficients' sd ratios, and the group sd's mean in both).

Written: the JSON record and one summary table (markdown and CSV) with the machine (cores, CPU model) and the
versions of the packages that matter. Goals: every fit with R-hat <= 1.01, bulk and tail ESS >= 1000 and no
divergences; Model 4 at >= 20x the plain model's ESS per second; the six fits in 85 s each (`make all` in 12 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from data_prep.io import atomic_write_text
from data_prep.panel import panel_to_frame, read_panel
from models.builders import CENTRED_INTERCEPT, build_model, with_intercept
from models.design import ModelData, model_data
from models.priors import load_priors
from models.quadrature import QuadratureOptions, dyad_layouts, log_marginal_numpy
from models.specs import get_spec

from inference.fitting import fit
from inference.settings import SamplerSettings

GOAL_SECONDS = 85  # per fit: the six fits, the panel, the frequentist fits and the report (~200 s) in 12 minutes
GOAL_ESS = 1000
GOAL_RHAT = 1.01
GOAL_RATIO = 20


def _gradient_function(model):
    """The log density and its gradient in every value variable, compiled as the samplers use it (numba)."""
    import pytensor

    logp = model.logp()
    return pytensor.function(model.value_vars, [logp, *pytensor.grad(logp, model.value_vars)], mode="NUMBA")


def gradient_at_mean(data: ModelData, idata, method: str, repeats: int = 20) -> float:
    """Milliseconds per log density and gradient at the posterior mean (transformed to the sampler's space)."""
    model, post = build_model(data, load_priors(), method).model, idata["posterior"]
    point = dict(model.initial_point())
    for value in model.value_vars:
        rv = model.values_to_rvs[value]
        if rv.name in post:
            mean = np.asarray(post[rv.name].mean(("chain", "draw")))
            transform = model.rvs_to_transforms.get(rv)
            point[value.name] = (mean if transform is None
                                 else np.asarray(transform.forward(mean, *rv.owner.inputs).eval()))
    f = _gradient_function(model)
    args = [point[v.name] for v in model.value_vars]
    return _timed(lambda: f(*args), repeats)


def timed_fit(data: ModelData, settings: SamplerSettings, method: str) -> tuple[dict, object]:
    """Fit once and summarise: wall time (model build, compilation, sampling, dyad post-processing) and ESS."""
    began = time.perf_counter()
    idata, diagnostics = fit(data, load_priors(), settings, method)
    wall = time.perf_counter() - began
    table = diagnostics.table
    ess = float(min(table["ess_bulk"].min(), table["ess_tail"].min()))
    record = {
        "model": data.spec.name, "method": method if settings.warm_start == "none" else f"{method}, warm",
        "sampler": settings.sampler, "adaptation": settings.adaptation,
        "draws": settings.draws, "tune": settings.tune, "chains": settings.chains,
        "wall_seconds": round(wall, 1), "sampling_seconds": float(idata.attrs["sampling_seconds"]),
        "min_ess_bulk": round(float(table["ess_bulk"].min()), 1), "min_ess_tail": round(float(table["ess_tail"].min()), 1),
        "max_rhat": round(float(table["r_hat"].max()), 4), "divergences": diagnostics.divergences,
        "leapfrog_steps_per_draw": round(float(np.asarray(idata["sample_stats"]["n_steps"]).mean()), 2)
        if "n_steps" in idata["sample_stats"] else None,
        "min_ess_per_second": round(ess / wall, 3),
        "gradient_ms_at_posterior_mean": gradient_at_mean(data, idata, method),
        "posterior_mean": {str(k): round(float(v), 4) for k, v in table["mean"].items()},
        "posterior_mcse": {str(k): round(float(v), 4) for k, v in table["mcse_mean"].items()},
    }
    return record, idata


def laplace_distance(data: ModelData, idata, draws: int = 2000) -> dict:
    """The Laplace approximation's wall time and distance to the NUTS posterior `idata`."""
    from inference.warm_start import laplace, laplace_draws

    began = time.perf_counter()
    model = build_model(data, load_priors(), "marginal").model
    approx = laplace_draws(model, laplace(model), draws=draws)
    wall = time.perf_counter() - began
    nuts = idata["posterior"]
    a, b = (p["coef"].stack(sample=("chain", "draw")) for p in (approx, nuts))
    shift = np.abs((a.mean("sample") - b.mean("sample")) / b.std("sample"))
    ratio = a.std("sample") / b.std("sample")
    sd = data.spec.group_sd
    return {"laplace_seconds": round(wall, 1), "laplace_max_mean_shift_in_sds": round(float(shift.max()), 3),
            "laplace_sd_ratio_range": [round(float(ratio.min()), 3), round(float(ratio.max()), 3)],
            "laplace_group_sd_mean": round(float(approx[sd].mean()), 3),
            "nuts_group_sd_mean": round(float(nuts[sd].mean()), 3)}


def _timed(f, repeats: int) -> float:
    f()
    began = time.perf_counter()
    for _ in range(repeats):
        f()
    return round((time.perf_counter() - began) / repeats * 1e3, 2)


def gradient_costs(data: ModelData, coef: np.ndarray, sigmas: list[float], repeats: int = 10) -> dict:
    """Milliseconds per log-density gradient (compiled PyTensor function, numba backend) at these coefficients
    (standardised scale, intercept first) and dyad sds; the naive quadrature's value alone for comparison."""
    costs: dict = {}
    priors = load_priors()
    for method in ("marginal", "plain"):
        model = build_model(data, priors, method).model
        f = _gradient_function(model)
        for sigma in sigmas:
            point = dict(model.initial_point())
            point.update(beta=coef[1:], **{f"{data.spec.group_sd}_signed": sigma})
            if CENTRED_INTERCEPT in point:  # the marginal fits sample intercept + sd^2 / 2
                point[CENTRED_INTERCEPT] = coef[0] + 0.5 * sigma**2
            else:
                point["intercept"] = coef[0]
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


SUMMARY_COLUMNS = {"model": "model", "method": "method", "tune": "tuning", "wall_seconds": "wall time (s)",
                   "gradient_ms_at_posterior_mean": "gradient at posterior mean (ms)",
                   "leapfrog_steps_per_draw": "leapfrog steps per draw", "min_ess_bulk": "smallest bulk ESS",
                   "min_ess_tail": "smallest tail ESS", "min_ess_per_second": "ESS per second",
                   "max_rhat": "largest R-hat", "divergences": "divergences", "laplace_seconds": "Laplace (s)",
                   "laplace_max_mean_shift_in_sds": "Laplace: largest mean shift (NUTS sds)"}


def summary_table(records: list[dict]) -> pd.DataFrame:
    """One row per fit with the figures the speed page (docs/results/speed.md) shows."""
    return pd.DataFrame([{label: r.get(key) for key, label in SUMMARY_COLUMNS.items()} for r in records])


def machine() -> dict:
    """Cores, CPU model, platform and the versions of the packages that set the speed."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    versions = {}
    for package in ("pymc", "pytensor", "nutpie", "numba", "numpy", "arviz"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return {"cpus": os.cpu_count(), "cpu": cpu, "platform": platform.platform(),
            "python": platform.python_version(), "versions": versions}


def summary_markdown(table: pd.DataFrame, about: dict) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in about["versions"].items())
    return (f"Machine: {about['cpus']} cores, {about['cpu']}; Python {about['python']}; {versions}.\n\n"
            + table.to_markdown(index=False) + "\n")


def summary_path(out: Path, suffix: str) -> Path:
    """The summary table beside the JSON record, named after it (bayes.json -> bayes_summary.md), so that a run with
    another `--out` never overwrites the default run's table."""
    return out.with_name(f"{out.stem}_summary{suffix}")


def run(panel: Path, out: Path, models: tuple[str, ...] = ("m1", "m2", "m3", "m4", "h1", "h2"), draws: int = 1000,
        tune: int = 100, plain_model: str = "m4", plain_draws: int = 200, plain_tune: int = 200,
        warm_model: str = "m4") -> dict:
    frame = panel_to_frame(read_panel(panel))
    marginals, fitted = [], {}  # the goals are the marginal fits'; the plain fit is the baseline
    for name in models:
        data = model_data(frame, get_spec(name))
        record, idata = timed_fit(data, SamplerSettings(draws=draws, tune=tune), "marginal")
        record.update(laplace_distance(data, idata))
        marginals.append(record)
        fitted[name] = (data, idata)

    def data_of(name: str) -> ModelData:
        """The model's data: the marginal fit's where it was made above."""
        return fitted[name][0] if name in fitted else model_data(frame, get_spec(name))

    baseline = []  # the plain model (about 27 minutes on 2 cores for Model 4); --plain-model '' leaves it out
    if plain_model:
        baseline = [timed_fit(data_of(plain_model), SamplerSettings(draws=plain_draws, tune=plain_tune), "plain")[0]]
    warm = []  # the same model warm-started from its Laplace fit, at the usual tuning and a third of it
    if warm_model:
        data = data_of(warm_model)
        for warm_tune in (tune, max(tune // 3, 50)):
            settings = SamplerSettings(draws=draws, tune=warm_tune, warm_start="laplace")
            warm.append(timed_fit(data, settings, "marginal")[0])
    records = [*marginals, *baseline, *warm]
    about = machine()
    result = {"benchmark": "Bayesian fits on the real panel", "fits": records, "machine": about}
    if baseline and plain_model in fitted:
        data, plain = data_of(plain_model), baseline[0]
        marginal = marginals[list(fitted).index(plain_model)]
        post = fitted[plain_model][1]["posterior"]
        coef = np.concatenate([[float(post["intercept"].mean())], np.asarray(post["beta"].mean(("chain", "draw")))])
        sigma = round(float(post[data.spec.group_sd].mean()), 2)
        ratio = marginal["min_ess_per_second"] / max(plain["min_ess_per_second"], 1e-9)
        result[f"{plain_model}_ess_per_second_ratio"] = round(ratio, 1)
        result[f"{plain_model}_gradient_costs"] = gradient_costs(data, coef, [sigma, 1.0, 2.0, 2.3, 3.0])
    result["goals"] = {
        f"every fit <= {GOAL_SECONDS} s": all(r["wall_seconds"] <= GOAL_SECONDS for r in marginals),
        f"bulk and tail ESS >= {GOAL_ESS}": all(min(r["min_ess_bulk"], r["min_ess_tail"]) >= GOAL_ESS
                                                for r in marginals),
        f"R-hat <= {GOAL_RHAT}": all(r["max_rhat"] <= GOAL_RHAT for r in marginals),
        "no divergences": all(r["divergences"] == 0 for r in marginals),
    }
    if baseline:
        result["goals"][f"ESS/s >= {GOAL_RATIO}x plain"] = result.get(f"{plain_model}_ess_per_second_ratio",
                                                                      0) >= GOAL_RATIO
    table = summary_table(records)
    atomic_write_text(out, json.dumps(result, indent=2) + "\n")
    atomic_write_text(summary_path(out, ".csv"), table.to_csv(index=False))
    atomic_write_text(summary_path(out, ".md"), summary_markdown(table, about))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--panel", type=Path, default=Path("build/panel.nc"))
    parser.add_argument("--out", type=Path, default=Path("build/bench/bayes.json"))
    parser.add_argument("--models", default="m1,m2,m3,m4,h1,h2")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=100, help="tuning iterations per chain (as FIT_ARGS)")
    parser.add_argument("--plain-model", default="m4", help="the plain baseline's model ('' for none)")
    parser.add_argument("--plain-draws", type=int, default=200)
    parser.add_argument("--plain-tune", type=int, default=200)
    parser.add_argument("--warm-model", default="m4", help="fitted warm-started too ('' for none)")
    args = parser.parse_args()
    if args.out.suffix != ".json":
        parser.error(f"--out names the JSON record (e.g. build/bench/bayes.json), got {args.out}")
    result = run(args.panel, args.out, tuple(args.models.split(",")), args.draws, args.tune, args.plain_model,
                 args.plain_draws, args.plain_tune, args.warm_model)
    print(summary_markdown(summary_table(result["fits"]), result["machine"]))


if __name__ == "__main__":
    main()
