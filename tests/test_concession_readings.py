"""The readings of the concession measure (data_prep.concession_readings) on the hand-made ATOP rows of
test_concessions, with hand-computed counts, statistics and distances."""

from __future__ import annotations

import pandas as pd
import pytest
from test_concessions import config, members, pacts  # noqa: F401 - fixtures

from data_prep.concession_readings import (
    Reading,
    distance,
    every_reading,
    paper_targets,
    rank_readings,
    reading_rows,
    reading_statistics,
)


@pytest.fixture
def rows(pacts):  # noqa: F811 - the fixture of test_concessions
    """The pact rows as the panel gives them: alliance 2's first direction is outside the controls sample."""
    return pacts.assign(sample_controls=[True, True, False, True, True])


def autonomy(**choices) -> Reading:
    """A reading of the test table's autonomy list (x, y, z), which the hand counts below are for."""
    return Reading(**({"item_list": "autonomy"} | choices))


def counts(rows, members, config, **choices) -> list[tuple[int, int]]:  # noqa: F811
    out = reading_rows(rows, members, autonomy(**choices), config)
    return list(zip(out["concessions1"], out["concessions2"]))


def test_each_choice_of_a_reading(rows, members, config):  # noqa: F811
    # autonomy (x, y, z), binary: 100 has x, y, z; 200 only z (its y missing); 300 y, z and 400 x, z at formation
    assert counts(rows, members, config) == [(3, 1), (1, 3), (2, 2), (2, 2), (0, 0)]
    assert counts(rows, members, config, obligations="partner") == [(1, 3), (3, 1), (2, 2), (2, 2), (0, 0)]
    assert counts(rows, members, config, scoring="ordinal_sum")[:2] == [(6, 2), (2, 6)]  # y = 3, z = 2 added
    assert counts(rows, members, config, item_list="broad")[:2] == [(2, 1), (1, 2)]  # x and w; w credited to both
    assert counts(rows, members, config, pacts="with_concession") == [(3, 1), (1, 3), (2, 2), (2, 2)]
    assert counts(rows, members, config, sample="controls") == [(3, 1), (1, 3), (2, 2), (0, 0)]
    assert counts(rows, members, config, missing="drop") == [(2, 2), (2, 2)]  # 200's y and alliance 3 missing


def test_statistics_and_distance_to_the_paper():
    stats = reading_statistics(pd.DataFrame({"concessions1": [3, 1, 2, 2, 0], "concessions2": [3, 1, 2, 2, 0]}))
    assert {k[len("concessions1_"):]: v for k, v in stats.items() if k.startswith("concessions1_")} == pytest.approx(
        {"n": 5, "mean": 1.6, "sd": 1.1401754, "median": 2, "min": 0, "max": 3})
    reference = pd.DataFrame({"variable": ["concessions_a"] * 3, "statistic": ["n", "mean", "sd"],
                              "paper_value": [4, 2, 2], "source": ["Table 5", "Table 5 (rounded)", "Table 5 (rounded)"]})
    targets = paper_targets(reference)
    assert targets == {"concessions1_n": (4.0, False), "concessions1_mean": (2.0, True), "concessions1_sd": (2.0, True)}
    # N: 1 / 4; mean 1.6 within 2 +- 0.5: 0; sd 1.14: 0.86 - 0.5 beyond the rounding, over the sd 2
    assert distance({"concessions1_n": 5, "concessions1_mean": 1.6, "concessions1_sd": 1.1401754}, targets) == \
        pytest.approx(0.25 + (0.8598246 - 0.5) / 2)


def test_readings_are_ranked_closest_first(rows, members, config):  # noqa: F811
    reference = pd.DataFrame({"variable": ["concessions_a", "concessions_b"], "statistic": ["max", "max"],
                              "paper_value": [6, 6], "source": ["Table 5", "Table 5"]})
    table = rank_readings(rows, members, reference, config_path=config)
    assert len(table) == len(every_reading(("autonomy", "broad"))) == 64  # the lists with items in the table
    assert table["distance"].is_monotonic_increasing and table["distance"].iloc[0] == 0
    assert table.iloc[0]["scoring"] == "ordinal_sum"  # only the summed codes reach a maximum of 6


def test_bad_readings_are_refused(rows, members, config):  # noqa: F811
    with pytest.raises(ValueError, match="concession reading: obligations='mine'; allowed: own, partner"):
        autonomy(obligations="mine")
    empty = rows.assign(sample_controls=False)
    with pytest.raises(ValueError, match=r"concession reading \(.*sample=controls.*\): no pact rows are left"):
        reading_rows(empty, members, autonomy(sample="controls"), config)


def test_a_readings_counts_replace_the_panels_on_new_pact_rows(rows, members, config):  # noqa: F811
    from data_prep.concession_readings import with_reading_counts

    frame = rows[["ccode_a", "ccode_b", "year"]].assign(new_defense_pact=1, concessions_a=9, concessions_b=9)
    frame = pd.concat([frame, pd.DataFrame({"ccode_a": [100], "ccode_b": [300], "year": [1990],
                                            "new_defense_pact": [0], "concessions_a": [9], "concessions_b": [9]})])
    counted = with_reading_counts(frame, rows, members, autonomy(obligations="partner"), config)
    assert list(zip(counted["concessions_a"], counted["concessions_b"])) == [(1, 3), (3, 1), (2, 2), (2, 2), (0, 0),
                                                                             (0, 0)]
    dropped = with_reading_counts(frame, rows, members, autonomy(missing="drop"), config)
    assert len(dropped) == 3 and list(dropped["concessions_a"]) == [2, 2, 0]  # the rows without a missing item


def test_the_fitted_readings_are_the_closest_that_count_differently():
    from inference.table2_readings import fitted_readings

    ranked = pd.DataFrame([vars(r) | {"distance": d} for r, d in [
        (autonomy(obligations="own", sample="controls"), 1.0), (autonomy(obligations="own", sample="panel"), 1.1),
        (autonomy(scoring="ordinal_sum"), 1.2), (autonomy(missing="drop"), 1.3)]])
    chosen = fitted_readings(ranked, 2)
    assert chosen == [autonomy(sample="controls"), autonomy(scoring="ordinal_sum")]  # the second row counts the same
