"""`make bench` for your own data and several groupings, on the real panel.

1. Model 4 made from the panel, from a DataFrame of the same rows and from that frame written as CSV: seconds to
   make the model (read, design, groups) and milliseconds per log-density gradient. Goal: a DataFrame within 10% of
   the panel route.
2. Model 4 with sender, receiver and dyad intercepts (models/dyadic_models.toml, m4_srd) against Model 4: gradient
   milliseconds at the initial point and, unless --no-fit, a full fit of each with the bench's sampler settings
   (wall time, smallest bulk and tail ESS, largest R-hat, divergences). Goal: within 3x Model 4's time, the same gate.

Written: build/bench/your_data.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import coupproof as cp
from data_prep.io import atomic_write_text
from data_prep.panel import panel_to_frame, read_panel
from inference.settings import SamplerSettings

from .bayes import _gradient_function, _timed, machine, timed_fit

GOAL_FRAME_RATIO = 1.10
GOAL_SRD_RATIO = 3.0
SPECS = Path(__file__).resolve().parents[1] / "models" / "dyadic_models.toml"


def _gradient_ms(model: cp.Model, repeats: int = 20) -> float:
    built = model.build().model
    f = _gradient_function(built)
    point = built.initial_point()
    args = [point[v.name] for v in built.value_vars]
    return _timed(lambda: f(*args), repeats)


def _made(make) -> tuple[cp.Model, float]:
    began = time.perf_counter()
    model = make()
    return model, round(time.perf_counter() - began, 2)


def routes(panel_path: Path) -> dict:
    """Model 4 from the panel, a DataFrame and a CSV file: construction seconds and gradient milliseconds."""
    panel = read_panel(panel_path)
    frame = panel_to_frame(panel)
    columns = ["ccode_a", "ccode_b", "year", *cp.Model("m4", panel).spec.variables, "sample_controls"]
    rows = frame[frame["sample_controls"].astype(bool)][list(dict.fromkeys(columns))].drop(columns="sample_controls")
    spec = cp.Model("m4", panel).spec
    formula = spec.formula
    result = {}
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "m4_rows.csv"
        rows.to_csv(csv, index=False)
        for route, make in (("panel", lambda: cp.Model("m4", panel)),
                            ("DataFrame", lambda: cp.Model(formula, rows, name="m4_frame")),
                            ("CSV", lambda: cp.Model(formula, csv, name="m4_csv"))):
            model, seconds = _made(make)
            result[route] = {"rows": len(model.data.y), "groups": model.data.n_groups, "make_seconds": seconds,
                             "gradient_ms": _gradient_ms(model)}
    result["frame_over_panel_gradient"] = round(result["DataFrame"]["gradient_ms"] / result["panel"]["gradient_ms"], 3)
    return result


def sender_receiver(panel_path: Path, fit: bool, settings: SamplerSettings) -> dict:
    """Model 4 and m4_srd: gradient milliseconds and, with `fit`, full fits with the bench's settings."""
    panel = read_panel(panel_path)
    result = {}
    for name, specs in (("m4", None), ("m4_srd", SPECS)):
        model = cp.Model(name, panel, specs=specs)
        entry = {"groupings": {model.spec.group: model.data.n_groups,
                               **{g: len(labels) for g, (_, labels) in model.data.sampled.items()}},
                 "gradient_ms": _gradient_ms(model)}
        if fit:
            record, _ = timed_fit(model.data, settings, "marginal")
            entry |= {k: record[k] for k in ("wall_seconds", "min_ess_bulk", "min_ess_tail", "max_rhat",
                                             "divergences", "leapfrog_steps_per_draw")}
        result[name] = entry
    result["srd_over_m4_gradient"] = round(result["m4_srd"]["gradient_ms"] / result["m4"]["gradient_ms"], 2)
    if fit:
        result["srd_over_m4_wall"] = round(result["m4_srd"]["wall_seconds"] / result["m4"]["wall_seconds"], 2)
    return result


def run(panel: Path, out: Path, fit: bool = True, draws: int = 1000, tune: int = 300) -> dict:
    settings = SamplerSettings(draws=draws, tune=tune)
    result = {"benchmark": "your own data and several groupings", "machine": machine(),
              "routes": routes(panel), "sender_receiver": sender_receiver(panel, fit, settings)}
    goals = {f"DataFrame within {GOAL_FRAME_RATIO:.0%} of the panel (gradient)":
             result["routes"]["frame_over_panel_gradient"] <= GOAL_FRAME_RATIO}
    if fit:
        goals[f"m4_srd within {GOAL_SRD_RATIO:g}x Model 4's wall time"] = \
            result["sender_receiver"]["srd_over_m4_wall"] <= GOAL_SRD_RATIO
    result["goals"] = goals
    atomic_write_text(out, json.dumps(result, indent=2) + "\n")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--panel", type=Path, default=Path("build/panel.nc"))
    parser.add_argument("--out", type=Path, default=Path("build/bench/your_data.json"))
    parser.add_argument("--no-fit", action="store_true", help="gradients only, no full fits")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=300)
    args = parser.parse_args()
    print(json.dumps(run(args.panel, args.out, not args.no_fit, args.draws, args.tune), indent=2))


if __name__ == "__main__":
    main()
