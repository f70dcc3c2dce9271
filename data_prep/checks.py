"""Compare the built panel with the paper: estimation-sample sizes and Table 5 summary statistics.

The paper's numbers are read from reports/reference/mcward_yoon_2023_panel.csv, never written in code.
Table 5 rounds most moments to integers, so only n, min, max, the medians and the few moments quoted in the
text (mean threat to B 0.27, log counterbalancing mean 0.78 and sd 0.5) are informative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .panel import PanelOptions, panel_to_frame, state_threat
from .sources import RawData
from .threat import validate_against_leeds_savun

REFERENCE = Path(__file__).resolve().parent.parent / "reports" / "reference" / "mcward_yoon_2023_panel.csv"
STATISTICS = ("n", "mean", "sd", "median", "min", "max")


def summary_statistics(frame: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    """n, mean, sd, median, min, max per variable; concessions are summarised over pact dyad-years only."""
    rows = []
    for name in variables:
        values = frame[name].dropna()
        rows.append({"variable": name, "n": len(values), "mean": values.mean(), "sd": values.std(),
                     "median": values.median(), "min": values.min(), "max": values.max()})
    return pd.DataFrame(rows).set_index("variable")


def compare_with_paper(ds: xr.Dataset, reference: Path = REFERENCE) -> pd.DataFrame:
    """One row per (variable, statistic) in the reference file: ours, the paper's, and the relative difference."""
    paper = pd.read_csv(reference)
    frame = panel_to_frame(ds)
    stat_vars = sorted(set(paper["variable"]) - {"sample_no_controls", "sample_controls"})
    ours = summary_statistics(frame, stat_vars)
    ours.loc["sample_no_controls", "n"] = int(frame["sample_no_controls"].sum())
    ours.loc["sample_controls", "n"] = int(frame["sample_controls"].sum())
    paper["ours"] = [ours.loc[v, s] for v, s in zip(paper["variable"], paper["statistic"])]
    paper["difference"] = paper["ours"] - paper["paper_value"]
    paper["relative_difference"] = np.where(paper["paper_value"] != 0, paper["difference"] / paper["paper_value"],
                                            np.nan)
    return paper[["variable", "statistic", "paper_label", "paper_value", "ours", "difference",
                  "relative_difference", "source"]]


def sample_overview(ds: xr.Dataset) -> pd.DataFrame:
    """Rows, directed dyads, years and new pacts in the whole panel and in each estimation sample."""
    frame = panel_to_frame(ds)
    rows = []
    for label, mask in (("panel", np.ones(len(frame), bool)), ("sample_no_controls", frame["sample_no_controls"]),
                        ("sample_controls", frame["sample_controls"])):
        part = frame[mask]
        rows.append({"sample": label, "dyad_years": len(part),
                     "directed_dyads": len(part[["ccode_a", "ccode_b"]].drop_duplicates()),
                     "states_a": part["ccode_a"].nunique(), "first_year": int(part["year"].min()),
                     "last_year": int(part["year"].max()), "new_pacts": int(part["new_defense_pact"].sum())})
    return pd.DataFrame(rows)


def format_report(overview: pd.DataFrame, comparison: pd.DataFrame, validation: dict) -> str:
    """Markdown text of the comparison (written next to the panel and printed by the CLI)."""
    lines = ["# Panel check against McWard & Yoon (2023)", "", "## Samples", "", overview.to_markdown(index=False),
             "", "## Table 5 and sample sizes", "",
             comparison.to_markdown(index=False, floatfmt=".4g"), "",
             "## External threat against the Leeds-Savun file (state-years, unlagged)", "",
             pd.Series(validation, name="value").to_frame().to_markdown(floatfmt=".4g")]
    return "\n".join(lines) + "\n"


def threat_validation(raw: RawData, options: PanelOptions, years: tuple[int, int] = (1960, 2000)) -> dict:
    """Our unlagged state-year threat against the Leeds-Savun validation file (never an input to the panel)."""
    threat, _caps, meta = state_threat(raw, options)
    leeds_savun = raw.load("leeds_savun")[["ccode", "year", "lsthreat"]].dropna(subset=["ccode", "year"])
    leeds_savun = leeds_savun.astype({"ccode": "int64", "year": "int64"})
    result = validate_against_leeds_savun(threat, leeds_savun, years)
    return {"years": f"{years[0]}-{years[1]}", **result, "sscore_threshold": meta.get("threshold")}
