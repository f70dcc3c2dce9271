"""`make bench` for the second study (Rahman 2026, country-years): the panel build in a fresh process, and one
Bayesian fit of each DCA model with the settings `make dca` uses, written to a JSON file and a summary table.

Goals from the issue: the panel build <= 10 s and each Bayesian fit <= 3 minutes on 2 cores (compilation
included), every fit passing R-hat <= 1.01, bulk and tail ESS >= 1000 and no divergences.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from data_prep.io import atomic_write_text
from data_prep.panel import panel_to_frame, read_panel
from inference.settings import SamplerSettings
from models.design import model_data
from models.specs import get_spec, load_specs

from .bayes import GOAL_ESS, GOAL_RHAT, machine, summary_markdown, summary_table, timed_fit

GOALS = {"panel_build_seconds": 10.0, "fit_seconds": 180.0}
SPECS = Path("models/dca_models.toml")

_CHILD = """
import sys, time
began = time.perf_counter()
from data_prep.country_year import build_country_year_panel
from data_prep.panel import write_panel
from data_prep.sources import RawData
ds = build_country_year_panel(RawData(sys.argv[1]))
write_panel(ds, sys.argv[2])
print(time.perf_counter() - began)
"""


def panel_build_seconds(data_dir: str, out: Path, repeats: int = 3) -> list[float]:
    """Seconds to import, build and write the country-year panel, in `repeats` fresh processes."""
    runs = []
    for _ in range(repeats):
        child = subprocess.run([sys.executable, "-c", _CHILD, data_dir, str(out)], capture_output=True, text=True,
                               check=True)
        runs.append(round(float(child.stdout.split()[-1]), 2))
    return runs


def run(data_dir: str, out: Path, models: tuple[str, ...], settings: SamplerSettings) -> dict:
    panel = out.with_name("country_year_panel.nc")
    builds = panel_build_seconds(data_dir, panel)
    frame, specs = panel_to_frame(read_panel(panel)), load_specs(SPECS)
    records = [timed_fit(model_data(frame, get_spec(name, specs)), settings, "marginal")[0] for name in models]
    result = {
        "benchmark": "country-year panel build and the DCA models' Bayesian fits (Rahman 2026)",
        "panel_build_seconds": builds, "fits": records, "machine": machine(),
        "goals": {
            f"panel build <= {GOALS['panel_build_seconds']:g} s": min(builds) <= GOALS["panel_build_seconds"],
            f"every fit <= {GOALS['fit_seconds']:g} s": all(r["wall_seconds"] <= GOALS["fit_seconds"] for r in records),
            f"bulk and tail ESS >= {GOAL_ESS}": all(min(r["min_ess_bulk"], r["min_ess_tail"]) >= GOAL_ESS
                                                    for r in records),
            f"R-hat <= {GOAL_RHAT}": all(r["max_rhat"] <= GOAL_RHAT for r in records),
            "no divergences": all(r["divergences"] == 0 for r in records),
        },
    }
    table = summary_table(records)
    atomic_write_text(out, json.dumps(result, indent=2) + "\n")
    atomic_write_text(out.with_name("country_year_summary.md"), summary_markdown(table, result["machine"]))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/data/raw")
    parser.add_argument("--out", type=Path, default=Path("build/bench/country_year.json"))
    parser.add_argument("--models", default="dca1,dca2,dca3,dca4,dca5")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--target-accept", type=float, default=0.95)
    args = parser.parse_args()
    began = time.perf_counter()
    result = run(args.data_dir, args.out, tuple(args.models.split(",")),
                 SamplerSettings(draws=args.draws, tune=args.tune, target_accept=args.target_accept))
    print(f"panel build: {result['panel_build_seconds']} s")
    print(summary_markdown(summary_table(result["fits"]), result["machine"]))
    print(json.dumps(result["goals"], indent=2), f"\n({time.perf_counter() - began:.0f} s in all)")


if __name__ == "__main__":
    main()
