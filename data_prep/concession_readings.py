"""The defensible readings of the concession measure (issue 33), and how close each comes to the paper's Table 5.

McWard & Yoon (2023) count "ten concessions" following Johnson (2015) without listing them (see
concession_items.toml). Every choice the text leaves open is one dimension of a `Reading`:

- `item_list`: which ATOP provisions count (the item table's lists: "autonomy", "broad", "alley");
- `scoring`: each item 0/1, or ordinal items adding their ATOP code ("binary", "ordinal_sum");
- `obligations`: whether "concessions A" are the obligations State A accepts ("own") or those its partner
  accepts towards it ("partner");
- `pacts`: which new-pact rows enter: every one in the sample ("every_pact"), or only pacts with at least one
  concession by either member ("with_concession": the hurdle's count part "conditioned by forming alliances with
  at least one concession");
- `sample`: the panel's rows ("panel") or Table 1's estimation sample with controls ("controls");
- `missing`: a provision ATOP leaves missing counts as 0 ("zero"), or the row leaves ("drop").

`reading_statistics` gives Table 5's statistics (N, mean, sd, median, min, max of concessions1 and 2) for one
reading; `rank_readings` orders every reading by its distance to the paper's values (data, from
reports/reference/mcward_yoon_2023_panel.csv), so that the reading is chosen by the measure, not by the results.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .checks import summary_statistics
from .concessions import ITEM_LISTS, SCORINGS, ConcessionOptions, concession_counts

OBLIGATIONS = ("own", "partner")
PACT_SETS = ("every_pact", "with_concession")
SAMPLES = ("panel", "controls")
MISSING = ("zero", "drop")
MEASURES = {"concessions_a": "concessions1", "concessions_b": "concessions2"}
FIT_CHOICES = ("item_list", "scoring", "obligations", "missing")  # the choices that change a hurdle's counts
ROUNDING = 0.5  # Table 5 rounds the means and sds to whole numbers: a gap within this is no gap


@dataclass(frozen=True)
class Reading:
    """One reading of the concession measure (the module docstring says what each choice means)."""

    item_list: str = "broad"
    scoring: str = "binary"
    obligations: str = "own"
    pacts: str = "every_pact"
    sample: str = "panel"
    missing: str = "zero"

    def __post_init__(self) -> None:
        for name, allowed in (("item_list", ITEM_LISTS), ("scoring", SCORINGS), ("obligations", OBLIGATIONS),
                              ("pacts", PACT_SETS), ("sample", SAMPLES), ("missing", MISSING)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"concession reading: {name}={getattr(self, name)!r}; allowed: "
                                 f"{', '.join(allowed)}")

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self).items())


def every_reading(item_lists: tuple[str, ...] = ITEM_LISTS) -> list[Reading]:
    """Every combination of the choices (over `item_lists`), in a fixed order."""
    return [Reading(*values) for values in itertools.product(item_lists, SCORINGS, OBLIGATIONS, PACT_SETS,
                                                             SAMPLES, MISSING)]


def item_lists(config_path=None) -> tuple[str, ...]:
    """The item lists that have items in the item table (the packaged one by default)."""
    from .concessions import _read_table

    named = set(",".join(_read_table(ConcessionOptions(config_path=config_path).config)["lists"]).split(","))
    return tuple(name for name in ITEM_LISTS if name in named)


def reading_rows(pact_rows: pd.DataFrame, atop_members: pd.DataFrame, reading: Reading,
                 config_path=None) -> pd.DataFrame:
    """The new-pact rows under `reading`, with concessions1 and concessions2 (State A's and State B's counts).

    pact_rows: the panel's rows with a new pact (ccode_a, ccode_b, year, the `sample_controls` mask) with the
    pact's atopid. An empty result raises ValueError naming the reading.
    """
    rows = pact_rows if reading.sample == "panel" else pact_rows[pact_rows["sample_controls"].astype(bool)]
    counted = concession_counts(atop_members, rows, ConcessionOptions(reading.scoring, reading.item_list,
                                                                      config_path))
    first, second = ("a", "b") if reading.obligations == "own" else ("b", "a")
    out = counted[["atopid", "ccode_a", "ccode_b", "year"]].copy()
    out["concessions1"], out["concessions2"] = counted[f"concessions_{first}"], counted[f"concessions_{second}"]
    missing = (counted["concessions_a_missing"] > 0) | (counted["concessions_b_missing"] > 0)
    keep = np.ones(len(out), bool)
    if reading.missing == "drop":
        keep &= ~missing.to_numpy()
    if reading.pacts == "with_concession":
        keep &= ((out["concessions1"] + out["concessions2"]) > 0).to_numpy()
    out = out[keep].reset_index(drop=True)
    if out.empty:
        raise ValueError(f"concession reading ({reading.label}): no pact rows are left")
    return out


def reading_statistics(rows: pd.DataFrame) -> dict[str, float]:
    """Table 5's statistics of concessions1 and concessions2 (keys like `concessions1_mean`), as the panel check
    computes them (data_prep.checks.summary_statistics)."""
    table = summary_statistics(rows, list(MEASURES.values()))
    return {f"{measure}_{k}": float(v) for measure, values in table.iterrows() for k, v in values.items()}


def paper_targets(reference: pd.DataFrame) -> dict[str, tuple[float, bool]]:
    """The paper's Table 5 values of both measures from the reference table: key -> (value, rounded)."""
    targets = {}
    for variable, measure in MEASURES.items():
        for row in reference[reference["variable"] == variable].itertuples():
            targets[f"{measure}_{row.statistic}"] = (float(row.paper_value), "rounded" in str(row.source))
    return targets


def distance(stats: dict[str, float], targets: dict[str, tuple[float, bool]]) -> float:
    """How far a reading's statistics lie from the paper's: N's gap as a share of the paper's N, every other
    statistic's gap beyond the paper's rounding, in units of the paper's sd (2 concessions), summed over both
    measures. 0 where every statistic agrees up to rounding."""
    total = 0.0
    for key, (value, rounded) in targets.items():
        gap = abs(stats[key] - value)
        if key.endswith("_n"):
            total += gap / value
            continue
        scale = targets.get(f"{key.split('_')[0]}_sd", (1.0, False))[0] or 1.0
        total += max(gap - (ROUNDING if rounded else 0.0), 0.0) / scale
    return total


def rank_readings(pact_rows: pd.DataFrame, atop_members: pd.DataFrame, reference: pd.DataFrame,
                  readings: list[Reading] | None = None, config_path=None) -> pd.DataFrame:
    """Every reading with its Table 5 statistics and distance to the paper's, closest first (ties in the
    readings' order)."""
    targets = paper_targets(reference)
    records = []
    for reading in readings or every_reading(item_lists(config_path)):
        stats = reading_statistics(reading_rows(pact_rows, atop_members, reading, config_path))
        records.append({**asdict(reading), **stats, "distance": round(distance(stats, targets), 4)})
    table = pd.DataFrame(records)
    return table.sort_values("distance", kind="stable").reset_index(drop=True)


def pact_rows(frame: pd.DataFrame, pacts: pd.DataFrame) -> pd.DataFrame:
    """The panel's new-pact rows (a long panel frame with new_defense_pact == 1) with their pact's atopid (the
    first, where a dyad formed two pacts in one year, as the panel keeps it)."""
    rows = frame.loc[frame["new_defense_pact"] == 1, ["ccode_a", "ccode_b", "year", "sample_controls"]]
    first = pacts.drop_duplicates(["ccode_a", "ccode_b", "year"])[["atopid", "ccode_a", "ccode_b", "year"]]
    return rows.merge(first, on=["ccode_a", "ccode_b", "year"], how="inner", validate="one_to_one")


def readings_inputs(data_dir, panel_path, config_path=None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The panel as a long frame, its new-pact rows with their atopid, and the ATOP member rows with every item
    list's columns: what ranking the readings and fitting Table 2 under them read."""
    from pathlib import Path

    from .atop import new_bilateral_defense_pacts
    from .concessions import member_item_columns
    from .panel import panel_to_frame, read_panel
    from .sources import RawData

    raw = RawData(Path(data_dir))
    columns = {}
    for item_list in item_lists(config_path):
        columns |= member_item_columns(raw, ConcessionOptions(item_list=item_list, config_path=config_path))
    members = raw.load("atop_members", extra=columns)
    pacts = new_bilateral_defense_pacts(raw.load("atop_alliances"), raw.load("atop_members"))
    frame = panel_to_frame(read_panel(panel_path))
    return frame, pact_rows(frame, pacts), members


def readings_markdown(table: pd.DataFrame, reference: pd.DataFrame, top: int = 8) -> str:
    """The ranking as Markdown: the paper's Table 5 row, then the `top` closest readings (the default first)."""
    targets = paper_targets(reference)
    choices = ["item_list", "scoring", "obligations", "pacts", "sample", "missing"]
    shown = [f"{m}_{s}" for m in MEASURES.values() for s in ("n", "mean", "sd", "median", "max")]
    paper = {**{c: "paper (Table 5)" if c == "item_list" else "" for c in choices},
             **{k: f"{targets[k][0]:g}{'~' if targets[k][1] else ''}" for k in shown if k in targets}, "distance": ""}
    rows = [paper] + [{c: row[c] for c in choices} | {k: f"{row[k]:.2f}".rstrip("0").rstrip(".") for k in shown}
                      | {"distance": f"{row['distance']:.3f}"} for _, row in table.head(top).iterrows()]
    return (f"Concession readings ranked by their distance to the paper's Table 5 ({len(table)} readings; `~`: "
            "rounded in the paper). Distance: N's gap as a share of the paper's N, every other statistic's gap "
            "beyond the paper's rounding in units of its sd, summed over concessions1 and 2. The first reading is "
            "the closest.\n\n" + pd.DataFrame(rows).to_markdown(index=False) + "\n")


def with_reading_counts(frame: pd.DataFrame, pact_rows_: pd.DataFrame, atop_members: pd.DataFrame,
                        reading: Reading, config_path=None) -> pd.DataFrame:
    """A long panel frame with `concessions_a` and `concessions_b` counted under `reading` on every new-pact row
    (0 elsewhere): the outcomes of Table 2's models under that reading. Of the reading's choices, the items, the
    scoring, whose obligations and missing provisions change the counts (rows with a missing provision leave under
    "drop"); which pacts and which sample only change Table 5's statistics, since a hurdle's zero part already
    separates pacts with concessions from the rest and each model keeps its own sample."""
    from dataclasses import replace

    counted = reading_rows(pact_rows_, atop_members, replace(reading, pacts="every_pact", sample="panel"),
                           config_path)
    keys = ["ccode_a", "ccode_b", "year"]
    out = frame.drop(columns=["concessions_a", "concessions_b"], errors="ignore")
    out = out.merge(counted[[*keys, "concessions1", "concessions2"]], on=keys, how="left", validate="many_to_one")
    pact = out["new_defense_pact"] == 1
    if reading.missing == "drop":  # pact rows whose counts were dropped leave the data
        out = out[~(pact & out["concessions1"].isna())]
        pact = out["new_defense_pact"] == 1
    out["concessions_a"] = out["concessions1"].where(pact, 0.0).fillna(0.0)
    out["concessions_b"] = out["concessions2"].where(pact, 0.0).fillna(0.0)
    return out.drop(columns=["concessions1", "concessions2"])
