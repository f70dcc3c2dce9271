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
