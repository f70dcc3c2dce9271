"""Shared fixtures: the real raw data directory (integration tests skip without it) and a short real panel."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "raw"


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    """The real raw data; absent data skips the test locally but fails it in CI, where ../shared must be there."""
    if not RAW.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"real raw data not found at {RAW} (CI must run with ../shared beside the clone)")
        pytest.skip(f"real raw data not found at {RAW}")
    return RAW


@pytest.fixture(scope="session")
def short_panel(raw_dir):
    """The real panel for 1960-1966 with default options (built once per test session)."""
    from data_prep.panel import PanelOptions, build_panel
    from data_prep.sources import RawData

    return build_panel(RawData(raw_dir), PanelOptions(start=1960, end=1966))


# The slowest test files of `make test` (seconds of work on 2 cores, measured 2026-12-06 with `slow` tests apart), run
# first: `make test` hands whole files to its two workers in collection order, so long files collected last would
# leave one worker busy alone at the end. The first two hold only `slow` tests, the longest of `make test-slow`.
SLOWEST_FIRST = ("test_make_all.py", "test_reproducibility.py", "test_model_layer.py", "test_cli.py",
                 "test_fault_injection_data.py", "test_bayes.py", "test_report.py", "test_fault_injection_cli.py",
                 "test_sensitivity.py", "test_priors.py", "test_panel.py", "test_calibration.py", "test_studies.py",
                 "test_warm_start.py", "test_robustness.py", "test_readme.py", "test_schemas.py",
                 "test_frequentist_regression.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the test files slowest first (a stable sort: each file keeps its own order)."""
    rank = {name: position for position, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
