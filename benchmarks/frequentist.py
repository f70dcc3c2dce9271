"""`make bench` for the frequentist step: wall time of fitting all six paper models on the full panel.

Goal from the issue: all six models in <= 2 minutes on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from data_prep.io import atomic_write_text
from data_prep.panel import panel_to_frame, read_panel
from inference.frequentist import fit_data
from models.design import model_data
from models.specs import PAPER_MODELS

GOAL_SECONDS = 120.0


def run(panel: Path, out: Path) -> dict:
    """Fit m1-m4, h1, h2 once each (after reading the panel) and record the time of each."""
    began = time.perf_counter()
    frame = panel_to_frame(read_panel(panel))
    load_seconds = time.perf_counter() - began
    per_model = {}
    for name, spec in PAPER_MODELS.items():
        start = time.perf_counter()
        fit_data(model_data(frame, spec))
        per_model[name] = round(time.perf_counter() - start, 2)
    total = round(time.perf_counter() - began, 2)
    result = {"benchmark": "six paper models, statsmodels, dyad-clustered SEs", "load_panel_seconds": round(load_seconds, 2),
              "per_model_seconds": per_model, "total_seconds": total, "goal_seconds": GOAL_SECONDS,
              "meets_goal": total <= GOAL_SECONDS,
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}}
    atomic_write_text(out, json.dumps(result, indent=2) + "\n")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--panel", type=Path, default=Path("build/panel.nc"))
    parser.add_argument("--out", type=Path, default=Path("build/bench/frequentist.json"))
    args = parser.parse_args()
    print(json.dumps(run(args.panel, args.out), indent=2))


if __name__ == "__main__":
    main()
