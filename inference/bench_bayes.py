"""`make bench` for the Bayesian models: cost of one log-density gradient of Table 1 Model 4 on the real panel,
for the marginalised (quadrature) model and the plain non-centred model, and the accuracy of the quadrature.

The issue's speed goal (Model 4, R-hat <= 1.01, ESS >= 1000 in <= 5 minutes; >= 20x the plain model's ESS/s) needs
about 10-15 ms per gradient; this benchmark records where the implementation stands.
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
from models.builders import build_model
from models.design import model_data
from models.priors import load_priors
from models.quadrature import QuadratureOptions, dyad_layouts, log_marginal_numpy, reference_log_marginal
from models.specs import get_spec


def gradient_cost(built, repeats: int = 5) -> dict:
    """Compile the model's gradient (PyTensor C backend) and time it at the initial point."""
    point = built.model.initial_point()
    began = time.perf_counter()
    dlogp = built.model.compile_dlogp()
    dlogp(point)
    compile_s = time.perf_counter() - began
    began = time.perf_counter()
    for _ in range(repeats):
        dlogp(point)
    return {"compile_seconds": round(compile_s, 2), "gradient_ms": round((time.perf_counter() - began) / repeats * 1e3, 1)}


def quadrature_error(data, sigma: float, options: QuadratureOptions) -> float:
    """|summed log-likelihood, default rule - dense reference| at the frequentist-like point eta = logit of base."""
    y = data.y.to_numpy()
    eta = np.full(y.shape, np.log(y.mean() / (1 - y.mean())))
    error = 0.0
    for layout in dyad_layouts(data.groups, y):
        rule = options.rule(layout.events)
        args = (layout.gather(eta), layout.gather(y), layout.mask, sigma)
        error += log_marginal_numpy(*args, rule).sum() - reference_log_marginal(*args).sum()
    return abs(float(error))


def run(panel: Path, out: Path, model: str = "m4") -> dict:
    data = model_data(panel_to_frame(read_panel(panel)), get_spec(model))
    priors, options = load_priors(), QuadratureOptions()
    result = {
        "benchmark": f"one gradient of the log-density, {model}, real panel",
        "rows": int(len(data.y)), "dyads": int(data.n_groups), "events": int((data.y > 0).sum()),
        "marginal": gradient_cost(build_model(data, priors, "marginal", options)),
        "plain": gradient_cost(build_model(data, priors, "plain")),
        "quadrature_abs_error_vs_801_point_reference": {
            f"sigma={s}": quadrature_error(data, s, options) for s in (1.0, 2.0, 3.0)},
        "goal_gradient_ms": 15,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }
    atomic_write_text(out, json.dumps(result, indent=2) + "\n")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--panel", type=Path, default=Path("build/panel.nc"))
    parser.add_argument("--out", type=Path, default=Path("build/bench/bayes_gradient.json"))
    parser.add_argument("--model", default="m4")
    args = parser.parse_args()
    print(json.dumps(run(args.panel, args.out, args.model), indent=2))


if __name__ == "__main__":
    main()
